/**
 * Map files (Globus/XSEDE format): "identity accounts" lines where the
 * identity is a username (user@idp.domain) or an identity UUID and the
 * accounts are separated by spaces or commas. Blank lines and `#` comments
 * are ignored; lines for the same identity merge.
 */
import { ConfigError } from '../shared/errors.js';

/** Identity (as written) -> local account names. Look keys up with mappedAccounts. */
export type AccountMap = Map<string, string[]>;

/** Case folding for ASCII only: a full-Unicode fold would make the Kelvin sign an ASCII "k". */
export const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

const folded = new WeakMap<AccountMap, AccountMap>();

/**
 * The accounts a map file gives `key`: exactly as written (an OIDC `sub` is
 * case-sensitive), or with `foldCase` ignoring ASCII case (Globus usernames
 * and UUIDs, email addresses).
 */
export function mappedAccounts(map: AccountMap, key: string, foldCase: boolean): string[] {
  if (!foldCase) return map.get(key) ?? [];
  let index = folded.get(map);
  if (!index) {
    index = new Map();
    for (const [k, accounts] of map) index.set(asciiLower(k), [...new Set([...(index.get(asciiLower(k)) ?? []), ...accounts])]);
    folded.set(map, index);
  }
  return index.get(asciiLower(key)) ?? [];
}

const ACCOUNT = /^[a-z_][a-z0-9_.-]*\$?$/i;

export function parseMapFile(text: string, file: string): AccountMap {
  const map: AccountMap = new Map();
  text.split('\n').forEach((raw, index) => {
    const tokens = raw.replace(/#.*/, '').split(/[\s,]+/).filter(Boolean);
    if (tokens.length === 0) return;
    const [identity, ...accounts] = tokens;
    if (accounts.length === 0) throw new ConfigError(file, `"${identity}" maps to no account; write: ${identity} ACCOUNT[, ACCOUNT...]`, index + 1);
    for (const a of accounts) if (!ACCOUNT.test(a)) throw new ConfigError(file, `"${a}" is not a valid account name`, index + 1);
    map.set(identity!, [...new Set([...(map.get(identity!) ?? []), ...accounts])]);
  });
  return map;
}

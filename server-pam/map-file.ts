/**
 * Map files (Globus/XSEDE format): "identity accounts" lines where the
 * identity is a username (user@idp.domain) or an identity UUID and the
 * accounts are separated by spaces or commas. Blank lines and `#` comments
 * are ignored; lines for the same identity merge.
 */
import { ConfigError } from '../shared/errors.js';

/** Identity (lower-cased username or UUID) -> local account names. */
export type AccountMap = Map<string, string[]>;

const ACCOUNT = /^[a-z_][a-z0-9_.-]*\$?$/i;

export function parseMapFile(text: string, file: string): AccountMap {
  const map: AccountMap = new Map();
  text.split('\n').forEach((raw, index) => {
    const tokens = raw.replace(/#.*/, '').split(/[\s,]+/).filter(Boolean);
    if (tokens.length === 0) return;
    const [identity, ...accounts] = tokens;
    if (accounts.length === 0) throw new ConfigError(file, `"${identity}" maps to no account; write: ${identity} ACCOUNT[, ACCOUNT...]`, index + 1);
    for (const a of accounts) if (!ACCOUNT.test(a)) throw new ConfigError(file, `"${a}" is not a valid account name`, index + 1);
    const key = identity!.toLowerCase();
    map.set(key, [...new Set([...(map.get(key) ?? []), ...accounts])]);
  });
  return map;
}

/**
 * Identities -> local accounts. Candidates come from idp_suffix (the part of
 * a linked identity's username before its FIRST '@', when the rest equals
 * the suffix) and from map files (keyed by username or identity UUID). A
 * candidate counts only if it exists (NSS), is not the query account, and is
 * not root, and at or above the UID floor, unless the config names it in allow_accounts.
 */
import type { LinkedIdentity } from '../shared/providers/provider.js';
import type { AccountMap } from './map-file.js';
import type { AccountLookup } from './passwd.js';

export interface MappingRules {
  idpSuffix: string | null;
  accountMap: AccountMap;
  minUid: number;
  allowAccounts: string[];
  queryAccount: string;
}

export interface MappedAccount {
  name: string;
  /** The linked identity that maps to it. */
  identity: LinkedIdentity;
}

export function candidateAccounts(identities: LinkedIdentity[], rules: MappingRules): MappedAccount[] {
  const out: MappedAccount[] = [];
  for (const identity of identities) {
    const at = identity.username.indexOf('@');
    if (rules.idpSuffix !== null && at > 0 && identity.username.slice(at + 1).toLowerCase() === rules.idpSuffix) {
      out.push({ name: identity.username.slice(0, at), identity });
    }
    for (const key of [identity.username.toLowerCase(), identity.id.toLowerCase()]) {
      for (const name of rules.accountMap.get(key) ?? []) out.push({ name, identity });
    }
  }
  const seen = new Set<string>();
  return out.filter((a) => !seen.has(a.name) && seen.add(a.name));
}

/** May `name` log in at all? It exists, is not the query account, and is not root or a system account unless allowed by name. */
export async function accountUsable(name: string, rules: MappingRules, lookup: AccountLookup): Promise<boolean> {
  if (name === rules.queryAccount) return false;
  const account = await lookup(name);
  if (!account) return false;
  // UID 0 and system accounts only by explicit choice, whatever min_uid says.
  return !((account.uid === 0 || account.uid < rules.minUid) && !rules.allowAccounts.includes(account.name));
}

export async function permittedAccounts(identities: LinkedIdentity[], rules: MappingRules, lookup: AccountLookup): Promise<MappedAccount[]> {
  const permitted: MappedAccount[] = [];
  for (const candidate of candidateAccounts(identities, rules)) {
    if (await accountUsable(candidate.name, rules, lookup)) permitted.push(candidate);
  }
  return permitted;
}

/**
 * The one account mapper: a verified Principal -> the local accounts it may
 * log in as. Which rules give accounts is chosen per provider by its
 * MappingProfile (configuration, never the token's shape):
 *   - idp_suffix: a linked identity `name@<suffix>` (split at the FIRST '@') gives `name`;
 *   - username claim: the claim, minus its suffix, plus its prefix, gives one name
 *     (an `email` claim only when `email_verified` is true);
 *   - map files: keyed by the identity (Globus username or UUID, ASCII case
 *     ignored), or for an OIDC issuer by `sub@issuer`, and, when it is the only
 *     provider map files apply to, by the bare `sub` and username-claim value
 *     (exact) and a VERIFIED email (ASCII case ignored);
 *   - SciTokens scope grants (`ssh:/USER`, `ssh:USER`), for the SciTokens profile
 *     only; names match whole, and a bare `ssh` grants nothing.
 * A candidate counts only if it exists (NSS), is not the query account, is
 * not root or below min_uid unless named in allow_accounts, and, with the
 * uid rule, has the uid the provider vouches for.
 */
import { claimAt } from '../shared/providers/oidc-issuer.js';
import type { LinkedIdentity, Principal } from '../shared/providers/provider.js';
import { asciiLower, mappedAccounts, type AccountMap } from './map-file.js';
import { ACCOUNT_NAME, type AccountLookup } from './passwd.js';

/** Rules for every login, whoever vouches for it. */
export interface AccountRules {
  accountMap: AccountMap;
  minUid: number;
  allowAccounts: string[];
  queryAccount: string;
}

/** Which mapping rules give accounts to one provider's tokens. */
export interface MappingProfile {
  idpSuffix: string | null;
  /**
   * What map files are keyed by for this provider: Globus identities; OIDC claims (`sub@issuer`, and the
   * bare values too when no other provider reads the map files); `sub@issuer` only; or nothing.
   */
  mapFileKeys: 'identity' | 'claims' | 'qualified' | 'none';
  usernameClaim: string | null;
  usernameSuffix: string | null;
  usernamePrefix: string | null;
  scopeGrants: boolean;
  /** The account's uid must equal the uid the provider vouches for (jwt_uid_claim). */
  uidRule: boolean;
}

export type MappingRuleName = 'idp_suffix' | 'username claim' | 'map file' | 'scope';

export interface MappedAccount {
  name: string;
  /** The linked identity that maps to it. */
  identity: LinkedIdentity;
  via: MappingRuleName;
}

/** Accounts a SciTokens scope names: `ssh:/USER` or `ssh:USER`, whole names only. A bare `ssh` names none. */
export function scopeGrantedAccounts(scopes: string[]): string[] {
  return scopes.flatMap((word) => {
    const m = /^ssh:\/?(.+)$/.exec(word);
    return m && ACCOUNT_NAME.test(m[1]!) ? [m[1]!] : [];
  });
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/** The username claim's value; an email only when verified (an unverified one is whatever the user typed). */
function usernameClaimValue(claims: Record<string, unknown>, profile: MappingProfile): string | null {
  if (!profile.usernameClaim) return null;
  if (profile.usernameClaim === 'email' && claims.email_verified !== true) return null;
  return str(claimAt(claims, profile.usernameClaim));
}

/** The account a username claim names, after the profile's suffix and prefix; null when it names none. */
function accountFromUsernameClaim(claims: Record<string, unknown>, profile: MappingProfile): string | null {
  const username = usernameClaimValue(claims, profile);
  if (!username) return null;
  const prefix = profile.usernamePrefix ?? '';
  if (!profile.usernameSuffix) return prefix + username;
  const local = username.slice(0, -profile.usernameSuffix.length);
  if (local === '' || asciiLower(username.slice(local.length)) !== asciiLower(profile.usernameSuffix)) return null;
  return prefix + local;
}

/** The map-file keys of one identity, each with whether ASCII case is ignored. */
function mapFileKeys(identity: LinkedIdentity, principal: Principal, profile: MappingProfile): Array<[string, boolean]> {
  if (profile.mapFileKeys === 'identity') return [[identity.username, true], [identity.id, true]];
  if (profile.mapFileKeys === 'none') return [];
  // sub@issuer names one person at one issuer: never ambiguous between providers.
  const qualified: Array<[string, boolean]> = [[`${principal.subject}@${principal.provider.issuer}`, false]];
  if (profile.mapFileKeys === 'qualified') return qualified;
  const c = principal.claims;
  const email = c.email_verified === true ? str(c.email) : null;
  const keys: Array<[string | null, boolean]> = [[str(c.sub), false], [usernameClaimValue(c, profile), false], [email, true]];
  return [...qualified, ...keys.filter((k): k is [string, boolean] => k[0] !== null)];
}

export function candidateAccounts(principal: Principal, profile: MappingProfile, accountMap: AccountMap): MappedAccount[] {
  const out: MappedAccount[] = [];
  for (const identity of principal.identities) {
    const at = identity.username.indexOf('@');
    if (profile.idpSuffix !== null && at > 0 && identity.username.slice(at + 1).toLowerCase() === profile.idpSuffix) {
      out.push({ name: identity.username.slice(0, at), identity, via: 'idp_suffix' });
    }
    const named = identity.id === principal.subject ? accountFromUsernameClaim(principal.claims, profile) : null;
    if (named) out.push({ name: named, identity, via: 'username claim' });
    for (const [key, fold] of mapFileKeys(identity, principal, profile)) {
      for (const name of mappedAccounts(accountMap, key, fold)) out.push({ name, identity, via: 'map file' });
    }
  }
  if (profile.scopeGrants) {
    const identity = principal.identities[0] ?? { id: principal.subject, username: principal.displayName, idp: null };
    for (const name of scopeGrantedAccounts(principal.scopes)) out.push({ name, identity, via: 'scope' });
  }
  const seen = new Set<string>();
  return out.filter((a) => !seen.has(a.name) && seen.add(a.name));
}

/** May `name` log in at all? It exists, is not the query account, and is not root or a system account unless allowed by name. */
export async function accountUsable(name: string, rules: AccountRules, lookup: AccountLookup, uid?: number | null): Promise<boolean> {
  if (name === rules.queryAccount) return false;
  const account = await lookup(name);
  if (!account) return false;
  // The uid rule: a provider that vouches for no uid (null) can match no account.
  if (uid !== undefined && account.uid !== uid) return false;
  // UID 0 and system accounts only by explicit choice, whatever min_uid says.
  return !((account.uid === 0 || account.uid < rules.minUid) && !rules.allowAccounts.includes(account.name));
}

export async function permittedAccounts(principal: Principal, profile: MappingProfile, rules: AccountRules, lookup: AccountLookup): Promise<MappedAccount[]> {
  const permitted: MappedAccount[] = [];
  for (const candidate of candidateAccounts(principal, profile, rules.accountMap)) {
    if (await accountUsable(candidate.name, rules, lookup, profile.uidRule ? principal.posixUid : undefined)) permitted.push(candidate);
  }
  return permitted;
}

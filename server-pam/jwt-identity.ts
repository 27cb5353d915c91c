/**
 * Identity rules for JWT access tokens from OpenID Connect providers
 * (Keycloak, Entra, IDCS...), beside the SciTokens scope rule: which local
 * account a token's claims name (a username claim with an optional suffix,
 * and map files keyed by sub, username or email), which groups may log in,
 * the POSIX uid rule (the claim must equal the account's uid from NSS, so
 * LDAP/SSSD users work), and session policy from the claims (authentication
 * age from auth_time, never iat; required acr or amr values).
 */
import { SessionViolationError } from '../shared/errors.js';
import { formatDuration } from '../shared/format.js';
import type { AccountMap } from './map-file.js';
import type { LocalAccount } from './passwd.js';

export interface JwtIdentityRules {
  /** Fetched with the token as Bearer for claims the token lacks (IDCS: /admin/v1/Me for POSIX attributes). */
  userinfoUrl: string | null;
  usernameClaim: string | null;
  usernameSuffix: string | null;
  /** Put before the username to form the account name (e.g. "ext_"). */
  usernamePrefix: string | null;
  groupsClaim: string | null;
  allowedGroups: string[];
  uidClaim: string | null;
  /** Seconds since auth_time; null = no limit. */
  maxAuthAge: number | null;
  acrValues: string[];
  amrValues: string[];
}

type Claims = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/** The accounts the claims name through the username claim and the map files. */
export function accountsFromClaims(claims: Claims, rules: JwtIdentityRules, accountMap: AccountMap): string[] {
  const names = new Set<string>();
  const username = rules.usernameClaim ? str(claims[rules.usernameClaim]) : null;
  if (username) {
    const prefix = rules.usernamePrefix ?? '';
    if (!rules.usernameSuffix) names.add(prefix + username);
    else if (username.toLowerCase().endsWith(rules.usernameSuffix.toLowerCase())) names.add(prefix + username.slice(0, -rules.usernameSuffix.length));
  }
  for (const key of [str(claims.sub), str(claims.preferred_username), str(claims.email), username]) {
    for (const account of key ? (accountMap.get(key.toLowerCase()) ?? []) : []) names.add(account);
  }
  return [...names];
}

function groupsOf(claims: Claims, claim: string): string[] {
  const v = claims[claim];
  return Array.isArray(v) ? v.filter((g): g is string => typeof g === 'string') : typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : [];
}

/** Throws SessionViolationError naming what the host requires. */
export function checkClaimsPolicy(claims: Claims, rules: JwtIdentityRules, now = Date.now() / 1000): void {
  if (rules.groupsClaim && rules.allowedGroups.length > 0) {
    const groups = groupsOf(claims, rules.groupsClaim);
    if (!groups.some((g) => rules.allowedGroups.includes(g))) throw new SessionViolationError(`this host admits members of ${rules.allowedGroups.join(', ')} only`);
  }
  if (rules.maxAuthAge !== null) {
    const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : null;
    if (authTime === null) throw new SessionViolationError('this host needs to know when you authenticated (auth_time), and the token does not say');
    if (now - authTime > rules.maxAuthAge) {
      throw new SessionViolationError(`you authenticated ${formatDuration(now - authTime)} ago; this host requires it within ${formatDuration(rules.maxAuthAge)}: log in again`);
    }
  }
  if (rules.acrValues.length > 0 && !rules.acrValues.includes(String(claims.acr ?? ''))) {
    throw new SessionViolationError(`this host requires an authentication of class ${rules.acrValues.join(' or ')} (e.g. MFA)`);
  }
  const amr = Array.isArray(claims.amr) ? claims.amr.map(String) : [];
  if (rules.amrValues.length > 0 && !amr.some((m) => rules.amrValues.includes(m))) {
    throw new SessionViolationError(`this host requires authentication by ${rules.amrValues.join(' or ')}`);
  }
}

/** A claim by name, or by a `/`-separated path into nested objects (SCIM extensions use ':' in their names). */
export function claimAt(claims: Claims, path: string): unknown {
  let value: unknown = claims;
  for (const key of path.split('/')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Claims)[key];
  }
  return value;
}

/** The POSIX rule: with a uid claim configured, it must equal the account's uid (from the token, else from userinfo). */
export function uidMatches(claims: Claims, rules: JwtIdentityRules, account: LocalAccount, userinfo: Claims = {}): boolean {
  if (!rules.uidClaim) return true;
  const value = claimAt(claims, rules.uidClaim) ?? claimAt(userinfo, rules.uidClaim);
  const uid = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  return uid === account.uid;
}

export function identityRulesSet(rules: JwtIdentityRules): boolean {
  return rules.usernameClaim !== null;
}

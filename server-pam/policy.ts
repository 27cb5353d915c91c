/**
 * The one session policy, for every provider (Globus/XSEDE semantics,
 * widened): with no rule set, any verified token passes. Otherwise the
 * principal's groups must meet the group rule, and at least one of its
 * authentications must satisfy every set condition at once: a permitted
 * IdP (UUID or domain; an OIDC issuer is its host), an age limit on
 * auth_time, MFA, and the acr / amr rules. A provider that does not report a
 * fact a rule needs (Glewlwyd sends no auth_time) is refused with the claim
 * named, never waved through. A violation explains itself.
 */
import { SessionViolationError } from '../shared/errors.js';
import { formatDuration } from '../shared/format.js';
import type { Authentication, Principal } from '../shared/providers/provider.js';
import { sanitizeForTerminal } from '../shared/sanitize.js';

export interface SessionPolicy {
  /** IdP UUIDs or domains, lower case; empty = any. */
  permittedIdps: string[];
  /** Seconds since auth_time; null = no limit (authentication_timeout and jwt_max_auth_age, the stricter). */
  maxAuthAge: number | null;
  mfa: boolean;
  /** One of these acr values is required; empty = no rule. */
  acrValues: string[];
  /** One of these amr entries is required; empty = no rule. */
  amrValues: string[];
  /** Membership in one of these groups is required; empty = no rule. */
  allowedGroups: string[];
}

/** How the user can meet the policy, worded for the path they came by (client or device flow). */
export interface PolicyAdvice {
  /** e.g. "run `oauth-ssh login HOST --force-login`". */
  freshLogin: string;
}

/** acr values that mean MFA, beside RFC 8176's "mfa" in amr. */
export const MFA_ACR_VALUES = ['https://refeds.org/profile/mfa', 'http://schemas.openid.net/pape/policies/2007/06/multi-factor'];

export function policyIsSet(policy: SessionPolicy): boolean {
  return policy.permittedIdps.length > 0 || policy.maxAuthAge !== null || policy.mfa || policy.acrValues.length > 0 || policy.amrValues.length > 0 || policy.allowedGroups.length > 0;
}

function idpPermitted(auth: Authentication, permitted: string[]): boolean {
  if (permitted.length === 0) return true;
  if (!auth.idp) return false;
  // By UUID or issuer URL exactly, or by one of the IdP's domains (an issuer's host: all its realms).
  return permitted.includes(auth.idp.id) || permitted.includes(auth.idp.id.toLowerCase()) || auth.idp.domains.some((d) => permitted.includes(d));
}

/** Tolerated clock difference: a login "in the future" beyond it proves nothing about its age. */
const CLOCK_SKEW_S = 60;
const fresh = (a: Authentication, maxAge: number | null, now: number) => maxAge === null || (a.authTime !== null && a.authTime <= now + CLOCK_SKEW_S && now - a.authTime <= maxAge);
const usedMfa = (a: Authentication) => Boolean(a.amr?.includes('mfa') || (a.acr !== null && MFA_ACR_VALUES.includes(a.acr)));
const mfaOk = (a: Authentication, mfa: boolean) => !mfa || usedMfa(a);
const acrOk = (a: Authentication, values: string[]) => values.length === 0 || (a.acr !== null && values.includes(a.acr));
const amrOk = (a: Authentication, values: string[]) => values.length === 0 || Boolean(a.amr?.some((m) => values.includes(m)));

/** Throws SessionViolationError naming what is wrong and what to do; returns the authentication that satisfied it. */
export function checkSessionPolicy(principal: Principal, policy: SessionPolicy, advice: PolicyAdvice, now = Date.now() / 1000): Authentication | undefined {
  if (!policyIsSet(policy)) return undefined;
  const { permittedIdps, maxAuthAge, mfa, acrValues, amrValues, allowedGroups } = policy;
  const issuer = sanitizeForTerminal(principal.provider.name);
  // The user cannot fix a provider that does not send a claim: say so, and whom to ask.
  const notSent = (what: string, ...claims: string[]) => {
    const unreadable = claims.filter((c) => principal.unreadableClaims.includes(c));
    if (unreadable.length) return new SessionViolationError(`this host's policy needs the ${what} of your login, and tokens from ${issuer} carry ${unreadable.join(', ')} in a form this host cannot read; ask this host's administrator`);
    return new SessionViolationError(`this host's policy needs the ${what} of your login, and tokens from ${issuer} carry none (the provider does not send it); ask this host's administrator`);
  };

  if (allowedGroups.length > 0) {
    if (principal.groups === null) throw notSent('groups', ...principal.unreadableClaims);
    if (!principal.groups.some((g) => allowedGroups.includes(g))) throw new SessionViolationError(`this host admits members of ${allowedGroups.join(', ')} only`);
  }
  const all = principal.authentications;
  const ok = all.find((a) => idpPermitted(a, permittedIdps) && fresh(a, maxAuthAge, now) && mfaOk(a, mfa) && acrOk(a, acrValues) && amrOk(a, amrValues));
  if (ok || (all.length === 0 && !policyNeedsAuthentication(policy))) return ok;

  const fix = advice.freshLogin;
  if (all.length === 0) throw new SessionViolationError(`the token carries no record of your login, which this host's policy needs: ${fix}`);
  const fromPermitted = all.filter((a) => idpPermitted(a, permittedIdps));
  if (fromPermitted.length === 0) {
    const used = [...new Set(all.map((a) => sanitizeForTerminal(a.idp?.name ?? 'an unknown identity provider')))];
    throw new SessionViolationError(`this host accepts logins only from ${permittedIdps.join(', ')}; your session is from ${used.join(', ') || 'no identity provider'}: ${fix} and sign in with one of those`);
  }
  if (maxAuthAge !== null && !fromPermitted.some((a) => fresh(a, maxAuthAge, now))) {
    const known = fromPermitted.filter((a) => a.authTime !== null);
    if (known.length === 0) throw notSent('authentication time (auth_time)', 'auth_time');
    const newest = known.reduce((a, b) => (a.authTime! >= b.authTime! ? a : b));
    if (newest.authTime! > now + CLOCK_SKEW_S) throw new SessionViolationError(`your login's time (auth_time) is in the future; check the clocks of this host and of ${issuer}`);
    throw new SessionViolationError(
      `your last login at ${sanitizeForTerminal(newest.idp?.name ?? 'your identity provider')} was ${formatDuration(now - newest.authTime!)} ago; this host requires one within ${formatDuration(maxAuthAge)}: ${fix}`,
    );
  }
  const candidates = fromPermitted.filter((a) => fresh(a, maxAuthAge, now));
  if (mfa && !candidates.some(usedMfa)) {
    if (candidates.every((a) => a.amr === null && a.acr === null)) throw notSent('authentication methods (amr or acr)', 'amr', 'acr');
    throw new SessionViolationError(`this host requires multi-factor authentication (MFA) and your recent login did not use it: ${fix} and use MFA`);
  }
  if (acrValues.length > 0 && !candidates.some((a) => acrOk(a, acrValues))) {
    if (candidates.every((a) => a.acr === null)) throw notSent('authentication class (acr)', 'acr');
    throw new SessionViolationError(`this host requires an authentication of class ${acrValues.join(' or ')} (e.g. MFA): ${fix}`);
  }
  if (amrValues.length > 0 && !candidates.some((a) => amrOk(a, amrValues))) {
    if (candidates.every((a) => a.amr === null)) throw notSent('authentication methods (amr)', 'amr');
    throw new SessionViolationError(`this host requires authentication by ${amrValues.join(' or ')}: ${fix}`);
  }
  throw new SessionViolationError(`no single login of your session meets all of this host's requirements at once: ${fix}`);
}

/** Rules that read an authentication (any rule but the group rule). */
function policyNeedsAuthentication(policy: SessionPolicy): boolean {
  return policy.permittedIdps.length > 0 || policy.maxAuthAge !== null || policy.mfa || policy.acrValues.length > 0 || policy.amrValues.length > 0;
}

/** The Globus/XSEDE policy reply, describing what is really enforced (plus our extra fields, which GO's client ignores). */
export function policyDescription(policy: SessionPolicy, issuers: string[]): Record<string, unknown> {
  return {
    permitted_idps: policy.permittedIdps.length ? policy.permittedIdps : null,
    // GO's unit is minutes; round down so a client that honours it never logs in too late.
    authentication_timeout: policy.maxAuthAge === null ? null : Math.max(1, Math.floor(policy.maxAuthAge / 60)),
    max_auth_age: policy.maxAuthAge,
    mfa: policy.mfa,
    acr_values: policy.acrValues.length ? policy.acrValues : null,
    amr_values: policy.amrValues.length ? policy.amrValues : null,
    groups: policy.allowedGroups.length ? policy.allowedGroups : null,
    issuers,
  };
}

/**
 * Session policy (Globus/XSEDE semantics): with none of permitted_idps,
 * authentication_timeout and mfa set, any valid token passes. Otherwise at
 * least one authentication in the session must satisfy every set condition
 * at once. A violation explains itself in words the user can act on.
 */
import { SessionViolationError } from '../shared/errors.js';
import type { SessionAuthentication, VerifiedToken } from '../shared/providers/provider.js';
import { formatDuration } from '../shared/format.js';
import { sanitizeForTerminal } from '../shared/sanitize.js';

export interface SessionPolicy {
  /** IdP UUIDs or domains, lower case; empty = any. */
  permittedIdps: string[];
  /** Minutes, or null for no limit. */
  authenticationTimeout: number | null;
  mfa: boolean;
}

export function policyIsSet(policy: SessionPolicy): boolean {
  return policy.permittedIdps.length > 0 || policy.authenticationTimeout !== null || policy.mfa;
}

function idpPermitted(auth: SessionAuthentication, permitted: string[]): boolean {
  if (permitted.length === 0) return true;
  if (!auth.idp) return false;
  return permitted.includes(auth.idp.id) || auth.idp.domains.some((d) => permitted.includes(d));
}

const fresh = (auth: SessionAuthentication, minutes: number | null, now: number) => minutes === null || now - auth.authTime <= minutes * 60;
const mfaOk = (auth: SessionAuthentication, mfa: boolean) => !mfa || auth.amr.includes('mfa');

/** Throws SessionViolationError naming what is wrong and what to run; `host` goes into the advice. */
export function checkSessionPolicy(token: VerifiedToken, policy: SessionPolicy, host: string, now = Date.now() / 1000): SessionAuthentication | undefined {
  if (!policyIsSet(policy)) return undefined;
  const { permittedIdps, authenticationTimeout, mfa } = policy;
  const ok = token.authentications.find((a) => idpPermitted(a, permittedIdps) && fresh(a, authenticationTimeout, now) && mfaOk(a, mfa));
  if (ok) return ok;

  const fix = `run \`oauth-ssh login ${host} --force-login\``;
  const fromPermitted = token.authentications.filter((a) => idpPermitted(a, permittedIdps));
  if (fromPermitted.length === 0) {
    const used = [...new Set(token.authentications.map((a) => sanitizeForTerminal(a.idp?.name ?? 'an unknown identity provider')))];
    throw new SessionViolationError(
      `this host accepts logins only from ${permittedIdps.join(', ')}; your session is from ${used.join(', ') || 'no identity provider'}: ${fix} and sign in with one of those`,
    );
  }
  const newest = fromPermitted.reduce((a, b) => (a.authTime >= b.authTime ? a : b));
  if (!fromPermitted.some((a) => fresh(a, authenticationTimeout, now))) {
    throw new SessionViolationError(
      `your last login at ${sanitizeForTerminal(newest.idp?.name ?? 'your identity provider')} was ${formatDuration(now - newest.authTime)} ago; this host requires one within ${authenticationTimeout} min: ${fix}`,
    );
  }
  throw new SessionViolationError(`this host requires multi-factor authentication (MFA) and your recent login did not use it: ${fix} and use MFA`);
}

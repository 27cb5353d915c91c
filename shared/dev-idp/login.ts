/**
 * Recording an authentication: which identity, at which IdP, when, and with
 * which methods. Used by the browser pages, the device page and the
 * non-interactive approvals of the control API alike.
 */
import type { DevIdpContext } from './context.js';
import { OAuthHttpError } from './http.js';
import { nowSeconds, type Session } from './state.js';

export interface LoginInput {
  /** Identity UUID or username. */
  identity: string;
  mfa: boolean;
  /** Seconds since the authentication happened (lets tests make sessions old). */
  authAge: number;
}

/**
 * Authenticates `identity`. If `existing` belongs to the same account the
 * authentication is added to it (as Globus sessions accumulate identities);
 * otherwise a new session starts.
 */
export function authenticate(ctx: DevIdpContext, input: LoginInput, existing?: Session): Session {
  const found = ctx.directory.identity(input.identity);
  if (!found) throw new OAuthHttpError(400, 'invalid_request', `unknown identity "${input.identity}"`);
  const auth = {
    idp: found.identity.idp,
    authTime: nowSeconds() - input.authAge,
    amr: input.mfa ? ['pwd', 'mfa'] : ['pwd'],
  };
  const sub = ctx.directory.primaryIdentity(found.user).id;
  if (existing && existing.sub === sub) {
    existing.authentications.set(found.identity.id, auth);
    existing.lastIdentity = found.identity.id;
    return existing;
  }
  return ctx.state.newSession(sub, found.identity.id, auth);
}

export function parseLoginInput(raw: { identity?: unknown; username?: unknown; mfa?: unknown; auth_age?: unknown }): LoginInput {
  const identity = raw.identity ?? raw.username;
  if (typeof identity !== 'string' || identity === '') throw new OAuthHttpError(400, 'invalid_request', 'give "identity" (a UUID or username)');
  const mfa = raw.mfa === true || raw.mfa === 'true' || raw.mfa === '1';
  const age = raw.auth_age === undefined ? 0 : Number(raw.auth_age);
  if (!Number.isInteger(age) || age < 0) throw new OAuthHttpError(400, 'invalid_request', '"auth_age" must be a whole number of seconds >= 0');
  return { identity, mfa, authAge: age };
}

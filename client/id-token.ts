/**
 * What the client shows about a login (identity, IdP, auth time) comes from
 * the id_token that arrives with the tokens over TLS from the authorization
 * server. It is display-only: the SSH server decides with its own
 * introspection, so no signature check is needed here.
 */
import { decodeJwt } from 'jose';

export interface LoginFacts {
  identity: string | null;
  idp: string | null;
  idpId: string | null;
  authTime: number | null;
  mfa: boolean | null;
}

const NO_FACTS: LoginFacts = { identity: null, idp: null, idpId: null, authTime: null, mfa: null };

type Claims = Record<string, unknown>;

export function loginFacts(idToken: string | null): LoginFacts {
  if (!idToken) return NO_FACTS;
  let claims: Claims;
  try {
    claims = decodeJwt(idToken) as Claims;
  } catch {
    return NO_FACTS;
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  // A human name: Glewlwyd's id_token, for one, has no preferred_username but sub and name.
  let identity = str(claims.preferred_username) ?? str(claims.email) ?? str(claims.name) ?? str(claims.sub);
  let idp = str(claims.identity_provider_display_name);
  let idpId = str(claims.identity_provider);
  let authTime = typeof claims.auth_time === 'number' ? claims.auth_time : null;
  let amr = Array.isArray(claims.amr) ? (claims.amr as unknown[]) : null;
  // Globus: the session's latest authentication says which linked identity logged in, where.
  const info = claims.session_info as { authentications?: Record<string, { auth_time?: number; idp?: string; amr?: unknown[] }> } | undefined;
  const latest = Object.entries(info?.authentications ?? {}).sort(([, a], [, b]) => (b.auth_time ?? 0) - (a.auth_time ?? 0))[0];
  if (latest) {
    const linked = (Array.isArray(claims.identity_set) ? (claims.identity_set as Claims[]) : []).find((i) => i.sub === latest[0]);
    identity = str(linked?.username) ?? identity;
    idp = str(linked?.identity_provider_display_name) ?? idp;
    idpId = str(latest[1].idp) ?? idpId;
    authTime = latest[1].auth_time ?? authTime;
    amr = Array.isArray(latest[1].amr) ? latest[1].amr : amr;
  }
  return { identity, idp, idpId, authTime, mfa: amr === null ? null : amr.includes('mfa') };
}

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
  authTime: number | null;
}

type Claims = Record<string, unknown>;

export function loginFacts(idToken: string | null): LoginFacts {
  if (!idToken) return { identity: null, idp: null, authTime: null };
  let claims: Claims;
  try {
    claims = decodeJwt(idToken) as Claims;
  } catch {
    return { identity: null, idp: null, authTime: null };
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  let identity = str(claims.preferred_username);
  let idp = str(claims.identity_provider_display_name);
  let authTime = typeof claims.auth_time === 'number' ? claims.auth_time : null;
  // Globus: the session's latest authentication says which linked identity logged in, where.
  const info = claims.session_info as { authentications?: Record<string, { auth_time?: number }> } | undefined;
  const latest = Object.entries(info?.authentications ?? {}).sort(([, a], [, b]) => (b.auth_time ?? 0) - (a.auth_time ?? 0))[0];
  if (latest) {
    const linked = (Array.isArray(claims.identity_set) ? (claims.identity_set as Claims[]) : []).find((i) => i.sub === latest[0]);
    identity = str(linked?.username) ?? identity;
    idp = str(linked?.identity_provider_display_name) ?? idp;
    authTime = latest[1].auth_time ?? authTime;
  }
  return { identity, idp, authTime };
}

/**
 * Globus Auth answers a token request with one token per resource server:
 * the first at the top level, the rest in `other_tokens`. Both the client
 * and the server's device flow need the one whose scope names the SSH host.
 */
import { isObject } from '../json.js';

export interface ScopedToken {
  accessToken: string;
  refreshToken: string | null;
  expiresIn: number;
  scope: string;
}

export function tokenForScope(body: unknown, scope: string): ScopedToken | null {
  if (!isObject(body)) return null;
  const candidates = [body, ...(Array.isArray(body.other_tokens) ? body.other_tokens.filter(isObject) : [])];
  const match = candidates.find((c) => typeof c.scope === 'string' && c.scope.split(/\s+/).includes(scope));
  if (!match || typeof match.access_token !== 'string') return null;
  return {
    accessToken: match.access_token,
    refreshToken: typeof match.refresh_token === 'string' ? match.refresh_token : null,
    expiresIn: typeof match.expires_in === 'number' ? match.expires_in : 3600,
    scope: String(match.scope),
  };
}

/**
 * Scopes and the resource servers that own them, as Globus Auth splits them:
 * identity scopes belong to auth.globus.org, and each SSH service client owns
 * `<prefix><fqdn>/ssh` for each of its FQDNs and `<prefix><client_id>/ssh`.
 * A token is issued per resource server.
 */
import type { Directory } from './directory.js';
import { OAuthHttpError } from './http.js';

export const AUTH_RESOURCE_SERVER = 'auth.globus.org';
export const VIEW_IDENTITIES = 'urn:globus:auth:scope:auth.globus.org:view_identities';
const IDENTITY_SCOPES = new Set(['openid', 'profile', 'email', VIEW_IDENTITIES]);

/** Resource server (a client id, or auth.globus.org) -> the scopes requested of it. */
export type ScopesByResourceServer = Map<string, string[]>;

export function parseScope(raw: string | undefined): string[] {
  const scopes = (raw ?? '').split(/\s+/).filter(Boolean);
  return [...new Set(scopes)];
}

/**
 * `offline_access` (OIDC) asks for refresh tokens, as Globus's access_type=offline
 * does; it is a flag, not a scope of any resource server, so it is taken out here.
 */
export function requestedScopes(raw: string | undefined, accessType: string | undefined): { scopes: string[]; offline: boolean } {
  const all = parseScope(raw);
  return { scopes: all.filter((s) => s !== 'offline_access'), offline: accessType === 'offline' || all.includes('offline_access') };
}

export function resourceServerOf(scope: string, directory: Directory): string | undefined {
  if (IDENTITY_SCOPES.has(scope)) return AUTH_RESOURCE_SERVER;
  const prefix = directory.config.scopePrefix;
  if (!scope.startsWith(prefix) || !scope.endsWith('/ssh')) return undefined;
  const owner = scope.slice(prefix.length, -'/ssh'.length).toLowerCase();
  const byId = directory.client(owner);
  if (byId) return byId.id;
  const byFqdn = directory.clientsByFqdn(owner);
  return byFqdn.length === 1 ? byFqdn[0]!.id : undefined;
}

export function groupScopes(scopes: string[], directory: Directory): ScopesByResourceServer {
  if (scopes.length === 0) throw new OAuthHttpError(400, 'invalid_scope', 'no scope requested');
  const groups: ScopesByResourceServer = new Map();
  for (const scope of scopes) {
    const rs = resourceServerOf(scope, directory);
    if (!rs) throw new OAuthHttpError(400, 'invalid_scope', `unknown scope "${scope}"`);
    groups.set(rs, [...(groups.get(rs) ?? []), scope]);
  }
  return groups;
}

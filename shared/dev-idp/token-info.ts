/**
 * Endpoints about existing tokens: introspection (RFC 7662, Globus-shaped),
 * revocation (RFC 7009), Globus's validate, and OIDC userinfo.
 */
import { authenticateClient } from './client-auth.js';
import type { DevIdpContext } from './context.js';
import { json, OAuthHttpError, param, type DevRequest, type DevResponse, type Router } from './http.js';
import { AUTH_RESOURCE_SERVER } from './scopes.js';
import { activeToken, introspectionView } from './tokens.js';
import { accountClaims } from './views.js';

function introspect(ctx: DevIdpContext, req: DevRequest): DevResponse {
  const { client } = authenticateClient(req, ctx.directory, { requireSecret: true });
  const stored = activeToken(ctx, param(req, 'token'));
  // Only the resource server a token is for (or the client it was issued to) may see inside it.
  if (!stored || (stored.resourceServer !== client.id && stored.clientId !== client.id)) return json(200, { active: false });
  const include = new Set((req.form.get('include') ?? '').split(',').map((s) => s.trim()));
  return json(200, introspectionView(ctx, stored, include));
}

function revoke(ctx: DevIdpContext, req: DevRequest): DevResponse {
  const { client } = authenticateClient(req, ctx.directory, { requireSecret: false });
  const stored = ctx.state.token(param(req, 'token'));
  if (stored) {
    if (stored.clientId !== client.id) throw new OAuthHttpError(400, 'unauthorized_client', 'this token was issued to another client');
    // RFC 7009 2.1: revoking a refresh token revokes the access tokens of the same grant too.
    if (stored.kind === 'refresh') ctx.state.revokeFamily(stored.family);
    else stored.revoked = true;
  }
  // RFC 7009 2.2: unknown tokens are not an error.
  return json(200, { active: false });
}

function validate(ctx: DevIdpContext, req: DevRequest): DevResponse {
  const { client } = authenticateClient(req, ctx.directory, { requireSecret: false });
  const stored = activeToken(ctx, param(req, 'token'));
  return json(200, { active: stored !== undefined && stored.clientId === client.id });
}

function bearerToken(req: DevRequest): string | undefined {
  const header = req.headers.authorization;
  return header && /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
}

function userinfo(ctx: DevIdpContext, req: DevRequest): DevResponse {
  const token = bearerToken(req);
  const stored = token === undefined ? undefined : activeToken(ctx, token);
  const session = stored && ctx.state.session(stored.sessionId);
  if (!stored || !session || stored.resourceServer !== AUTH_RESOURCE_SERVER || !stored.scopes.includes('openid')) {
    return json(401, { error: 'invalid_token', error_description: 'a valid access token with the openid scope is required' }, {
      'www-authenticate': 'Bearer error="invalid_token"',
    });
  }
  const claims = accountClaims(ctx.directory, session);
  const body: Record<string, unknown> = { sub: claims.sub };
  if (stored.scopes.includes('profile')) {
    Object.assign(body, {
      preferred_username: claims.preferred_username,
      name: claims.name,
      organization: claims.organization,
      identity_provider: claims.identity_provider,
      identity_provider_display_name: claims.identity_provider_display_name,
    });
  }
  if (stored.scopes.includes('email')) body.email = claims.email;
  if (stored.scopes.some((s) => s.endsWith('view_identities'))) body.identity_set = claims.identity_set;
  return json(200, body);
}

export function addTokenInfoRoutes(router: Router, ctx: DevIdpContext): void {
  router
    .add('POST', '/v2/oauth2/token/introspect', (req) => introspect(ctx, req))
    .add('POST', '/v2/oauth2/token/revoke', (req) => revoke(ctx, req))
    .add('POST', '/v2/oauth2/token/validate', (req) => validate(ctx, req))
    .add('GET', '/v2/oauth2/userinfo', (req) => userinfo(ctx, req))
    .add('POST', '/v2/oauth2/userinfo', (req) => userinfo(ctx, req));
}

export { bearerToken };

/**
 * Issuing, refreshing and describing tokens. Globus Auth issues one access
 * token per resource server: the first is the top-level response, the rest
 * are in `other_tokens`. Refresh tokens are per resource server too and
 * rotate when the config says so; a rotated-out refresh token presented
 * again revokes its whole family (RFC 9700 4.14.2).
 */
import { randomUUID } from 'node:crypto';
import type { DevIdpContext } from './context.js';
import { OAuthHttpError } from './http.js';
import { AUTH_RESOURCE_SERVER, groupScopes } from './scopes.js';
import { newSecret, nowSeconds, type IssuedToken, type Session } from './state.js';
import { accountClaims, sessionInfoView } from './views.js';

export interface GrantInput {
  clientId: string;
  scopes: string[];
  session: Session;
  offline: boolean;
  nonce?: string | undefined;
}

interface ResourceServerToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  resource_server: string;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

function mayRefresh(ctx: DevIdpContext, clientId: string, offline: boolean): boolean {
  return offline && (ctx.directory.client(clientId)?.grantTypes.includes('refresh_token') ?? false);
}

async function issueForResourceServer(
  ctx: DevIdpContext,
  input: GrantInput,
  resourceServer: string,
  scopes: string[],
  family: string,
): Promise<ResourceServerToken> {
  const { lifetimes } = ctx.directory.config;
  const now = nowSeconds();
  const base = { clientId: input.clientId, resourceServer, scopes, sessionId: input.session.id, sub: input.session.sub, issuedAt: now, family, offline: input.offline, revoked: false };
  const accessToken = newSecret();
  ctx.state.storeToken(accessToken, { ...base, kind: 'access', expiresAt: now + lifetimes.accessToken });
  const response: ResourceServerToken = {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: lifetimes.accessToken,
    resource_server: resourceServer,
    scope: scopes.join(' '),
  };
  if (mayRefresh(ctx, input.clientId, input.offline)) {
    const refreshToken = newSecret();
    ctx.state.storeToken(refreshToken, { ...base, kind: 'refresh', expiresAt: now + lifetimes.refreshToken });
    response.refresh_token = refreshToken;
  }
  if (resourceServer === AUTH_RESOURCE_SERVER && scopes.includes('openid')) {
    response.id_token = await idToken(ctx, input.session, input.clientId, input.nonce);
  }
  return response;
}

async function idToken(ctx: DevIdpContext, session: Session, clientId: string, nonce: string | undefined): Promise<string> {
  const last = session.authentications.get(session.lastIdentity);
  const claims: Record<string, unknown> = {
    ...accountClaims(ctx.directory, session),
    auth_time: last?.authTime,
    amr: last?.amr,
    session_info: sessionInfoView(session),
  };
  if (nonce !== undefined) claims.nonce = nonce;
  return ctx.signer.sign(claims, ctx.issuer(), clientId, ctx.directory.config.lifetimes.accessToken);
}

/** Tokens for a fresh grant (authorization code or device code). Returns the families created. */
export async function issueGrant(ctx: DevIdpContext, input: GrantInput): Promise<{ body: Record<string, unknown>; families: string[] }> {
  const groups = [...groupScopes(input.scopes, ctx.directory)];
  // Globus puts the auth.globus.org token at the top when there is one.
  groups.sort(([a], [b]) => Number(b === AUTH_RESOURCE_SERVER) - Number(a === AUTH_RESOURCE_SERVER));
  const families: string[] = [];
  const tokens: ResourceServerToken[] = [];
  for (const [resourceServer, scopes] of groups) {
    const family = randomUUID();
    families.push(family);
    tokens.push(await issueForResourceServer(ctx, input, resourceServer, scopes, family));
  }
  const [first, ...others] = tokens;
  return { body: { ...first, other_tokens: others }, families };
}

/** The refresh_token grant for one resource server's refresh token. */
export async function refresh(ctx: DevIdpContext, clientId: string, refreshToken: string, requestedScope: string[] | undefined): Promise<Record<string, unknown>> {
  const stored = ctx.state.token(refreshToken);
  const now = nowSeconds();
  if (!stored || stored.kind !== 'refresh' || stored.clientId !== clientId) {
    throw new OAuthHttpError(400, 'invalid_grant', 'refresh token unknown or issued to another client');
  }
  if (stored.revoked) {
    if (ctx.directory.config.rotateRefreshTokens) ctx.state.revokeFamily(stored.family);
    throw new OAuthHttpError(400, 'invalid_grant', 'refresh token was revoked or already used');
  }
  if (stored.expiresAt <= now) throw new OAuthHttpError(400, 'invalid_grant', 'refresh token expired');
  const session = ctx.state.session(stored.sessionId);
  if (!session) throw new OAuthHttpError(400, 'invalid_grant', 'the session behind this refresh token has ended');
  let scopes = stored.scopes;
  if (requestedScope && requestedScope.length > 0) {
    const extra = requestedScope.filter((s) => !stored.scopes.includes(s));
    if (extra.length > 0) throw new OAuthHttpError(400, 'invalid_scope', `scope not originally granted: ${extra.join(' ')}`);
    scopes = requestedScope;
  }
  const rotate = ctx.directory.config.rotateRefreshTokens;
  if (rotate) stored.revoked = true;
  const input: GrantInput = { clientId, scopes, session, offline: rotate };
  const body = await issueForResourceServer(ctx, input, stored.resourceServer, scopes, stored.family);
  if (!rotate) body.refresh_token = refreshToken;
  return { ...body, other_tokens: [] };
}

export function activeToken(ctx: DevIdpContext, token: string, now = nowSeconds()): IssuedToken | undefined {
  const stored = ctx.state.token(token);
  if (!stored || stored.revoked || stored.expiresAt <= now) return undefined;
  return stored;
}

/** RFC 7662 response, with Globus's identities_set and session_info when asked for. */
export function introspectionView(ctx: DevIdpContext, stored: IssuedToken, include: Set<string>): Record<string, unknown> {
  const session = ctx.state.session(stored.sessionId);
  const primary = ctx.directory.identity(stored.sub);
  if (!session || !primary) return { active: false };
  const view: Record<string, unknown> = {
    active: true,
    token_type: 'Bearer',
    scope: stored.scopes.join(' '),
    client_id: stored.clientId,
    sub: primary.identity.id,
    username: primary.identity.username,
    name: primary.identity.name,
    email: primary.identity.email,
    aud: [stored.resourceServer],
    iss: ctx.issuer(),
    exp: stored.expiresAt,
    iat: stored.issuedAt,
    nbf: stored.issuedAt,
  };
  if (include.has('identities_set')) view.identities_set = primary.user.identities.map((i) => i.id);
  if (include.has('session_info')) view.session_info = sessionInfoView(session);
  return view;
}

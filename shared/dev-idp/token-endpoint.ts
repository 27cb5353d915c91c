/**
 * The token endpoint (authorization_code with PKCE, refresh_token, and the
 * RFC 8628 device_code grant) and the device authorization endpoint.
 */
import { createHash } from 'node:crypto';
import { authenticateClient } from './client-auth.js';
import { DEVICE_GRANT, type Client, type GrantType } from './config.js';
import type { DevIdpContext } from './context.js';
import { json, OAuthHttpError, param, optionalParam, type DevRequest, type DevResponse, type Router } from './http.js';
import { groupScopes, parseScope, requestedScopes } from './scopes.js';
import { newSecret, newUserCode, nowSeconds } from './state.js';
import { issueGrant, refresh } from './tokens.js';

/** Clients' polling timers fire late, not early; allow for network jitter between two polls. */
const POLL_JITTER_MS = 250;

function requireGrant(client: Client, grant: GrantType): void {
  if (!client.grantTypes.includes(grant)) throw new OAuthHttpError(400, 'unauthorized_client', `this client may not use the ${grant} grant`);
}

function pkceMatches(verifier: string, challenge: string): boolean {
  return createHash('sha256').update(verifier).digest('base64url') === challenge;
}

async function authorizationCodeGrant(ctx: DevIdpContext, req: DevRequest, client: Client): Promise<DevResponse> {
  requireGrant(client, 'authorization_code');
  const codeValue = param(req, 'code');
  const code = ctx.state.code(codeValue);
  if (!code || code.clientId !== client.id) throw new OAuthHttpError(400, 'invalid_grant', 'authorization code unknown or issued to another client');
  if (code.used) {
    // RFC 6749 4.1.2: a replayed code revokes what it produced.
    for (const family of code.families) ctx.state.revokeFamily(family);
    throw new OAuthHttpError(400, 'invalid_grant', 'authorization code was already used');
  }
  if (code.expiresAt <= nowSeconds()) throw new OAuthHttpError(400, 'invalid_grant', 'authorization code expired');
  if (optionalParam(req, 'redirect_uri') !== code.redirectUri) throw new OAuthHttpError(400, 'invalid_grant', 'redirect_uri does not match the authorization request');
  const verifier = optionalParam(req, 'code_verifier');
  if (code.codeChallenge !== undefined) {
    if (verifier === undefined) throw new OAuthHttpError(400, 'invalid_grant', 'code_verifier required (PKCE)');
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || !pkceMatches(verifier, code.codeChallenge)) {
      throw new OAuthHttpError(400, 'invalid_grant', 'code_verifier does not match the code_challenge');
    }
  } else if (verifier !== undefined) {
    throw new OAuthHttpError(400, 'invalid_grant', 'code_verifier given but the authorization request had no code_challenge');
  }
  code.used = true;
  const session = ctx.state.session(code.sessionId);
  if (!session) throw new OAuthHttpError(400, 'invalid_grant', 'the session behind this code has ended');
  const { body, families } = await issueGrant(ctx, { clientId: client.id, scopes: code.scopes, session, offline: code.offline, nonce: code.nonce });
  code.families.push(...families);
  return json(200, body);
}

async function deviceCodeGrant(ctx: DevIdpContext, req: DevRequest, client: Client): Promise<DevResponse> {
  requireGrant(client, DEVICE_GRANT);
  const device = ctx.state.device(param(req, 'device_code'));
  if (!device || device.clientId !== client.id) throw new OAuthHttpError(400, 'invalid_grant', 'device code unknown or issued to another client');
  const nowMs = Date.now();
  if (device.expiresAt * 1000 <= nowMs) throw new OAuthHttpError(400, 'expired_token', 'the device code expired; start a new device authorization');
  const tooSoon = device.lastPolledAt !== undefined && nowMs - device.lastPolledAt < device.interval * 1000 - POLL_JITTER_MS;
  device.lastPolledAt = nowMs;
  switch (device.status) {
    case 'consumed':
      throw new OAuthHttpError(400, 'invalid_grant', 'device code was already used');
    case 'denied':
      device.status = 'consumed';
      throw new OAuthHttpError(400, 'access_denied', 'the user denied the request');
    case 'pending':
      if (tooSoon) {
        device.interval += 5; // RFC 8628 3.5
        throw new OAuthHttpError(400, 'slow_down', `polling too fast; wait ${device.interval} s between requests`);
      }
      throw new OAuthHttpError(400, 'authorization_pending', 'the user has not yet approved');
    case 'approved': {
      const session = device.sessionId === undefined ? undefined : ctx.state.session(device.sessionId);
      if (!session) throw new OAuthHttpError(400, 'invalid_grant', 'the session behind this device code has ended');
      device.status = 'consumed';
      const { body } = await issueGrant(ctx, { clientId: client.id, scopes: device.scopes, session, offline: device.offline });
      return json(200, body);
    }
  }
}

async function token(ctx: DevIdpContext, req: DevRequest): Promise<DevResponse> {
  const { client } = authenticateClient(req, ctx.directory, { requireSecret: false });
  const grantType = param(req, 'grant_type');
  switch (grantType) {
    case 'authorization_code':
      return authorizationCodeGrant(ctx, req, client);
    case 'refresh_token':
      requireGrant(client, 'refresh_token');
      return json(200, await refresh(ctx, client.id, param(req, 'refresh_token'), optionalParam(req, 'scope') === undefined ? undefined : parseScope(optionalParam(req, 'scope'))));
    case DEVICE_GRANT:
      return deviceCodeGrant(ctx, req, client);
    default:
      throw new OAuthHttpError(400, 'unsupported_grant_type', `grant_type "${grantType}" is not supported`);
  }
}

function deviceAuthorization(ctx: DevIdpContext, req: DevRequest): DevResponse {
  const { client } = authenticateClient(req, ctx.directory, { requireSecret: false });
  requireGrant(client, DEVICE_GRANT);
  const { scopes, offline } = requestedScopes(optionalParam(req, 'scope'), optionalParam(req, 'access_type'));
  groupScopes(scopes, ctx.directory);
  const { deviceCode: lifetime, deviceInterval } = ctx.directory.config.lifetimes;
  const deviceCode = newSecret();
  let userCode = newUserCode();
  while (ctx.state.deviceByCode(userCode)) userCode = newUserCode();
  const now = nowSeconds();
  ctx.state.storeDevice(deviceCode, {
    userCode,
    clientId: client.id,
    scopes,
    offline,
    createdAt: now,
    expiresAt: now + lifetime,
    interval: deviceInterval,
    lastPolledAt: undefined,
    status: 'pending',
    sessionId: undefined,
  });
  const verificationUri = `${ctx.issuer()}/v2/web/device`;
  return json(200, {
    device_code: deviceCode,
    user_code: userCode,
    verification_uri: verificationUri,
    verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(userCode)}`,
    expires_in: lifetime,
    interval: deviceInterval,
  });
}

export function addTokenRoutes(router: Router, ctx: DevIdpContext): void {
  router
    .add('POST', '/v2/oauth2/token', (req) => token(ctx, req))
    .add('POST', '/v2/oauth2/device_authorization', (req) => deviceAuthorization(ctx, req));
}

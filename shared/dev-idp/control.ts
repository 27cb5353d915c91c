/**
 * The control API under /_dev/: lets tests and the demo act as the human
 * (approve a device code, auto-approve browser logins), shape sessions
 * (old, MFA or not, from which identity and so which IdP), expire tokens,
 * and inject faults (5xx, 429 with Retry-After, delays) that a healthy
 * server never produces. JSON in, JSON out; the server listens on loopback only.
 */
import type { DevIdpContext } from './context.js';
import { decideDevice } from './device-pages.js';
import { json, OAuthHttpError, type DevRequest, type Router } from './http.js';
import { parseLoginInput } from './login.js';
import { nowSeconds } from './state.js';

function body(req: DevRequest): Record<string, unknown> {
  const value = req.json ?? Object.fromEntries(req.form);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OAuthHttpError(400, 'invalid_request', 'send a JSON object');
  return value as Record<string, unknown>;
}

function identityAccount(ctx: DevIdpContext, key: unknown) {
  const found = typeof key === 'string' ? ctx.directory.identity(key) : undefined;
  if (!found) throw new OAuthHttpError(400, 'invalid_request', `unknown identity ${JSON.stringify(key)}`);
  return found;
}

function ageSessions(ctx: DevIdpContext, req: DevRequest) {
  const b = body(req);
  const { identity } = identityAccount(ctx, b.identity);
  const age = b.auth_age === undefined ? undefined : Number(b.auth_age);
  if (age !== undefined && (!Number.isInteger(age) || age < 0)) throw new OAuthHttpError(400, 'invalid_request', '"auth_age" must be whole seconds >= 0');
  let updated = 0;
  for (const session of ctx.state.sessions.values()) {
    const auth = session.authentications.get(identity.id);
    if (!auth) continue;
    if (age !== undefined) auth.authTime = nowSeconds() - age;
    if (b.mfa !== undefined) auth.amr = b.mfa === true ? ['pwd', 'mfa'] : ['pwd'];
    updated++;
  }
  return json(200, { updated });
}

function expireTokens(ctx: DevIdpContext, req: DevRequest) {
  const { user } = identityAccount(ctx, body(req).identity);
  const sub = ctx.directory.primaryIdentity(user).id;
  let expired = 0;
  for (const token of ctx.state.tokens.values()) {
    if (token.kind === 'access' && token.sub === sub && token.expiresAt > nowSeconds()) {
      token.expiresAt = nowSeconds() - 1;
      expired++;
    }
  }
  return json(200, { expired });
}

function setFault(ctx: DevIdpContext, req: DevRequest) {
  const b = body(req);
  const status = Number(b.status ?? 503);
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new OAuthHttpError(400, 'invalid_request', '"status" must be an HTTP status');
  const path = b.path ?? b.path_prefix;
  if (typeof path !== 'string' || !path.startsWith('/')) throw new OAuthHttpError(400, 'invalid_request', 'give "path_prefix" (or "path", matched exactly), starting with /');
  ctx.state.faults.push({
    pathPrefix: path,
    exact: b.path !== undefined,
    status,
    retryAfter: b.retry_after === undefined ? undefined : Number(b.retry_after),
    delayMs: Number(b.delay_ms ?? 0),
    remaining: b.count === undefined ? Infinity : Number(b.count),
    body: typeof b.body === 'string' ? b.body : undefined,
    contentType: typeof b.content_type === 'string' ? b.content_type : 'text/plain',
  });
  return json(200, { faults: ctx.state.faults.length });
}

export function addControlRoutes(router: Router, ctx: DevIdpContext): void {
  router
    .add('GET', '/_dev/health', () => json(200, { ok: true }))
    .add('GET', '/_dev/stats', () => json(200, { delayed_most_at_once: ctx.state.delayedMost }))
    .add('PUT', '/_dev/auto-approve', (req) => {
      const login = parseLoginInput(body(req));
      identityAccount(ctx, login.identity);
      ctx.state.autoApproval = { identity: login.identity, mfa: login.mfa, authAge: login.authAge };
      return json(200, { auto_approve: login.identity });
    })
    .add('DELETE', '/_dev/auto-approve', () => {
      ctx.state.autoApproval = undefined;
      return json(200, { auto_approve: null });
    })
    .add('GET', '/_dev/devices', () =>
      json(200, {
        pending: [...ctx.state.devices.values()]
          .filter((d) => d.status === 'pending' && d.expiresAt > nowSeconds())
          .map((d) => ({ user_code: d.userCode, client_id: d.clientId, scope: d.scopes.join(' '), expires_in: d.expiresAt - nowSeconds() })),
      }),
    )
    .add('POST', '/_dev/devices/:user_code/approve', (req, [userCode]) => {
      decideDevice(ctx, userCode!, parseLoginInput(body(req)));
      return json(200, { approved: true });
    })
    .add('POST', '/_dev/devices/:user_code/deny', (_req, [userCode]) => {
      decideDevice(ctx, userCode!, undefined);
      return json(200, { denied: true });
    })
    .add('POST', '/_dev/sessions/update', (req) => ageSessions(ctx, req))
    .add('POST', '/_dev/tokens/expire', (req) => expireTokens(ctx, req))
    .add('POST', '/_dev/faults', (req) => setFault(ctx, req))
    .add('DELETE', '/_dev/faults', () => {
      ctx.state.faults = [];
      return json(200, { faults: 0 });
    });
}

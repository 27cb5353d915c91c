/**
 * The authorization endpoint and the pages behind it: validate the request
 * (errors about the client or redirect URI are shown, never redirected, per
 * RFC 6749 4.1.2.1), then log in, ask consent, and redirect with a code.
 * With an auto-approval set through the control API, it answers at once.
 */
import { randomUUID } from 'node:crypto';
import type { DevIdpContext } from './context.js';
import { html, OAuthHttpError, redirect, type DevRequest, type DevResponse, type Router } from './http.js';
import { authenticate, type LoginInput } from './login.js';
import { authCodePage, consentPage, loginPage, messagePage } from './pages.js';
import { COPY_PASTE_PATH, redirectUriAllowed } from './redirect-uri.js';
import { groupScopes, requestedScopes } from './scopes.js';
import { newSecret, nowSeconds, type AuthorizationRequest, type Session } from './state.js';

const SESSION_COOKIE = 'devidp_session';
const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/; // base64url of a SHA-256

/** An error that goes back to the client through its redirect URI. */
function redirectError(request: Pick<AuthorizationRequest, 'redirectUri' | 'state'>, error: string, description: string): DevResponse {
  const url = new URL(request.redirectUri);
  url.searchParams.set('error', error);
  url.searchParams.set('error_description', description);
  if (request.state !== undefined) url.searchParams.set('state', request.state);
  return redirect(url.toString());
}

function sessionCookie(session: Session): Record<string, string> {
  return { 'set-cookie': `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Lax` };
}

function browserSession(ctx: DevIdpContext, req: DevRequest): Session | undefined {
  const id = req.cookies.get(SESSION_COOKIE);
  return id === undefined ? undefined : ctx.state.session(id);
}

function satisfiesRequiredIdentities(session: Session, required: string[]): boolean {
  return required.every((id) => session.authentications.has(id));
}

function complete(ctx: DevIdpContext, request: AuthorizationRequest, session: Session, extraHeaders: Record<string, string> = {}): DevResponse {
  ctx.state.authorizationRequests.delete(request.id);
  const code = newSecret();
  ctx.state.storeCode(code, {
    clientId: request.clientId,
    redirectUri: request.redirectUri,
    scopes: request.scopes,
    codeChallenge: request.codeChallenge,
    nonce: request.nonce,
    offline: request.offline,
    sessionId: session.id,
    expiresAt: nowSeconds() + ctx.directory.config.lifetimes.authorizationCode,
    used: false,
    families: [],
  });
  const url = new URL(request.redirectUri);
  url.searchParams.set('code', code);
  if (request.state !== undefined) url.searchParams.set('state', request.state);
  return redirect(url.toString(), extraHeaders);
}

function validateAuthorizeRequest(ctx: DevIdpContext, req: DevRequest): AuthorizationRequest | DevResponse {
  const q = req.url.searchParams;
  const clientId = q.get('client_id') ?? '';
  const client = ctx.directory.client(clientId);
  if (!client) return html(400, messagePage('Unknown client', `No client is registered with id "${clientId}".`));
  const redirectUri = q.get('redirect_uri') ?? '';
  if (!redirectUriAllowed(redirectUri, client.redirectUris, ctx.issuer())) {
    return html(400, messagePage('Bad redirect URI', `The redirect_uri "${redirectUri}" is not registered for client ${client.name}.`));
  }
  const { scopes, offline } = requestedScopes(q.get('scope') ?? undefined, q.get('access_type') ?? undefined);
  const request: AuthorizationRequest = {
    id: randomUUID(),
    clientId: client.id,
    redirectUri,
    scopes,
    state: q.get('state') ?? undefined,
    nonce: q.get('nonce') ?? undefined,
    codeChallenge: q.get('code_challenge') ?? undefined,
    offline,
    forceLogin: (q.get('prompt') ?? '').split(' ').includes('login'),
    requiredIdentities: (q.get('session_required_identities') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean),
    createdAt: nowSeconds(),
  };
  if (q.get('response_type') !== 'code') return redirectError(request, 'unsupported_response_type', 'response_type must be "code"');
  if (!client.grantTypes.includes('authorization_code')) return redirectError(request, 'unauthorized_client', 'this client may not use the authorization code grant');
  try {
    groupScopes(request.scopes, ctx.directory);
  } catch (err) {
    return redirectError(request, 'invalid_scope', (err as OAuthHttpError).description);
  }
  const method = q.get('code_challenge_method');
  if (request.codeChallenge !== undefined) {
    if (method !== 'S256') return redirectError(request, 'invalid_request', 'code_challenge_method must be S256');
    if (!PKCE_CHALLENGE.test(request.codeChallenge)) return redirectError(request, 'invalid_request', 'code_challenge must be 43 base64url characters');
  } else if (client.secret === null) {
    return redirectError(request, 'invalid_request', 'public clients must use PKCE (code_challenge with S256)');
  }
  const required: string[] = [];
  for (const key of request.requiredIdentities) {
    const found = ctx.directory.identity(key);
    if (!found) return redirectError(request, 'invalid_request', `session_required_identities names unknown identity ${key}`);
    required.push(found.identity.id);
  }
  return { ...request, requiredIdentities: required };
}

function authorize(ctx: DevIdpContext, req: DevRequest): DevResponse {
  const validated = validateAuthorizeRequest(ctx, req);
  if (!('clientId' in validated)) return validated;
  const request = validated;
  const client = ctx.directory.client(request.clientId)!;
  const auto = ctx.state.autoApproval;
  if (auto) {
    const found = ctx.directory.identity(auto.identity);
    if (!found || !request.requiredIdentities.every((id) => id === found.identity.id)) {
      return redirectError(request, 'access_denied', `auto-approval identity ${auto.identity} is not the required identity`);
    }
    return complete(ctx, request, authenticate(ctx, { identity: auto.identity, mfa: auto.mfa, authAge: auto.authAge }));
  }
  ctx.state.authorizationRequests.set(request.id, request);
  const session = browserSession(ctx, req);
  if (session && !request.forceLogin && satisfiesRequiredIdentities(session, request.requiredIdentities)) {
    return html(200, consentPage(request.id, client.name, ctx.directory.identity(session.lastIdentity)!.identity.username, request.scopes));
  }
  return html(200, loginPage(ctx.directory, request.id, client.name, request.requiredIdentities));
}

function pendingRequest(ctx: DevIdpContext, req: DevRequest): AuthorizationRequest {
  const request = ctx.state.authorizationRequests.get(req.form.get('request') ?? '');
  if (!request) throw new OAuthHttpError(400, 'invalid_request', 'this sign-in request expired or was already used; start again from the application');
  return request;
}

function login(ctx: DevIdpContext, req: DevRequest): DevResponse {
  const request = pendingRequest(ctx, req);
  const input: LoginInput = { identity: req.form.get('identity') ?? '', mfa: req.form.get('mfa') === '1', authAge: 0 };
  const session = authenticate(ctx, input, browserSession(ctx, req));
  if (!satisfiesRequiredIdentities(session, request.requiredIdentities)) {
    return html(400, messagePage('Wrong identity', 'This application requires a different identity; go back and choose it.'));
  }
  const client = ctx.directory.client(request.clientId)!;
  return html(200, consentPage(request.id, client.name, ctx.directory.identity(session.lastIdentity)!.identity.username, request.scopes), sessionCookie(session));
}

function consent(ctx: DevIdpContext, req: DevRequest): DevResponse {
  const request = pendingRequest(ctx, req);
  const session = browserSession(ctx, req);
  if (!session) return html(400, messagePage('Not signed in', 'Your sign-in session is gone; start again from the application.'));
  if (req.form.get('decision') !== 'allow') {
    ctx.state.authorizationRequests.delete(request.id);
    return redirectError(request, 'access_denied', 'the user denied the request');
  }
  return complete(ctx, request, session);
}

function copyPastePage(req: DevRequest): DevResponse {
  const error = req.url.searchParams.get('error');
  if (error) return html(400, messagePage('Authorization failed', `${error}: ${req.url.searchParams.get('error_description') ?? ''}`));
  const code = req.url.searchParams.get('code');
  if (!code) return html(400, messagePage('No code', 'This page shows an authorization code after you sign in; there is none here.'));
  return html(200, authCodePage(code));
}

export function addAuthorizeRoutes(router: Router, ctx: DevIdpContext): void {
  router
    .add('GET', '/v2/oauth2/authorize', (req) => authorize(ctx, req))
    .add('POST', '/v2/web/login', (req) => login(ctx, req))
    .add('POST', '/v2/web/consent', (req) => consent(ctx, req))
    .add('GET', COPY_PASTE_PATH, (req) => copyPastePage(req));
}

/**
 * Globus Auth's API endpoints that oauth-ssh uses: identities lookup (by id
 * or username, with their identity providers) and clients (by id, by fqdn,
 * and FQDN association).
 */
import { createHash } from 'node:crypto';
import { authenticateClient } from './client-auth.js';
import type { Client } from './config.js';
import type { DevIdpContext } from './context.js';
import { json, OAuthHttpError, type DevRequest, type DevResponse, type Router } from './http.js';
import { VIEW_IDENTITIES } from './scopes.js';
import { activeToken } from './tokens.js';
import { bearerToken } from './token-info.js';
import { identityProviderView, identityView, type IdentityView } from './views.js';

const FQDN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Either a confidential client (Basic) or a bearer token with view_identities. */
function requireApiCaller(ctx: DevIdpContext, req: DevRequest): void {
  const bearer = bearerToken(req);
  if (bearer !== undefined) {
    const stored = activeToken(ctx, bearer);
    if (!stored || !stored.scopes.includes(VIEW_IDENTITIES)) {
      throw new OAuthHttpError(401, 'invalid_token', 'token inactive or without the view_identities scope', { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    return;
  }
  authenticateClient(req, ctx.directory, { requireSecret: true });
}

/** Globus answers unknown usernames with a stable id and status "unused". */
function unusedIdentity(ctx: DevIdpContext, username: string): IdentityView {
  const hex = createHash('sha256').update(`unused:${username.toLowerCase()}`).digest('hex');
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  const domain = username.split('@').slice(1).join('@').toLowerCase();
  const idp = ctx.directory.config.identityProviders.find((p) => p.domains.includes(domain));
  return { id, username, status: 'unused', identity_type: 'login', identity_provider: idp?.id ?? null, name: null, email: null, organization: null };
}

function identities(ctx: DevIdpContext, req: DevRequest): DevResponse {
  requireApiCaller(ctx, req);
  const q = req.url.searchParams;
  const ids = q.get('ids');
  const usernames = q.get('usernames');
  if ((ids === null) === (usernames === null)) throw new OAuthHttpError(400, 'invalid_request', 'give exactly one of "ids" or "usernames"');
  const keys = (ids ?? usernames ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (keys.length > 100) throw new OAuthHttpError(400, 'invalid_request', 'at most 100 identities per request');
  const list = keys.flatMap((key): IdentityView[] => {
    const found = ctx.directory.identity(key);
    if (found) return [identityView(found.identity)];
    return usernames !== null ? [unusedIdentity(ctx, key)] : [];
  });
  const body: Record<string, unknown> = { identities: list };
  if ((q.get('include') ?? '').split(',').includes('identity_provider')) {
    const idpIds = [...new Set(list.map((i) => i.identity_provider).filter((x): x is string => x !== null))];
    body.included = { identity_providers: idpIds.map((id) => identityProviderView(ctx.directory.idp(id))) };
  }
  return json(200, body);
}

function clientView(client: Client) {
  return {
    id: client.id,
    name: client.name,
    public_client: client.secret === null,
    fqdns: client.fqdns,
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
  };
}

function clientAsItself(ctx: DevIdpContext, req: DevRequest, id: string): Client {
  const { client } = authenticateClient(req, ctx.directory, { requireSecret: true });
  if (client.id !== id.toLowerCase()) throw new OAuthHttpError(403, 'forbidden', 'a client may only read or change its own record');
  return client;
}

function clientsByFqdn(ctx: DevIdpContext, req: DevRequest): DevResponse {
  const fqdn = req.url.searchParams.get('fqdn');
  if (!fqdn) throw new OAuthHttpError(400, 'invalid_request', 'give "fqdn" to look a client up by host name');
  // Public look-up: only what a client needs to know to ask for the right scope.
  return json(200, { clients: ctx.directory.clientsByFqdn(fqdn).map((c) => ({ id: c.id, name: c.name, fqdns: c.fqdns })) });
}

function addFqdn(ctx: DevIdpContext, req: DevRequest, id: string): DevResponse {
  const client = clientAsItself(ctx, req, id);
  const fqdn = (req.form.get('fqdn') ?? '').toLowerCase().replace(/\.$/, '');
  if (!FQDN.test(fqdn)) throw new OAuthHttpError(400, 'invalid_request', `"${fqdn}" is not a fully qualified domain name`);
  const owner = ctx.directory.clientsByFqdn(fqdn)[0];
  if (owner && owner.id !== client.id) throw new OAuthHttpError(409, 'conflict', `${fqdn} is already registered to another client`);
  if (!client.fqdns.includes(fqdn)) client.fqdns.push(fqdn);
  return json(200, { client: clientView(client) });
}

export function addGlobusApiRoutes(router: Router, ctx: DevIdpContext): void {
  router
    .add('GET', '/v2/api/identities', (req) => identities(ctx, req))
    .add('GET', '/v2/api/clients', (req) => clientsByFqdn(ctx, req))
    .add('GET', '/v2/api/clients/:id', (req, [id]) => json(200, { client: clientView(clientAsItself(ctx, req, id!)) }))
    .add('POST', '/v2/api/clients/:id/fqdns', (req, [id]) => addFqdn(ctx, req, id!));
}

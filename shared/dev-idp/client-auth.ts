/**
 * OAuth client authentication (RFC 6749 2.3): HTTP Basic with form-encoded
 * id and secret, or client_id/client_secret in the body, or a public client
 * naming itself with client_id only.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Client } from './config.js';
import type { Directory } from './directory.js';
import { OAuthHttpError, type DevRequest } from './http.js';
import { secretHash } from '../secret-hash.js';

const INVALID_CLIENT_HEADERS = { 'www-authenticate': 'Basic realm="oauth-ssh-dev-idp"' };

function invalidClient(description: string): OAuthHttpError {
  return new OAuthHttpError(401, 'invalid_client', description, INVALID_CLIENT_HEADERS);
}

function sameSecret(given: string, expected: string): boolean {
  // Compare digests so that length differences do not leak through timing.
  return timingSafeEqual(Buffer.from(secretHash(given), 'hex'), Buffer.from(secretHash(expected), 'hex'));
}

function basicCredentials(req: DevRequest): { id: string; secret: string } | undefined {
  const header = req.headers.authorization;
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient('malformed Basic credentials');
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  } catch {
    throw invalidClient('malformed Basic credentials');
  }
}

export interface AuthenticatedClient {
  client: Client;
  /** True when a secret was presented and checked (not a public client naming itself). */
  confidential: boolean;
}

export function authenticateClient(req: DevRequest, directory: Directory, opts: { requireSecret: boolean }): AuthenticatedClient {
  const basic = basicCredentials(req);
  const bodyId = req.form.get('client_id');
  const bodySecret = req.form.get('client_secret');
  if (basic && bodySecret !== undefined) throw new OAuthHttpError(400, 'invalid_request', 'use one client authentication method, not both');
  const id = basic?.id ?? bodyId;
  if (!id) throw invalidClient('client authentication required (HTTP Basic or client_id)');
  if (basic && bodyId !== undefined && bodyId !== basic.id) throw new OAuthHttpError(400, 'invalid_request', 'client_id differs from the authenticated client');
  const client = directory.client(id);
  if (!client) throw invalidClient('unknown client');
  const secret = basic?.secret ?? bodySecret;
  if (client.secret !== null) {
    if (secret === undefined || !sameSecret(secret, client.secret)) throw invalidClient('client authentication failed');
    return { client, confidential: true };
  }
  if (secret !== undefined) throw invalidClient('this is a public client: send no secret');
  if (opts.requireSecret) throw invalidClient('this endpoint needs a confidential client');
  return { client, confidential: false };
}

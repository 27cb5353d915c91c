/**
 * The client's authorization server on openid-client, against a loopback
 * stand-in for what the dev IdP cannot show: Globus Auth's RS512 ID tokens
 * and other_tokens, outages (5xx, a server that never answers), and a 401
 * whose error is only in its WWW-Authenticate challenge.
 */
import test from 'ava';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import { AuthServer, TokenEndpointError } from '../../client/auth-server.js';
import { ProviderUnavailableError } from '../../shared/errors.js';
import type { Teardown } from '../helpers/teardown.js';

const CLIENT = 'cli-client';
const SCOPE = 'https://auth.globus.org/scopes/login.example.org/ssh';

async function standIn(t: Teardown, answer: (req: IncomingMessage, res: ServerResponse, base: string) => Promise<void> | void) {
  const server = createServer((req, res) => void answer(req, res, base));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return base;
}

test('a Globus refresh: the RS512 ID token is accepted and the token whose scope names the host is kept', async (t) => {
  const { privateKey } = await generateKeyPair('RS512');
  const base = await standIn(t, async (_req, res, issuer) => {
    const idToken = await new SignJWT({ sub: 's', preferred_username: 'alice@example.org' }).setProtectedHeader({ alg: 'RS512' }).setIssuer(issuer).setAudience(CLIENT).setIssuedAt().setExpirationTime('1h').sign(privateKey);
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        access_token: 'auth-token', token_type: 'Bearer', expires_in: 3600, scope: 'openid profile email', id_token: idToken, resource_server: 'auth.globus.org',
        other_tokens: [{ access_token: 'ssh-token', refresh_token: 'ssh-refresh', token_type: 'Bearer', expires_in: 1800, scope: SCOPE, resource_server: 'rs' }],
      }),
    );
  });
  const server = new AuthServer(base, CLIENT);
  t.teardown(() => server.close());
  const tokens = await server.refresh('old-refresh', SCOPE);
  t.like(tokens, { accessToken: 'ssh-token', refreshToken: 'ssh-refresh', scope: SCOPE });
  t.truthy(tokens.idToken);
});

test('outages read as outages; a 401 challenge reads as the OAuth error it names', async (t) => {
  const base = await standIn(t, (req, res) => {
    if (req.url?.startsWith('/v2/oauth2/token/revoke')) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="x", error="invalid_client", error_description="client authentication required"', 'content-type': 'application/json' }).end('{}');
    } else if (req.headers['x-never'] === undefined && req.url === '/v2/oauth2/token') {
      res.writeHead(503, { 'content-type': 'text/html' }).end('<h1>down</h1>');
    }
    // anything else: never answered
  });
  const server = new AuthServer(base, CLIENT, { kind: 'globus' }, 1);
  t.teardown(() => server.close());
  const down = await t.throwsAsync(server.refresh('rt', SCOPE));
  t.true(down instanceof ProviderUnavailableError, `${down?.constructor.name}: ${down?.message}`);
  const refused = await t.throwsAsync(server.revoke('rt'));
  t.regex(refused!.message, /refused the revocation: client authentication required/);
  const silent = new AuthServer(base, CLIENT, { kind: 'oidc', resource: null }, 1);
  t.teardown(() => silent.close());
  const slow = await t.throwsAsync(silent.endpoints());
  t.true(slow instanceof ProviderUnavailableError, slow?.message);
  t.notRegex(slow!.message, /not valid OAuth/);
  t.false(refused instanceof TokenEndpointError, 'said as a revocation refusal');
});

/**
 * The HTTP stack and the openid-client boundary against a scripted local
 * server (127.0.0.1, port 0): the 429 back-off shared per origin, the inline
 * wait of a short Retry-After, timeouts and 5xx as ProviderUnavailableError,
 * and discovery's refusals (issuer mismatch, http off this machine). Counts
 * and orders are asserted, never durations.
 */
import test, { type ExecutionContext } from 'ava';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidTokenError, ProviderUnavailableError } from '../../shared/errors.js';
import { HttpJsonClient } from '../../shared/providers/http-client.js';
import { createHttpStack, retryAfterSeconds, type HttpStack } from '../../shared/providers/http-stack.js';
import { OidcDeviceProvider } from '../../shared/providers/oidc-device.js';
import { discoverIssuer, IssuerDiscoveryError } from '../../shared/providers/oidc-discovery.js';
import { OidcIntrospector } from '../../shared/providers/oidc-introspection.js';
import { fetchProtectedJson } from '../../shared/providers/protected-resource.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Scripted {
  url: string;
  host: string;
  /** "METHOD /path" of every request, in order. */
  hits: string[];
  /** Authorization headers, in order. */
  auth: (string | undefined)[];
}

async function scriptedServer(t: ExecutionContext, handler: Handler): Promise<Scripted> {
  const hits: string[] = [];
  const auth: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push(`${req.method} ${req.url}`);
      auth.push(req.headers.authorization);
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, hits, auth };
}

function stack(t: ExecutionContext, timeoutSeconds = 5): HttpStack {
  const http = createHttpStack({ timeoutSeconds });
  t.teardown(() => http.close());
  return http;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** A fetch that must never be called: it counts, then fails. */
function countingStack(): HttpStack & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    timeoutSeconds: 5,
    fetch: (async (input: string | URL | Request) => {
      calls.push(String(input instanceof Request ? input.url : input));
      throw new Error('no network in this test');
    }) as typeof fetch,
    close: async () => {},
  };
}

test('a long Retry-After blocks every request to that origin, from every client on the stack, until it passes', async (t) => {
  const limited = await scriptedServer(t, (_req, res) => json(res, 429, { error: 'slow down' }, { 'retry-after': '30' }));
  const other = await scriptedServer(t, (_req, res) => json(res, 200, { ok: true }));
  const http = stack(t);
  const first = new HttpJsonClient({ baseUrl: limited.url, timeoutSeconds: 5, http });
  const second = new HttpJsonClient({ baseUrl: limited.url, timeoutSeconds: 5, http });

  const hit = await t.throwsAsync(first.request('GET', '/a'), { instanceOf: ProviderUnavailableError });
  t.regex(hit.message, /rate-limiting us \(HTTP 429, Retry-After 30 s\)/);
  t.true(hit.message.includes(limited.host));
  const blocked = await t.throwsAsync(second.request('POST', '/b', { form: { x: '1' } }), { instanceOf: ProviderUnavailableError });
  t.regex(blocked.message, /back off/);
  await t.throwsAsync(http.fetch(`${limited.url}/c`), { instanceOf: ProviderUnavailableError });
  t.deepEqual(limited.hits, ['GET /a'], 'the blocked requests never reached the server');

  t.is((await http.fetch(`${other.url}/`)).status, 200, 'another origin is not blocked');
});

test('a short Retry-After is waited out once, inline; a second 429 then fails', async (t) => {
  let n = 0;
  const once = await scriptedServer(t, (_req, res) => (n++ === 0 ? json(res, 429, {}, { 'retry-after': '0' }) : json(res, 200, { ok: true })));
  const http = stack(t);
  const res = await http.fetch(`${once.url}/token`, { method: 'POST', body: new URLSearchParams({ a: 'b' }) });
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { ok: true });
  t.deepEqual(once.hits, ['POST /token', 'POST /token']);

  const always = await scriptedServer(t, (_req, res) => json(res, 429, {}, { 'retry-after': '0' }));
  await t.throwsAsync(http.fetch(`${always.url}/token`), { instanceOf: ProviderUnavailableError, message: /HTTP 429/ });
  t.is(always.hits.length, 2, 'one retry, not a loop');
});

test('Retry-After: seconds, an HTTP date, or one second when missing or unreadable', (t) => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  t.is(retryAfterSeconds('7', now), 7);
  t.is(retryAfterSeconds('Tue, 01 Jan 2030 00:00:12 GMT', now), 12);
  t.is(retryAfterSeconds(null, now), 1);
  t.is(retryAfterSeconds('soon', now), 1);
});

test('a server that does not answer, or stalls mid-answer, is a ProviderUnavailableError naming the host', async (t) => {
  const silent = await scriptedServer(t, () => {});
  const http = stack(t, 0.3);
  const err = await t.throwsAsync(http.fetch(`${silent.url}/.well-known/openid-configuration`), { instanceOf: ProviderUnavailableError });
  t.regex(err.message, /did not answer in time/);
  t.true(err.message.includes(silent.host));

  const stalling = await scriptedServer(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"active":');
  });
  const broke = await t.throwsAsync(new HttpJsonClient({ baseUrl: stalling.url, timeoutSeconds: 0.3, http }).request('GET', '/x'), { instanceOf: ProviderUnavailableError });
  t.true(broke.message.includes(stalling.host));
});

test('nobody listening is a ProviderUnavailableError naming the host', async (t) => {
  const gone = await scriptedServer(t, () => {});
  const http = stack(t);
  const closed = gone.url.replace(/:\d+$/, ':1');
  const err = await t.throwsAsync(http.fetch(`${closed}/`), { instanceOf: ProviderUnavailableError });
  t.regex(err.message, /cannot reach 127\.0\.0\.1:1/);
});

test('5xx is a ProviderUnavailableError naming the host, without the body; also through openid-client', async (t) => {
  const broken = await scriptedServer(t, (_req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('secret-body-0123456789');
  });
  const http = stack(t);
  const direct = await t.throwsAsync(http.fetch(`${broken.url}/introspect?token=abc`), { instanceOf: ProviderUnavailableError });
  t.is(direct.message, `${broken.host} answered HTTP 503 on /introspect`);
  const viaClient = await t.throwsAsync(discoverIssuer(broken.url, http), { instanceOf: IssuerDiscoveryError });
  t.true(viaClient instanceof ProviderUnavailableError);
  t.is(viaClient.reason, 'unreachable');
  t.regex(viaClient.message, /HTTP 503/);
  t.false(viaClient.message.includes('secret-body'));
});

test('discovery refuses a document that names another issuer; a trailing slash is the same issuer', async (t) => {
  let claimed = '';
  const idp = await scriptedServer(t, (_req, res) => json(res, 200, { issuer: claimed, jwks_uri: `${claimed}/jwks`, token_endpoint: `${claimed}/token` }));
  const http = stack(t);
  claimed = `${idp.url}/evil`;
  const err = await t.throwsAsync(discoverIssuer(`${idp.url}/realm`, http), { instanceOf: IssuerDiscoveryError });
  t.is(err.reason, 'issuer-mismatch');
  t.regex(err.message, /names another issuer/);

  claimed = `${idp.url}/realm/`;
  const config = await discoverIssuer(`${idp.url}/realm`, http);
  t.is(config.serverMetadata().issuer, `${idp.url}/realm/`);
  t.is(idp.hits.at(-1), 'GET /realm/.well-known/openid-configuration');
});

test('discovery: plain http only on this machine, for the issuer and for every endpoint it names', async (t) => {
  const offMachine = countingStack();
  const err = await t.throwsAsync(discoverIssuer('http://idp.example.org', offMachine), { instanceOf: IssuerDiscoveryError });
  t.is(err.reason, 'insecure');
  t.regex(err.message, /https/);
  t.deepEqual(offMachine.calls, [], 'nothing was sent');

  const idp = await scriptedServer(t, (_req, res) => json(res, 200, { issuer: idp.url, jwks_uri: 'http://keys.example.org/jwks', token_endpoint: `${idp.url}/token` }));
  const http = stack(t);
  const bad = await t.throwsAsync(discoverIssuer(idp.url, http), { instanceOf: ProviderUnavailableError });
  t.regex(bad.message, /jwks_uri that is neither https nor on this machine/);
});

test('discovery: an https issuer keeps openid-client\'s https-only rule for its endpoints', async (t) => {
  const calls: string[] = [];
  const fake: HttpStack = {
    timeoutSeconds: 5,
    close: async () => {},
    fetch: (async (input: string | URL | Request) => {
      calls.push(String(input));
      return new Response(JSON.stringify({ issuer: 'https://idp.example.org', token_endpoint: 'http://127.0.0.1:9/token', device_authorization_endpoint: 'http://127.0.0.1:9/device' }), { headers: { 'content-type': 'application/json' } });
    }) as typeof fetch,
  };
  const device = new OidcDeviceProvider({ issuer: 'https://idp.example.org', clientId: 'c', clientSecret: null, scope: 'openid', resource: null, httpTimeout: 5, http: fake });
  await t.throwsAsync(device.startDeviceAuthorization('alice'), { instanceOf: ProviderUnavailableError, message: /HTTPS/ });
  t.deepEqual(calls, ['https://idp.example.org/.well-known/openid-configuration'], 'nothing went over http');
});

test('discovery falls back to RFC 8414 when there is no OpenID Connect document', async (t) => {
  const idp = await scriptedServer(t, (req, res) =>
    req.url === '/.well-known/oauth-authorization-server' ? json(res, 200, { issuer: idp.url, token_endpoint: `${idp.url}/token` }) : json(res, 404, {}),
  );
  const config = await discoverIssuer(idp.url, stack(t));
  t.is(config.serverMetadata().token_endpoint, `${idp.url}/token`);
  t.deepEqual(idp.hits, ['GET /.well-known/openid-configuration', 'GET /.well-known/oauth-authorization-server']);
});

test('device flow: one token request per poll, each answer read as RFC 8628 says', async (t) => {
  const answers: [number, unknown][] = [
    [400, { error: 'authorization_pending' }],
    [400, { error: 'slow_down' }],
    [200, { access_token: 'at-1', token_type: 'Bearer', expires_in: 60 }],
    [400, { error: 'access_denied' }],
    [400, { error: 'expired_token' }],
    [400, { error: 'invalid_grant' }],
  ];
  const idp = await scriptedServer(t, (req, res, body) => {
    if (req.url === '/.well-known/openid-configuration') return json(res, 200, { issuer: idp.url, token_endpoint: `${idp.url}/token`, device_authorization_endpoint: `${idp.url}/device` });
    if (req.url === '/device') return json(res, 200, { device_code: 'dc', user_code: 'ABCD-EFGH', verification_uri: `${idp.url}/verify`, expires_in: 600, body });
    t.true(new URLSearchParams(body).get('device_code') === 'dc');
    const [status, answer] = answers.shift()!;
    json(res, status, answer);
  });
  const device = new OidcDeviceProvider({ issuer: idp.url, clientId: 'ssh-server', clientSecret: 's3cret', scope: 'openid ssh:/{user}', resource: null, httpTimeout: 5, http: stack(t) });
  const started = await device.startDeviceAuthorization('alice');
  t.is(started.userCode, 'ABCD-EFGH');
  const basic = Buffer.from((idp.auth.at(-1) ?? '').replace(/^Basic /, ''), 'base64').toString();
  t.deepEqual(basic.split(':').map(decodeURIComponent), ['ssh-server', 's3cret'], 'client_secret_basic');

  const polls = [];
  for (let i = 0; i < 5; i++) polls.push(await device.pollDevice('dc'));
  t.deepEqual(polls, [{ status: 'pending' }, { status: 'slow_down' }, { status: 'approved', accessToken: 'at-1' }, { status: 'denied' }, { status: 'expired' }]);
  await t.throwsAsync(device.pollDevice('dc'), { instanceOf: ProviderUnavailableError, message: /invalid_grant/ });
  t.is(idp.hits.filter((h) => h === 'POST /token').length, 6, 'one request per poll');
});

test('introspection: rejected credentials and 5xx are outages; an inactive token is invalid', async (t) => {
  let answer: [number, unknown] = [401, { error: 'invalid_client' }];
  const idp = await scriptedServer(t, (req, res) =>
    req.url === '/.well-known/openid-configuration' ? json(res, 200, { issuer: idp.url, introspection_endpoint: `${idp.url}/introspect` }) : json(res, ...answer),
  );
  const introspector = new OidcIntrospector({ issuer: idp.url, clientId: 'ssh-server', clientSecret: 's3cret', audiences: ['ssh'], allowedClients: [], httpTimeout: 5, cacheTtl: 60, http: stack(t) });
  const rejected = await t.throwsAsync(introspector.verify('opaque-token-1'), { instanceOf: ProviderUnavailableError });
  t.regex(rejected.message, /rejected this server's introspection credentials \(HTTP 401\)/);
  answer = [502, {}];
  await t.throwsAsync(introspector.verify('opaque-token-1'), { instanceOf: ProviderUnavailableError, message: /HTTP 502/ });
  answer = [200, { active: false }];
  await t.throwsAsync(introspector.verify('opaque-token-1'), { instanceOf: InvalidTokenError });
  answer = [200, { active: true, sub: 'carol', aud: 'ssh', exp: Math.floor(Date.now() / 1000) + 60 }];
  t.is((await introspector.verify('opaque-token-1')).sub, 'carol');
  t.is((await introspector.verify('opaque-token-1')).sub, 'carol');
  t.is(idp.hits.filter((h) => h === 'POST /introspect').length, 4, 'the active answer was cached');
});

test('fetchProtectedJson: the token as Bearer, JSON objects only, never to http off this machine', async (t) => {
  const offMachine = countingStack();
  await t.throwsAsync(fetchProtectedJson('http://idcs.example.org/admin/v1/Me', 'tok', offMachine), { instanceOf: ProviderUnavailableError });
  t.deepEqual(offMachine.calls, []);

  let answer: [number, unknown] = [200, { id: 'me', uidNumber: 1234 }];
  const idp = await scriptedServer(t, (_req, res) => json(res, ...answer));
  const http = stack(t);
  t.deepEqual(await fetchProtectedJson(`${idp.url}/admin/v1/Me`, 'tok', http), { id: 'me', uidNumber: 1234 });
  t.is(idp.auth.at(-1), 'Bearer tok');
  answer = [200, ['not', 'an', 'object']];
  await t.throwsAsync(fetchProtectedJson(`${idp.url}/admin/v1/Me`, 'tok', http), { instanceOf: ProviderUnavailableError });
  answer = [401, { error: 'invalid_token' }];
  const err = await t.throwsAsync(fetchProtectedJson(`${idp.url}/admin/v1/Me`, 'tok', http), { instanceOf: ProviderUnavailableError, message: /HTTP 401/ });
  t.false(err.message.includes('tok'));
});

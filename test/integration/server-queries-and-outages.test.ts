/**
 * The in-band commands of the Globus/XSEDE protocol, and what the server
 * does when the authorization server is down, slow, rate-limiting or
 * talking nonsense: AUTHINFO_UNAVAIL, never success.
 */
import test from 'ava';
import { encodeCommand } from '../../server-pam/commands.js';
import { startTestIdp, tokenFor } from '../helpers/dev-idp.js';
import { PAM_TEXT, pamtester } from '../helpers/pam.js';
import { inBandReplies, startTestServer } from '../helpers/server.js';
import { createTestUser } from '../helpers/users.js';

test('get_security_policy as the query account answers the policy, then MAXTRIES', async (t) => {
  const idp = await startTestIdp(t);
  const query = await createTestUser(t, { system: true });
  const server = await startTestServer(t, { authUrl: idp.url, lines: [`query_account ${query.name}`, 'permitted_idps example.org', 'authentication_timeout 90', 'idp_suffix example.org'] });
  const result = await pamtester(server.service, query.name, ['authenticate'], `${encodeCommand('get_security_policy')}\n`);
  t.true(result.stderr.includes(PAM_TEXT.MAXTRIES));
  t.deepEqual(inBandReplies(result.stdout), [{ policy: { permitted_idps: ['example.org'], authentication_timeout: 90, max_auth_age: 5400, mfa: false, acr_values: null, amr_values: null, groups: null, issuers: [idp.url] } }]);

  const none = await startTestServer(t, { authUrl: idp.url, lines: [`query_account ${query.name}`, 'idp_suffix example.org'] });
  const open = await pamtester(none.service, query.name, ['authenticate'], `${encodeCommand('get_security_policy')}\n`);
  t.like(inBandReplies(open.stdout)[0], { policy: { permitted_idps: null, authentication_timeout: null, mfa: false } });
});

test('get_account_map lists the accounts the token may use; bad or missing tokens get INVALID_TOKEN', async (t) => {
  const idp = await startTestIdp(t);
  const query = await createTestUser(t, { system: true });
  const a = await createTestUser(t);
  const b = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, lines: [`query_account ${query.name}`], mapFile: `alice@example.org ${a.name} ${b.name} ghostuser\n` });
  const token = await tokenFor(idp, 'alice@lab.example.net');
  const ok = await pamtester(server.service, query.name, ['authenticate'], `${encodeCommand('get_account_map', token)}\n`);
  t.true(ok.stderr.includes(PAM_TEXT.MAXTRIES));
  t.deepEqual(inBandReplies(ok.stdout), [{ account_map: { permitted_accounts: [a.name, b.name] } }]);

  const bad = await pamtester(server.service, query.name, ['authenticate'], `${encodeCommand('get_account_map', 'nope')}\n`);
  t.true(bad.stderr.includes(PAM_TEXT.AUTH_ERR));
  t.like(inBandReplies(bad.stdout)[0], { error: { code: 'INVALID_TOKEN' } });
  const missing = await pamtester(server.service, query.name, ['authenticate'], `${encodeCommand('get_account_map')}\n`);
  t.like(inBandReplies(missing.stdout)[0], { error: { code: 'INVALID_TOKEN' } });
});

test('unknown commands get UNKNOWN_COMMAND once-encoded; the query account can never log in', async (t) => {
  const idp = await startTestIdp(t);
  const query = await createTestUser(t, { system: true });
  const server = await startTestServer(t, { authUrl: idp.url, lines: [`query_account ${query.name}`], mapFile: `alice@example.org ${query.name}\n` });
  const unknown = await pamtester(server.service, query.name, ['authenticate'], `${encodeCommand('make_coffee')}\n`);
  t.true(unknown.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL));
  t.like(inBandReplies(unknown.stdout)[0], { error: { code: 'UNKNOWN_COMMAND' } });

  const token = await tokenFor(idp, 'alice@example.org');
  for (const answer of [token, encodeCommand('login', token)]) {
    const result = await pamtester(server.service, query.name, ['authenticate'], `${answer}\n`);
    t.true(result.stderr.includes(PAM_TEXT.AUTH_ERR));
    t.regex(result.messages, /only answers queries/);
  }
});

test('the login command: SUCCESS, or a once-encoded error reply', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['authentication_timeout 10'] });
  const fresh = await tokenFor(idp, 'alice@example.org');
  t.is((await pamtester(server.service, user.name, ['authenticate'], `${encodeCommand('login', fresh)}\n`)).code, 0);
  await idp.control('POST', 'sessions/update', { identity: 'alice@example.org', auth_age: 3600 });
  const stale = await pamtester(server.service, user.name, ['authenticate'], `${encodeCommand('login', await tokenFor(idp, 'bob@example.org', { authAge: 3600 }))}\n`);
  t.true(stale.stderr.includes(PAM_TEXT.AUTH_ERR));
  const [reply] = inBandReplies(stale.stdout) as Array<{ error: { code: string; description: string } }>;
  t.is(reply!.error.code, 'SESSION_VIOLATION');
  t.regex(reply!.error.description, /within 10 min/);
  t.deepEqual(server.audit.map((e) => [e.op, e.decision]), [['login', 'SUCCESS'], ['login', 'AUTH_ERR']]);
});

test('authorization server down, 5xx, garbage or slow: AUTHINFO_UNAVAIL with a message', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['introspection_cache_ttl 0'] });
  const token = await tokenFor(idp, 'alice@example.org');
  const attempt = () => pamtester(server.service, user.name, ['authenticate'], `${token}\n`);

  await idp.control('POST', 'faults', { path_prefix: '/v2/oauth2/token/introspect', status: 503, count: 1 });
  const unavailable = await attempt();
  t.true(unavailable.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL));
  t.regex(unavailable.messages, /authorization server cannot be reached/);

  await idp.control('POST', 'faults', { path_prefix: '/v2/oauth2/token/introspect', status: 200, count: 1, body: '<html>maintenance</html>' });
  t.true((await attempt()).stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL));
  await idp.control('POST', 'faults', { path_prefix: '/v2/api/identities', status: 200, count: 1, body: '{"identities": "nope"}' });
  t.true((await attempt()).stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL));

  await idp.control('POST', 'faults', { path_prefix: '/v2/oauth2/token/introspect', status: 200, delay_ms: 3000, count: 1 });
  const slow = await attempt();
  t.true(slow.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL), 'http_timeout 2 s');
  t.regex(server.audit.at(-1)!.reason, /did not answer in time/, 'the stack\'s own verdict: the timeout, not a later failure');

  t.is((await attempt()).code, 0, 'healthy again');
  await idp.close();
  const down = await attempt();
  t.true(down.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL));
  t.deepEqual(server.audit.map((e) => e.decision), ['AUTHINFO_UNAVAIL', 'AUTHINFO_UNAVAIL', 'AUTHINFO_UNAVAIL', 'AUTHINFO_UNAVAIL', 'SUCCESS', 'AUTHINFO_UNAVAIL']);
});

test('429: a short Retry-After is waited out; a long one fails fast until it passes', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['introspection_cache_ttl 0'] });
  const token = await tokenFor(idp, 'alice@example.org');
  await idp.control('POST', 'faults', { path_prefix: '/v2/oauth2/token/introspect', status: 429, retry_after: 1, count: 1 });
  const waited = await pamtester(server.service, user.name, ['authenticate'], `${token}\n`);
  // Success after a 429 means the request was made again; that it waited first is test/unit/http-stack.test.ts's to show.
  t.is(waited.code, 0);

  await idp.control('POST', 'faults', { path_prefix: '/v2/oauth2/token/introspect', status: 429, retry_after: 30, count: 1 });
  const limited = await pamtester(server.service, user.name, ['authenticate'], `${token}\n`);
  t.true(limited.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL));
  const backingOff = await pamtester(server.service, user.name, ['authenticate'], `${token}\n`);
  t.true(backingOff.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL), 'the fault was used up, but we keep backing off');
  t.regex(server.audit.at(-1)!.reason, /back off/);
});

test('introspection results are cached by token hash, and not when the TTL is 0', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const map = `alice@example.org ${user.name}\n`;
  const cached = await startTestServer(t, { authUrl: idp.url, mapFile: map });
  const uncached = await startTestServer(t, { authUrl: idp.url, mapFile: map, lines: ['introspection_cache_ttl 0'] });
  const token = await tokenFor(idp, 'alice@example.org');
  for (const s of [cached, uncached]) t.is((await pamtester(s.service, user.name, ['authenticate'], `${token}\n`)).code, 0);
  await idp.control('POST', 'faults', { path_prefix: '/v2/oauth2/token/introspect', status: 503 });
  t.is((await pamtester(cached.service, user.name, ['authenticate'], `${token}\n`)).code, 0, 'served from the cache');
  t.true((await pamtester(uncached.service, user.name, ['authenticate'], `${token}\n`)).stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL));
});

test('concurrent logins are served concurrently', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\nbob@example.org ${user.name}\n` });
  const tokens = await Promise.all(Array.from({ length: 8 }, (_, i) => tokenFor(idp, i % 2 ? 'alice@example.org' : 'bob@example.org')));
  // Each introspection takes 500 ms: eight in a row would take 4 s.
  await idp.control('POST', 'faults', { path_prefix: '/v2/oauth2/token/introspect', status: 200, delay_ms: 500, count: 8 });
  const results = await Promise.all(tokens.map((tok) => pamtester(server.service, user.name, ['authenticate'], `${tok}\n`)));
  t.deepEqual(results.map((r) => r.code), Array(8).fill(0));
  // Served one after another, at most one introspection would ever be held at the IdP at a time.
  const stats = (await idp.control('GET', 'stats')) as { delayed_most_at_once: number };
  t.true(stats.delayed_most_at_once >= 4, `${stats.delayed_most_at_once} introspections in flight at once`);
});

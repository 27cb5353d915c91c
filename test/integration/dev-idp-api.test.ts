import test from 'ava';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { IDS, SSH_FQDN, SSH_SERVICE_SECRET, startTestIdp, type TestIdp } from '../helpers/dev-idp.js';
import { basic, getJson, pkcePair, postForm } from '../helpers/oauth.js';

const SSH_SCOPE = `https://auth.globus.org/scopes/${SSH_FQDN}/ssh`;
const service = { authorization: basic(IDS.sshService, SSH_SERVICE_SECRET) };

/** Logs in through the authorization code flow with auto-approval and returns the token response. */
async function login(idp: TestIdp, identity: string, scope: string, extra: Record<string, unknown> = {}) {
  await idp.control('PUT', 'auto-approve', { identity, ...extra });
  const { verifier, challenge } = pkcePair();
  const url = new URL(`${idp.url}/v2/oauth2/authorize`);
  const redirectUri = 'http://127.0.0.1:5000/callback';
  for (const [k, v] of Object.entries({ client_id: IDS.cli, response_type: 'code', redirect_uri: redirectUri, scope, code_challenge: challenge, code_challenge_method: 'S256', nonce: 'n-1', access_type: 'offline' })) url.searchParams.set(k, v);
  const res = await fetch(url, { redirect: 'manual' });
  const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
  return (await postForm(`${idp.url}/v2/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: IDS.cli, code_verifier: verifier })).body;
}

test('introspection: only the token\'s resource server sees inside it; bad credentials are refused', async (t) => {
  const idp = await startTestIdp(t);
  const tok = await login(idp, 'bob@example.org', SSH_SCOPE);
  const intro = (creds: Record<string, string>) => postForm(`${idp.url}/v2/oauth2/token/introspect`, { token: tok.access_token }, creds);
  t.true((await intro(service)).body.active);
  t.deepEqual((await intro({ authorization: basic(IDS.otherService, 'other-secret') })).body, { active: false });
  const wrong = await intro({ authorization: basic(IDS.sshService, 'nope') });
  t.is(wrong.status, 401);
  const publicClient = await postForm(`${idp.url}/v2/oauth2/token/introspect`, { token: tok.access_token, client_id: IDS.cli });
  t.is(publicClient.status, 401, 'a public client cannot introspect');
  t.deepEqual((await postForm(`${idp.url}/v2/oauth2/token/introspect`, { token: 'garbage' }, service)).body, { active: false });
  const plain = (await intro(service)).body;
  t.is(plain.identities_set, undefined, 'identities_set only when included');
  t.is(plain.session_info, undefined, 'session_info only when included');
});

test('control API: sessions age, lose or gain MFA, tokens expire', async (t) => {
  const idp = await startTestIdp(t);
  const tok = await login(idp, 'alice@example.org', SSH_SCOPE, { mfa: true });
  const info = async () => (await postForm(`${idp.url}/v2/oauth2/token/introspect`, { token: tok.access_token, include: 'session_info' }, service)).body;
  t.deepEqual((await idp.control('POST', 'sessions/update', { identity: IDS.alice, auth_age: 7200, mfa: false })) as unknown, { updated: 1 });
  const aged = (await info()).session_info.authentications[IDS.alice];
  t.true(Math.abs(Date.now() / 1000 - 7200 - aged.auth_time) < 3);
  t.deepEqual(aged.amr, ['pwd']);
  t.deepEqual((await idp.control('POST', 'tokens/expire', { identity: 'alice@lab.example.net' })) as unknown, { expired: 1 }, 'by any linked identity');
  t.false((await info()).active);
  await t.throwsAsync(idp.control('POST', 'sessions/update', { identity: 'nobody@example.org' }), { message: /unknown identity/ });
});

test('revocation (RFC 7009): own tokens only, unknown tokens are fine, refresh revokes the grant', async (t) => {
  const idp = await startTestIdp(t);
  const tok = await login(idp, 'bob@example.org', SSH_SCOPE);
  const other = await postForm(`${idp.url}/v2/oauth2/token/revoke`, { token: tok.access_token }, service);
  t.is(other.body.error, 'unauthorized_client');
  t.is((await postForm(`${idp.url}/v2/oauth2/token/revoke`, { token: 'unknown', client_id: IDS.cli })).status, 200);
  const validate = async () => (await postForm(`${idp.url}/v2/oauth2/token/validate`, { token: tok.access_token, client_id: IDS.cli })).body.active;
  t.true(await validate());
  t.is((await postForm(`${idp.url}/v2/oauth2/token/revoke`, { token: tok.refresh_token, client_id: IDS.cli })).status, 200);
  t.false(await validate(), 'the access token of the same grant is revoked with its refresh token');
});

test('identities: by ids and usernames, with identity providers; unknown usernames are "unused"', async (t) => {
  const idp = await startTestIdp(t);
  const get = (query: string, headers: Record<string, string> = service) => fetch(`${idp.url}/v2/api/identities?${query}`, { headers });
  const byIds = await (await get(`ids=${IDS.alice},${IDS.aliceLab},00000000-0000-4000-8000-000000000000&include=identity_provider`)).json() as any;
  t.deepEqual(byIds.identities.map((i: any) => i.username), ['alice@example.org', 'alice@lab.example.net']);
  t.deepEqual(byIds.included.identity_providers.map((p: any) => [p.id, p.domains]), [[IDS.idpUniversity, ['example.org']], [IDS.idpLab, ['lab.example.net']]]);
  const byName = await (await get('usernames=bob@example.org,zed@example.org')).json() as any;
  t.is(byName.identities[0].id, IDS.bob);
  t.is(byName.identities[1].status, 'unused');
  t.is(byName.identities[1].identity_provider, IDS.idpUniversity);
  t.is(byName.included, undefined);
  t.is((await get('ids=x&usernames=y')).status, 400);
  t.is((await get(`ids=${IDS.bob}`, {})).status, 401);
  const withToken = await login(idp, 'bob@example.org', 'openid urn:globus:auth:scope:auth.globus.org:view_identities');
  t.is((await get(`ids=${IDS.bob}`, { authorization: `Bearer ${withToken.access_token}` })).status, 200);
  const sshToken = await login(idp, 'bob@example.org', SSH_SCOPE);
  t.is((await get(`ids=${IDS.bob}`, { authorization: `Bearer ${sshToken.access_token}` })).status, 401, 'needs view_identities');
});

test('clients: by id as itself, by fqdn publicly, FQDN association', async (t) => {
  const idp = await startTestIdp(t);
  const own = await getJson(`${idp.url}/v2/api/clients/${IDS.sshService}`, { headers: service });
  t.deepEqual(own.client.fqdns, [SSH_FQDN]);
  t.is((await fetch(`${idp.url}/v2/api/clients/${IDS.otherService}`, { headers: service })).status, 403);
  const lookup = await getJson(`${idp.url}/v2/api/clients?fqdn=SSH.example.org.`);
  t.deepEqual(lookup, { clients: [{ id: IDS.sshService, name: 'SSH service', fqdns: [SSH_FQDN] }] });
  t.deepEqual(await getJson(`${idp.url}/v2/api/clients?fqdn=unknown.example.org`), { clients: [] });

  const add = await postForm(`${idp.url}/v2/api/clients/${IDS.sshService}/fqdns`, { fqdn: 'login.example.org' }, service);
  t.deepEqual(add.body.client.fqdns, [SSH_FQDN, 'login.example.org']);
  const taken = await postForm(`${idp.url}/v2/api/clients/${IDS.otherService}/fqdns`, { fqdn: 'login.example.org' }, { authorization: basic(IDS.otherService, 'other-secret') });
  t.is(taken.status, 409);
  const bad = await postForm(`${idp.url}/v2/api/clients/${IDS.sshService}/fqdns`, { fqdn: 'not a host' }, service);
  t.is(bad.status, 400);
  // The new FQDN's scope now names the same resource server.
  const tok = await login(idp, 'bob@example.org', 'https://auth.globus.org/scopes/login.example.org/ssh');
  t.is(tok.resource_server, IDS.sshService);
});

test('discovery, JWKS-verified id_token with session facts, userinfo', async (t) => {
  const idp = await startTestIdp(t);
  const meta = await getJson(`${idp.url}/.well-known/openid-configuration`);
  t.is(meta.issuer, idp.url);
  t.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  const tok = await login(idp, 'alice@lab.example.net', 'openid profile email', { mfa: true, auth_age: 60 });
  const { payload, protectedHeader } = await jwtVerify(tok.id_token, createRemoteJWKSet(new URL(meta.jwks_uri)), { issuer: idp.url, audience: IDS.cli });
  t.is(protectedHeader.alg, 'RS256');
  t.is(payload.sub, IDS.alice);
  t.is(payload.nonce, 'n-1');
  t.deepEqual(payload.amr, ['pwd', 'mfa']);
  t.true(Math.abs(Date.now() / 1000 - 60 - (payload.auth_time as number)) < 3);
  t.deepEqual((payload.identity_set as any[]).map((i) => i.username), ['alice@example.org', 'alice@lab.example.net']);

  const info = await getJson(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${tok.access_token}` } });
  t.like(info, { sub: IDS.alice, preferred_username: 'alice@example.org', email: 'alice@example.org', identity_provider: IDS.idpUniversity });
  const denied = await fetch(meta.userinfo_endpoint, { headers: { authorization: 'Bearer nope' } });
  t.is(denied.status, 401);
  t.regex(denied.headers.get('www-authenticate')!, /invalid_token/);
});

test('faults: injected 503 with Retry-After, counted, then healthy again', async (t) => {
  const idp = await startTestIdp(t);
  await idp.control('POST', 'faults', { path_prefix: '/v2/oauth2/token/introspect', status: 503, retry_after: 2, count: 1 });
  const first = await postForm(`${idp.url}/v2/oauth2/token/introspect`, { token: 'x' }, service);
  t.is(first.status, 503);
  t.is(first.headers.get('retry-after'), '2');
  const second = await postForm(`${idp.url}/v2/oauth2/token/introspect`, { token: 'x' }, service);
  t.is(second.status, 200);
  await idp.control('POST', 'faults', { path_prefix: '/v2/api/', status: 200, body: 'not json' });
  const garbage = await fetch(`${idp.url}/v2/api/clients?fqdn=x.example.org`);
  t.is(await garbage.text(), 'not json');
  await idp.control('DELETE', 'faults');
  t.is((await fetch(`${idp.url}/v2/api/clients?fqdn=x.example.org`)).status, 200);
});

test('bad requests get precise errors: repeated parameters, bad JSON, unknown paths and methods', async (t) => {
  const idp = await startTestIdp(t);
  const dup = await fetch(`${idp.url}/v2/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=a&grant_type=b' });
  t.is(dup.status, 400);
  t.regex(((await dup.json()) as any).error_description, /more than once/);
  const badJson = await fetch(`${idp.url}/_dev/auto-approve`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{' });
  t.is(badJson.status, 400);
  t.is((await fetch(`${idp.url}/nope`)).status, 404);
  t.is((await fetch(`${idp.url}/v2/oauth2/token`)).status, 405);
});

import test from 'ava';
import { IDS, SSH_FQDN, SSH_SERVICE_SECRET, startTestIdp, type TestIdp } from '../helpers/dev-idp.js';
import { basic, pkcePair, postForm } from '../helpers/oauth.js';

const SSH_SCOPE = `https://auth.globus.org/scopes/${SSH_FQDN}/ssh`;

function authorizeUrl(idp: TestIdp, params: Record<string, string>): string {
  const url = new URL(`${idp.url}/v2/oauth2/authorize`);
  for (const [k, v] of Object.entries({ client_id: IDS.cli, response_type: 'code', redirect_uri: 'http://127.0.0.1:49152/callback', ...params })) url.searchParams.set(k, v);
  return url.toString();
}

async function authorize(idp: TestIdp, params: Record<string, string>) {
  const res = await fetch(authorizeUrl(idp, params), { redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location') ? new URL(res.headers.get('location')!) : undefined, text: await res.text() };
}

test('code + PKCE on a loopback redirect with any port yields per-resource-server tokens', async (t) => {
  const idp = await startTestIdp(t);
  await idp.control('PUT', 'auto-approve', { identity: 'alice@lab.example.net', mfa: true });
  const { verifier, challenge } = pkcePair();
  const redirectUri = 'http://127.0.0.1:61234/callback';
  const res = await authorize(idp, { redirect_uri: redirectUri, scope: `openid profile ${SSH_SCOPE}`, state: 'st-1', code_challenge: challenge, code_challenge_method: 'S256', access_type: 'offline' });
  t.is(res.status, 302);
  t.is(res.location!.origin + res.location!.pathname, redirectUri);
  t.is(res.location!.searchParams.get('state'), 'st-1');
  const code = res.location!.searchParams.get('code')!;
  const tok = await postForm(`${idp.url}/v2/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: IDS.cli, code_verifier: verifier });
  t.is(tok.status, 200);
  t.is(tok.body.resource_server, 'auth.globus.org');
  t.truthy(tok.body.id_token);
  t.is(tok.body.other_tokens.length, 1);
  const ssh = tok.body.other_tokens[0];
  t.is(ssh.resource_server, IDS.sshService);
  t.is(ssh.scope, SSH_SCOPE);
  t.truthy(ssh.refresh_token);
  t.false(ssh.access_token.includes('.'), 'opaque Globus-style token, never mistaken for a JWT');
  t.is(tok.headers.get('cache-control'), 'no-store');

  const intro = await postForm(`${idp.url}/v2/oauth2/token/introspect`, { token: ssh.access_token, include: 'identities_set,session_info' }, { authorization: basic(IDS.sshService, SSH_SERVICE_SECRET) });
  t.true(intro.body.active);
  t.is(intro.body.sub, IDS.alice, 'sub is the primary identity of the account');
  t.deepEqual(intro.body.identities_set, [IDS.alice, IDS.aliceLab]);
  const auth = intro.body.session_info.authentications[IDS.aliceLab];
  t.is(auth.idp, IDS.idpLab);
  t.true(auth.amr.includes('mfa'));
  t.true(Math.abs(auth.auth_time - Date.now() / 1000) < 5);
});

test('a wrong PKCE verifier, a wrong redirect_uri, and a replayed code are refused; replay revokes', async (t) => {
  const idp = await startTestIdp(t);
  await idp.control('PUT', 'auto-approve', { identity: 'bob@example.org' });
  const { verifier, challenge } = pkcePair();
  const get = async () => (await authorize(idp, { scope: SSH_SCOPE, code_challenge: challenge, code_challenge_method: 'S256' })).location!.searchParams.get('code')!;
  const exchange = (code: string, extra: Record<string, string> = {}) =>
    postForm(`${idp.url}/v2/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:49152/callback', client_id: IDS.cli, code_verifier: verifier, ...extra });

  const wrongVerifier = await exchange(await get(), { code_verifier: pkcePair().verifier });
  t.is(wrongVerifier.status, 400);
  t.is(wrongVerifier.body.error, 'invalid_grant');
  const wrongRedirect = await exchange(await get(), { redirect_uri: 'http://127.0.0.1:1/callback' });
  t.is(wrongRedirect.body.error, 'invalid_grant');

  const code = await get();
  const first = await exchange(code);
  t.is(first.status, 200);
  const replay = await exchange(code);
  t.is(replay.body.error, 'invalid_grant');
  const intro = await postForm(`${idp.url}/v2/oauth2/token/introspect`, { token: first.body.access_token }, { authorization: basic(IDS.sshService, SSH_SERVICE_SECRET) });
  t.false(intro.body.active, 'tokens from a replayed code are revoked');
});

test('authorization errors: unregistered redirect is shown, not followed; others come back by redirect', async (t) => {
  const idp = await startTestIdp(t);
  const { challenge } = pkcePair();
  const evil = await authorize(idp, { redirect_uri: 'http://evil.example/cb', scope: SSH_SCOPE, code_challenge: challenge, code_challenge_method: 'S256' });
  t.is(evil.status, 400);
  t.is(evil.location, undefined);
  const unknownClient = await authorize(idp, { client_id: '00000000-0000-4000-8000-000000000000', scope: SSH_SCOPE });
  t.is(unknownClient.status, 400);
  t.is(unknownClient.location, undefined);

  const noPkce = await authorize(idp, { scope: SSH_SCOPE, state: 's' });
  t.is(noPkce.location!.searchParams.get('error'), 'invalid_request');
  t.is(noPkce.location!.searchParams.get('state'), 's');
  const plain = await authorize(idp, { scope: SSH_SCOPE, code_challenge: challenge, code_challenge_method: 'plain' });
  t.is(plain.location!.searchParams.get('error'), 'invalid_request');
  const badScope = await authorize(idp, { scope: 'https://auth.globus.org/scopes/nowhere.example/ssh', code_challenge: challenge, code_challenge_method: 'S256' });
  t.is(badScope.location!.searchParams.get('error'), 'invalid_scope');
  const badType = await authorize(idp, { response_type: 'token', scope: SSH_SCOPE, code_challenge: challenge, code_challenge_method: 'S256' });
  t.is(badType.location!.searchParams.get('error'), 'unsupported_response_type');
});

test('copy-paste flow: the IdP page shows the code to paste', async (t) => {
  const idp = await startTestIdp(t);
  await idp.control('PUT', 'auto-approve', { identity: 'bob@example.org' });
  const { verifier, challenge } = pkcePair();
  const redirectUri = `${idp.url}/v2/web/auth-code`;
  const res = await authorize(idp, { redirect_uri: redirectUri, scope: SSH_SCOPE, code_challenge: challenge, code_challenge_method: 'S256' });
  const page = await fetch(res.location!);
  t.is(page.status, 200);
  const code = res.location!.searchParams.get('code')!;
  t.true((await page.text()).includes(`<code id="code">${code}</code>`));
  const tok = await postForm(`${idp.url}/v2/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: IDS.cli, code_verifier: verifier });
  t.is(tok.status, 200);
});

test('session_required_identities and prompt=login: a human signs in through the pages', async (t) => {
  const idp = await startTestIdp(t);
  const { verifier, challenge } = pkcePair();
  const res = await authorize(idp, { scope: SSH_SCOPE, code_challenge: challenge, code_challenge_method: 'S256', session_required_identities: IDS.aliceLab, prompt: 'login', state: 'x' });
  t.is(res.status, 200);
  t.true(res.text.includes('alice@lab.example.net'));
  t.false(res.text.includes('bob@example.org'), 'only the required identity is offered');
  const requestId = /name="request" value="([^"]+)"/.exec(res.text)![1]!;
  const login = await fetch(`${idp.url}/v2/web/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ request: requestId, identity: IDS.aliceLab, mfa: '1' }), redirect: 'manual' });
  t.is(login.status, 200);
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const consent = await fetch(`${idp.url}/v2/web/consent`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams({ request: requestId, decision: 'allow' }), redirect: 'manual' });
  const location = new URL(consent.headers.get('location')!);
  t.is(location.searchParams.get('state'), 'x');
  const tok = await postForm(`${idp.url}/v2/oauth2/token`, { grant_type: 'authorization_code', code: location.searchParams.get('code')!, redirect_uri: 'http://127.0.0.1:49152/callback', client_id: IDS.cli, code_verifier: verifier });
  t.is(tok.status, 200);

  // With the browser session cookie, no login page; denial comes back as access_denied.
  const again = await fetch(authorizeUrl(idp, { scope: SSH_SCOPE, code_challenge: challenge, code_challenge_method: 'S256', state: 'y' }), { headers: { cookie } });
  const againText = await again.text();
  t.true(againText.includes('Allow access?'), 'an existing browser session skips the login page');
  const againId = /name="request" value="([^"]+)"/.exec(againText)![1]!;
  const deny = await fetch(`${idp.url}/v2/web/consent`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams({ request: againId, decision: 'deny' }), redirect: 'manual' });
  const denied = new URL(deny.headers.get('location')!);
  t.is(denied.searchParams.get('error'), 'access_denied');
  t.is(denied.searchParams.get('state'), 'y');
});

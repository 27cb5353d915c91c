import test from 'ava';
import { parseDevIdpConfig } from '../../shared/dev-idp/config.js';
import { IDS, SSH_FQDN, SSH_SERVICE_SECRET, startTestIdp, testIdpDocument, type TestIdp } from '../helpers/dev-idp.js';
import { basic, postForm } from '../helpers/oauth.js';

const SSH_SCOPE = `https://auth.globus.org/scopes/${SSH_FQDN}/ssh`;
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startDevice(idp: TestIdp, scope = `${SSH_SCOPE} offline_access`) {
  const res = await postForm(`${idp.url}/v2/oauth2/device_authorization`, { client_id: IDS.cli, scope });
  return res.body as { device_code: string; user_code: string; verification_uri: string; verification_uri_complete: string; interval: number; expires_in: number };
}

const poll = (idp: TestIdp, deviceCode: string) => postForm(`${idp.url}/v2/oauth2/token`, { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: IDS.cli });

test('device flow: pending, slow_down when polled too fast, then approved once', async (t) => {
  const idp = await startTestIdp(t);
  const device = await startDevice(idp);
  t.regex(device.user_code, /^[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}$/);
  t.is(device.verification_uri, `${idp.url}/v2/web/device`);
  t.true(device.verification_uri_complete.endsWith(encodeURIComponent(device.user_code)));
  t.is(device.interval, 1);

  t.is((await poll(idp, device.device_code)).body.error, 'authorization_pending');
  const tooFast = await poll(idp, device.device_code);
  t.is(tooFast.body.error, 'slow_down');
  t.deepEqual((await idp.control('GET', 'devices')) as unknown, { pending: [{ user_code: device.user_code, client_id: IDS.cli, scope: SSH_SCOPE, expires_in: (await idp.control('GET', 'devices') as any).pending[0].expires_in }] });

  await idp.control('POST', `devices/${device.user_code.toLowerCase().replace('-', '')}/approve`, { identity: 'bob@example.org', auth_age: 3600 });
  const approvedAt = Date.now() / 1000;
  await sleep(6100); // interval is now 1 + 5 s
  const ok = await poll(idp, device.device_code);
  t.is(ok.status, 200);
  t.truthy(ok.body.refresh_token);
  const intro = await postForm(`${idp.url}/v2/oauth2/token/introspect`, { token: ok.body.access_token, include: 'session_info' }, { authorization: basic(IDS.sshService, SSH_SERVICE_SECRET) });
  const auth = intro.body.session_info.authentications[IDS.bob];
  t.true(Math.abs(approvedAt - 3600 - auth.auth_time) < 3, 'auth_age makes the session old');
  t.deepEqual(auth.amr, ['pwd']);
  await sleep(6100);
  t.is((await poll(idp, device.device_code)).body.error, 'invalid_grant', 'a device code is used once');
});

test('device flow: denial ends with access_denied', async (t) => {
  const idp = await startTestIdp(t);
  const denied = await startDevice(idp);
  await idp.control('POST', `devices/${denied.user_code}/deny`);
  t.is((await poll(idp, denied.device_code)).body.error, 'access_denied');
});

test('device flow: an expired device code ends with expired_token and can no longer be approved', async (t) => {
  const idp = await startTestIdp(t, parseDevIdpConfig(testIdpDocument({ lifetimes: { device_interval: 1, device_code: 1 } })));
  const expiring = await startDevice(idp);
  await sleep(1200);
  t.is((await poll(idp, expiring.device_code)).body.error, 'expired_token');
  await t.throwsAsync(idp.control('POST', `devices/${expiring.user_code}/approve`, { identity: 'bob@example.org' }), { message: /no pending device authorization/ });
});

test('device flow pages: a person enters the code, picks an identity and approves', async (t) => {
  const idp = await startTestIdp(t);
  const device = await startDevice(idp);
  const entry = await fetch(device.verification_uri_complete);
  t.true((await entry.text()).includes(device.user_code));
  const unknown = await fetch(`${idp.url}/v2/web/device`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user_code=BBBB-BBBB' });
  t.true((await unknown.text()).includes('unknown, expired or already used'));
  const approve = await fetch(`${idp.url}/v2/web/device/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user_code: device.user_code, identity: IDS.aliceLab, mfa: '1', decision: 'allow' }),
  });
  t.is(approve.status, 200);
  const ok = await poll(idp, device.device_code);
  t.is(ok.status, 200);
});

test('refresh rotates; reusing a rotated-out refresh token revokes the family', async (t) => {
  const idp = await startTestIdp(t);
  const device = await startDevice(idp);
  await idp.control('POST', `devices/${device.user_code}/approve`, { identity: 'bob@example.org' });
  const first = (await poll(idp, device.device_code)).body;
  const refresh = (token: string) => postForm(`${idp.url}/v2/oauth2/token`, { grant_type: 'refresh_token', refresh_token: token, client_id: IDS.cli });
  const second = await refresh(first.refresh_token);
  t.is(second.status, 200);
  t.not(second.body.refresh_token, first.refresh_token);
  t.is(second.body.resource_server, IDS.sshService);
  const reuse = await refresh(first.refresh_token);
  t.is(reuse.body.error, 'invalid_grant');
  const afterReuse = await refresh(second.body.refresh_token);
  t.is(afterReuse.body.error, 'invalid_grant', 'the whole family is revoked after reuse');
  const intro = await postForm(`${idp.url}/v2/oauth2/token/introspect`, { token: second.body.access_token }, { authorization: basic(IDS.sshService, SSH_SERVICE_SECRET) });
  t.false(intro.body.active);
});

test('refresh without rotation keeps the refresh token; asking for more scope is refused', async (t) => {
  const idp = await startTestIdp(t, parseDevIdpConfig(testIdpDocument({ rotate_refresh_tokens: false })));
  const device = await startDevice(idp);
  await idp.control('POST', `devices/${device.user_code}/approve`, { identity: 'bob@example.org' });
  const first = (await poll(idp, device.device_code)).body;
  const again = await postForm(`${idp.url}/v2/oauth2/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: IDS.cli });
  t.is(again.body.refresh_token, first.refresh_token);
  const more = await postForm(`${idp.url}/v2/oauth2/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: IDS.cli, scope: `${SSH_SCOPE} openid` });
  t.is(more.body.error, 'invalid_scope');
});

test('token endpoint errors follow RFC 6749 5.2', async (t) => {
  const idp = await startTestIdp(t);
  const unknownGrant = await postForm(`${idp.url}/v2/oauth2/token`, { grant_type: 'password', client_id: IDS.cli });
  t.is(unknownGrant.status, 400);
  t.is(unknownGrant.body.error, 'unsupported_grant_type');
  const badSecret = await postForm(`${idp.url}/v2/oauth2/token`, { grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basic(IDS.sshService, 'wrong') });
  t.is(badSecret.status, 401);
  t.is(badSecret.body.error, 'invalid_client');
  t.regex(badSecret.headers.get('www-authenticate') ?? '', /^Basic/);
  const notAllowed = await postForm(`${idp.url}/v2/oauth2/token`, { grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basic(IDS.sshService, SSH_SERVICE_SECRET) });
  t.is(notAllowed.body.error, 'unauthorized_client');
  const missing = await postForm(`${idp.url}/v2/oauth2/token`, { client_id: IDS.cli });
  t.is(missing.body.error, 'invalid_request');
  t.regex(missing.body.error_description, /grant_type/);
});

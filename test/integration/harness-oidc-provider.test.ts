/**
 * Proves the generic-OIDC harness: a real oidc-provider, found by discovery
 * with openid-client, runs a device flow that the test approves as the user,
 * and the id_token carries the account, acr, amr and auth_time it recorded.
 */
import test from 'ava';
import * as oidc from 'openid-client';
import { startOidcProvider } from '../helpers/oidc-provider.js';

const CLIENT = { client_id: 'ssh-server', client_secret: 'harness-secret-0123456789abcdef', grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' as const, require_auth_time: true };

test('oidc-provider: discovery, device flow approved by the test, introspection', async (t) => {
  const op = await startOidcProvider(t, { clients: [CLIENT], accounts: [{ id: 'carol', claims: { preferred_username: 'carol', email: 'carol@example.com', uidNumber: 20001 } }] });
  const config = await oidc.discovery(new URL(op.issuer), CLIENT.client_id, CLIENT.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  t.is(config.serverMetadata().issuer, op.issuer);
  t.truthy(config.serverMetadata().device_authorization_endpoint);

  const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile posix' });
  t.truthy(device.user_code);
  await op.approveDevice(device.user_code, { accountId: 'carol', acr: 'https://refeds.org/profile/mfa', amr: ['pwd', 'otp'], authAge: 120 });
  const tokens = await oidc.pollDeviceAuthorizationGrant(config, { ...device, interval: 0.1 } as typeof device);
  t.truthy(tokens.access_token);
  const claims = tokens.claims()!;
  t.is(claims.sub, 'carol');
  t.is(claims.acr, 'https://refeds.org/profile/mfa');
  t.deepEqual(claims.amr, ['pwd', 'otp']);
  t.true(Math.abs(Date.now() / 1000 - 120 - (claims.auth_time as number)) < 5);

  const intro = await oidc.tokenIntrospection(config, tokens.access_token);
  t.true(intro.active);
  t.is(intro.sub, 'carol');
  const info = await oidc.fetchUserInfo(config, tokens.access_token, 'carol');
  t.is(info.uidNumber, 20001);
});

test('oidc-provider: a denied device authorization ends in access_denied', async (t) => {
  const op = await startOidcProvider(t, { clients: [CLIENT], accounts: [] });
  const config = await oidc.discovery(new URL(op.issuer), CLIENT.client_id, CLIENT.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
  await op.denyDevice(device.user_code);
  const error = await t.throwsAsync(oidc.pollDeviceAuthorizationGrant(config, { ...device, interval: 0.1 } as typeof device));
  t.is((error as oidc.ResponseBodyError).error, 'access_denied');
});

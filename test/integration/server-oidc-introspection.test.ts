/**
 * Opaque access tokens of a generic provider (oidc-provider, real) checked by
 * RFC 7662 introspection with the server's own client, then the same claim
 * rules as JWTs; a token issued to another client is refused.
 */
import test from 'ava';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { loadServerConfig } from '../../server-pam/config.js';
import { startDaemon } from '../../server-pam/daemon.js';
import { startOidcProvider, type RunningOidcProvider } from '../helpers/oidc-provider.js';
import { BRIDGE_SO, installPamService, PAM_TEXT, pamtester } from '../helpers/pam.js';
import { tempDir } from '../helpers/temp.js';
import { createTestUser } from '../helpers/users.js';

const SECRET = 'introspection-secret-0123456789abcdef';
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';

async function accessToken(op: RunningOidcProvider, clientId: string): Promise<string> {
  const config = await oidc.discovery(new URL(op.issuer), clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
  await op.approveDevice(device.user_code, { accountId: 'carol' });
  return (await oidc.pollDeviceAuthorizationGrant(config, { ...device, interval: 0.1 } as typeof device)).access_token;
}

test('opaque tokens by introspection: admitted for the allowed client, refused for another or when inactive', async (t) => {
  const user = await createTestUser(t);
  const op = await startOidcProvider(t, {
    clients: [
      { client_id: 'oauth-ssh-cli', token_endpoint_auth_method: 'none', grant_types: [DEVICE], redirect_uris: [], response_types: [] },
      { client_id: 'some-other-app', token_endpoint_auth_method: 'none', grant_types: [DEVICE], redirect_uris: [], response_types: [] },
      { client_id: 'ssh-server', client_secret: SECRET, grant_types: [DEVICE], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' },
    ],
    accounts: [{ id: 'carol', claims: {} }],
  });
  const dir = await tempDir(t);
  await writeFile(join(dir, 'secret'), SECRET, { mode: 0o600 });
  await writeFile(join(dir, 'accounts.map'), `carol ${user.name}\n`, { mode: 0o644 });
  const file = join(dir, 'oauth-ssh.conf');
  await writeFile(
    file,
    ['auth_method scitokens', `issuers ${op.issuer}`, `introspection_issuer ${op.issuer}`, 'introspection_client_id ssh-server', `introspection_client_secret_file ${join(dir, 'secret')}`, 'introspection_allowed_clients oauth-ssh-cli', 'jwt_username_claim preferred_username', `map_file ${join(dir, 'accounts.map')}`, `socket ${join(dir, 'run/pam.sock')}`, ''].join('\n'),
  );
  await chmod(file, 0o644);
  const daemon = await startDaemon(loadServerConfig(file), { audit: async () => {}, log: () => {} });
  t.teardown(() => daemon.close());
  const service = await installPamService(t, `auth required ${BRIDGE_SO} socket=${daemon.socketPath}`);
  const login = (token: string) => pamtester(service, user.name, ['authenticate'], `${token}\n`);

  const ours = await accessToken(op, 'oauth-ssh-cli');
  t.false(ours.includes('.'), 'an opaque token');
  t.is((await login(ours)).code, 0);

  const theirs = await login(await accessToken(op, 'some-other-app'));
  t.true(theirs.stderr.includes(PAM_TEXT.AUTH_ERR));
  t.regex(theirs.messages, /not issued for this host/);

  const garbage = await login('not-a-token-at-all');
  t.regex(garbage.messages, /not active/);
});

/**
 * The device flow at the prompt with a generic OIDC provider (oidc-provider,
 * real): plain ssh presses Enter, the server starts the device login with its
 * own client at the provider, the user approves after the prompt appeared,
 * and the JWT access token goes through the JWT rules.
 */
import test from 'ava';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadServerConfig } from '../../server-pam/config.js';
import { startDaemon } from '../../server-pam/daemon.js';
import { sshResourceServer, startOidcProvider } from '../helpers/oidc-provider.js';
import { BRIDGE_SO } from '../helpers/pam.js';
import { runSsh } from '../helpers/ssh.js';
import { startSshd } from '../helpers/sshd.js';
import { tempDir } from '../helpers/temp.js';
import { createTestUser } from '../helpers/users.js';
import type { Teardown } from '../helpers/teardown.js';

const AUD = 'https://ssh.example.org';
const SECRET = 'device-client-secret-0123456789abcdef';

/** oidc-provider issuing JWT access tokens for AUD with scope ssh:/USER, a JWT-only server running the device flow there, and a real sshd. */
async function world(t: Teardown, accountId: string, serverLines: (dir: string, user: string) => Promise<string[]>) {
  const user = await createTestUser(t);
  const op = await startOidcProvider(t, {
    clients: [{ client_id: 'ssh-server', client_secret: SECRET, grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' }],
    accounts: [{ id: accountId, claims: {} }],
    configuration: {
      features: {
        devInteractions: { enabled: false },
        deviceFlow: { enabled: true },
        resourceIndicators: sshResourceServer(AUD, () => `ssh:/${user.name}`, 'jwt'),
      },
    },
  });
  const dir = await tempDir(t);
  const secretFile = join(dir, 'device_secret');
  await writeFile(secretFile, SECRET, { mode: 0o600 });
  const configFile = join(dir, 'oauth-ssh.conf');
  const lines = [`auth_method scitokens`, `issuers ${op.issuer}`, `scitokens_audience ${AUD}`, 'device_flow true', 'device_flow_deadline 30', `device_issuer ${op.issuer}`, 'device_client_id ssh-server', `device_client_secret_file ${secretFile}`, `device_resource ${AUD}`, `socket ${join(dir, 'run/pam.sock')}`];
  await writeFile(configFile, [...lines, ...(await serverLines(dir, user.name)), ''].join('\n'));
  await chmod(configFile, 0o644);
  const daemon = await startDaemon(loadServerConfig(configFile), { audit: async () => {}, log: () => {} });
  t.teardown(() => daemon.close());
  const sshd = await startSshd(t, {
    pamStack: [`auth [success=done default=die] ${BRIDGE_SO} socket=${daemon.socketPath} timeout=10`, `account required ${BRIDGE_SO} socket=${daemon.socketPath}`, 'session required pam_permit.so', ''].join('\n'),
  });
  /** Plain ssh: Enter at the token prompt, and the test approves once the device prompt appeared. */
  const login = (onCode: (code: string, prompt: string) => void) => {
    let seen = false;
    return runSsh(t, sshd, {
      user: user.name,
      answers: ['', ''],
      command: ['id', '-un'],
      sshOptions: ['-o', 'NumberOfPasswordPrompts=1'],
      env: { LC_ALL: 'C.UTF-8' },
      onPrompt: (p) => {
        const code = /enter the code:\s+(\S+)/.exec(p)?.[1];
        if (!code || seen) return;
        seen = true;
        onCode(code, p);
      },
    });
  };
  return { user, op, login };
}

test('plain ssh logs in through a device login at a generic OIDC provider', async (t) => {
  // The server asks only for openid; the account comes from the token's sub through a map file.
  const { user, op, login } = await world(t, 'carol', async (dir, name) => {
    await writeFile(join(dir, 'accounts.map'), `carol ${name}\n`, { mode: 0o644 });
    return ['device_scope openid', 'jwt_username_claim preferred_username', `map_file ${join(dir, 'accounts.map')}`];
  });
  let prompt = '';
  const result = await login((code, p) => {
    prompt = p;
    void op.approveDevice(code, { accountId: 'carol', resourceScope: 'ssh:/nobody' });
  });
  t.is(result.code, 0, result.stderr);
  t.is(result.stdout.trim(), user.name, 'admitted through the map file by sub');
  t.regex(prompt, new RegExp(`Open ${op.issuer.replace(/[.]/g, '\\.')}/device`));
});

test('device_scope with {user}: the provider issues a token scoped to the requested account', async (t) => {
  const { user, op, login } = await world(t, 'dave', async () => ['device_scope openid ssh:/{user}']);
  const result = await login((code) => void op.approveDevice(code, { accountId: 'dave', resourceScope: `ssh:/${user.name}` }));
  t.is(result.code, 0, result.stderr);
  t.is(result.stdout.trim(), user.name, 'admitted by the ssh:/USER scope, no map file');
});

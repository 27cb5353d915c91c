/** The client's token store: a real gnome-keyring Secret Service, the file fallback, and damaged files. */
import test from 'ava';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestIdp } from '../helpers/dev-idp.js';
import { approveWhenShown, clientEnv, runClient } from '../helpers/client.js';
import { BRIDGE_SO } from '../helpers/pam.js';
import { run } from '../helpers/processes.js';
import { startSecretService } from '../helpers/secret-service.js';
import { startTestServer } from '../helpers/server.js';
import { startSshd } from '../helpers/sshd.js';
import { createTestUser } from '../helpers/users.js';
import type { Teardown } from '../helpers/teardown.js';

async function world(t: Teardown, clientConfigBackend: string) {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n` });
  const sshd = await startSshd(t, {
    pamStack: [`auth [success=done default=die] ${BRIDGE_SO} socket=${server.socketPath}`, `account required ${BRIDGE_SO} socket=${server.socketPath}`, 'session required pam_permit.so', ''].join('\n'),
  });
  const client = await clientEnv(t, idp.url, sshd, user.name);
  await writeFile(client.env.OAUTH_SSH_CONFIG!, (await readFile(client.env.OAUTH_SSH_CONFIG!, 'utf8')).replace('backend: file', `backend: ${clientConfigBackend}`));
  return { idp, user, client };
}

test('keychain backend: tokens live in the Secret Service, metadata lists without it', async (t) => {
  const keyring = await startSecretService(t);
  const { idp, user, client } = await world(t, 'keychain');
  client.env.DBUS_SESSION_BUS_ADDRESS = keyring.env.DBUS_SESSION_BUS_ADDRESS;
  const login = await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@example.org') });
  t.is(login.code, 0, login.stderr);
  t.regex(login.stderr, /kept in the keychain/);
  const secret = await run('secret-tool', ['lookup', 'service', 'oauth-ssh', 'username', `ssh.example.org@${new URL(idp.url).host}`], { env: keyring.env });
  t.regex(secret.stdout, /"accessToken":"[A-Za-z0-9_-]{20,}"/);
  const dataDir = join(client.home, '.local/share/oauth-ssh');
  t.false((await readdir(dataDir)).includes('tokens.json'), 'no token file with a keychain');
  t.false((await readFile(join(dataDir, 'hosts.json'), 'utf8')).includes(JSON.parse(secret.stdout).accessToken), 'metadata holds no secret');

  const list = await runClient(client, ['token', 'list', '--json'], { env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent' } });
  t.is(list.code, 0, 'listing works even with the keychain gone (falls back to reading metadata)');
  t.like(JSON.parse(list.stdout)[0], { host: 'ssh.example.org', identity: 'alice@example.org', refresh: true, backend: 'keychain' });
  const ssh = await runClient(client, [...client.sshArgs, client.hostAlias, 'id', '-un']);
  t.is(ssh.stdout.trim(), user.name, ssh.stderr);
});

test('keychain required but absent: a clear error naming the fix', async (t) => {
  const { client } = await world(t, 'keychain');
  const result = await runClient(client, ['login', client.hostAlias, '--device'], { env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent' } });
  t.is(result.code, 1);
  t.regex(result.stderr, /no keychain is available .* set "backend: file"/);
});

test('auto backend without a keychain: file fallback, 0600 in 0700, warned once', async (t) => {
  const { idp, client } = await world(t, 'auto');
  const env = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent' };
  const first = await runClient(client, ['login', client.hostAlias, '--device'], { env, onStderr: approveWhenShown(idp, 'alice@example.org') });
  t.is(first.code, 0, first.stderr);
  t.regex(first.stderr, /no keychain available; keeping tokens in .*tokens\.json \(mode 0600\)/);
  const dir = join(client.home, '.local/share/oauth-ssh');
  t.is((await stat(dir)).mode & 0o777, 0o700);
  t.is((await stat(join(dir, 'tokens.json'))).mode & 0o777, 0o600);
  t.is((await stat(join(dir, 'hosts.json'))).mode & 0o777, 0o600);
  const second = await runClient(client, ['token', 'list'], { env });
  t.notRegex(second.stderr, /no keychain available/, 'the warning comes once');
  t.regex(second.stdout, /ssh\.example\.org +alice@example\.org +Example University +60 min/);
});

test('corrupted cache files: a clear message, moved aside, a fresh login; nothing else lost', async (t) => {
  const { idp, client, user } = await world(t, 'file');
  t.is((await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@example.org') })).code, 0);
  const dir = join(client.home, '.local/share/oauth-ssh');
  await writeFile(join(dir, 'tokens.json'), '{"version":1,"data":{ truncated');
  const noTerminal = await runClient(client, [...client.sshArgs, client.hostAlias, 'true']);
  t.regex(noTerminal.stderr, /the token file .*tokens\.json was unreadable; moved it to .*tokens\.json\.corrupt-\d+ and starting afresh/);
  t.is(noTerminal.code, 3, 'no token any more, and no terminal to log in on');
  t.true((await readdir(dir)).some((f) => f.startsWith('tokens.json.corrupt-')), 'the damaged file is kept for inspection');
  t.is((await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@example.org') })).code, 0);
  const ssh = await runClient(client, [...client.sshArgs, client.hostAlias, 'id', '-un']);
  t.is(ssh.stdout.trim(), user.name);
});

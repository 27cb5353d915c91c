/**
 * The oauth-ssh client against the real sshd + our server + the dev IdP.
 */
import test from 'ava';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestIdp } from '../helpers/dev-idp.js';
import { approveWhenShown, clientEnv, runClient } from '../helpers/client.js';
import { BRIDGE_SO } from '../helpers/pam.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSshd } from '../helpers/sshd.js';
import { createTestUser } from '../helpers/users.js';
import type { Teardown } from '../helpers/teardown.js';

const stack = (server: TestServer) =>
  [`auth [success=done maxtries=die new_authtok_reqd=done default=die] ${BRIDGE_SO} socket=${server.socketPath}`, `account required ${BRIDGE_SO}`, 'session required pam_permit.so', ''].join('\n');

async function world(t: Teardown, serverLines: string[] = []) {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: serverLines });
  const sshd = await startSshd(t, { pamStack: stack(server) });
  const client = await clientEnv(t, idp.url, sshd, user.name);
  return { idp, user, server, sshd, client };
}

test('device login, then ssh runs a command with the cached token and no flow', async (t) => {
  const { idp, user, client, server } = await world(t);
  const login = await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@lab.example.net') });
  t.is(login.code, 0, login.stderr);
  t.regex(login.stderr, /Logged in for ssh\.example\.org as alice@lab\.example\.net \(Example Lab\)/);
  const run = await runClient(client, [...client.sshArgs, client.hostAlias, 'id', '-un']);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout.trim(), user.name);
  t.is(server.audit.at(-1)?.decision, 'SUCCESS');
  const tokens = join(client.home, '.local/share/oauth-ssh/tokens.json');
  t.is((await stat(tokens)).mode & 0o777, 0o600);
  t.is((await stat(join(client.home, '.local/share/oauth-ssh'))).mode & 0o777, 0o700);
  t.true((await readFile(tokens, 'utf8')).length > 0);
});

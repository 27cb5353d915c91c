/**
 * The whole server path with stock OpenSSH: real sshd (own PAM service),
 * pam_oauth_ssh.so, the daemon, the dev IdP, and the real ssh client
 * answering the token prompt through askpass.
 */
import test from 'ava';
import { startTestIdp, tokenFor } from '../helpers/dev-idp.js';
import { BRIDGE_SO } from '../helpers/pam.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { runSsh } from '../helpers/ssh.js';
import { startSshd } from '../helpers/sshd.js';
import { createTestUser } from '../helpers/users.js';

const stack = (server: TestServer) =>
  [
    `auth [success=done maxtries=die new_authtok_reqd=done default=die] ${BRIDGE_SO} socket=${server.socketPath} timeout=10`,
    `account required ${BRIDGE_SO} socket=${server.socketPath}`,
    'session required pam_permit.so',
    '',
  ].join('\n');

test('ssh logs in with a token answered at the prompt; a bad token is denied with the reason shown', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n` });
  const sshd = await startSshd(t, { pamStack: stack(server) });
  const token = await tokenFor(idp, 'alice@example.org');

  const ok = await runSsh(t, sshd, { user: user.name, answers: [token], command: ['id', '-un'] });
  t.is(ok.code, 0, ok.stderr + sshd.log());
  t.is(ok.stdout.trim(), user.name);
  const env = await runSsh(t, sshd, { user: user.name, answers: [token], command: ['printenv', 'OAUTH_SSH_TICKET'] });
  t.regex(env.stdout.trim(), /^[0-9a-f]{64}$/, 'the ticket that sshd\'s monitor process shows the daemon at acct_mgmt and setcred');
  t.deepEqual(ok.prompts, [`(${user.name}@127.0.0.1) Enter your OAuth token:`]);

  const bad = await runSsh(t, sshd, { user: user.name, answers: ['not-a-token'], command: ['true'], sshOptions: ['-o', 'NumberOfPasswordPrompts=1'] });
  t.is(bad.code, 255);
  t.regex(bad.stderr, /Permission denied/);
  // Measured: stock ssh prints the PAM error message of a failed attempt on stderr.
  t.true(bad.stderr.includes('oauth-ssh: the token is not active (expired, revoked, or not issued for this host): run `oauth-ssh login ssh.example.org` to get a new token.'), bad.stderr);
  t.false(sshd.log().includes(token), 'sshd never logs the token');
});

test('with the daemon gone, sshd denies: the bridge fails closed', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n` });
  const sshd = await startSshd(t, { pamStack: stack({ ...server, socketPath: `${server.dir}/no-daemon.sock` }) });
  const result = await runSsh(t, sshd, { user: user.name, answers: [await tokenFor(idp, 'alice@example.org')], command: ['true'], sshOptions: ['-o', 'NumberOfPasswordPrompts=1'] });
  t.is(result.code, 255);
  t.deepEqual(result.prompts, [], 'no prompt: the bridge gave up before asking');
  t.regex(sshd.log(), /Failed keyboard-interactive\/pam/);
});

test('a stale session is denied with what to run, shown by plain ssh', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['authentication_timeout 60'] });
  const sshd = await startSshd(t, { pamStack: stack(server) });
  const token = await tokenFor(idp, 'alice@example.org', { authAge: 3 * 3600 });
  const result = await runSsh(t, sshd, { user: user.name, answers: [token], command: ['true'], sshOptions: ['-o', 'NumberOfPasswordPrompts=1'] });
  t.is(result.code, 255);
  t.true(result.stderr.includes('your last login at Example University was 3 h ago; this host requires one within 60 min: run `oauth-ssh login ssh.example.org --force-login`'), result.stderr);
});

test('a user name that does not exist: sshd swaps the answer, and the user is not told their token is bad', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n` });
  const sshd = await startSshd(t, { pamStack: stack(server) });
  const typo = `${user.name}x`;
  const result = await runSsh(t, sshd, { user: typo, answers: [await tokenFor(idp, 'alice@example.org')], command: ['true'], sshOptions: ['-o', 'NumberOfPasswordPrompts=1'] });
  t.is(result.code, 255);
  t.true(result.stderr.includes(`oauth-ssh: no local account ${typo} for your identity, or you are not permitted to use it; check the user name.`), result.stderr);
  t.false(result.stderr.includes('not active'), 'not "the token is not active"');
  t.like(server.audit.at(-1), { user: typo, decision: 'USER_UNKNOWN', reason: 'sshd gave its invalid-user answer (no such account)' });
});

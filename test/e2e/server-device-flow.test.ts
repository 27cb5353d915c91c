/**
 * The device flow at the prompt, for plain ssh: an empty answer to the token
 * prompt starts it; the URL, code and QR code arrive in one prompt; approval
 * happens only after that prompt appeared; then the usual mapping and policy.
 */
import test from 'ava';
import { startTestIdp } from '../helpers/dev-idp.js';
import { BRIDGE_SO } from '../helpers/pam.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { runSsh } from '../helpers/ssh.js';
import { startSshd } from '../helpers/sshd.js';
import { createTestUser } from '../helpers/users.js';
import type { Teardown } from '../helpers/teardown.js';

const stack = (server: TestServer) =>
  [`auth [success=done maxtries=die default=die] ${BRIDGE_SO} socket=${server.socketPath} timeout=10`, `account required ${BRIDGE_SO} socket=${server.socketPath}`, 'session required pam_permit.so', ''].join('\n');

async function world(t: Teardown, lines: string[] = []) {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['device_flow true', 'device_flow_deadline 20', ...lines] });
  const sshd = await startSshd(t, { pamStack: stack(server) });
  return { idp, user, server, sshd };
}

const codeIn = (prompt: string) => /enter the code:\s+([A-Z]{4}-[A-Z]{4})/.exec(prompt)?.[1];

test('plain ssh: Enter at the token prompt, approve on another device, logged in', async (t) => {
  const { idp, user, sshd, server } = await world(t);
  let devicePrompt = '';
  const result = await runSsh(t, sshd, {
    user: user.name,
    answers: ['', ''],
    command: ['id', '-un'],
    env: { LC_ALL: 'C.UTF-8' },
    onPrompt: (prompt) => {
      const code = codeIn(prompt);
      if (!code) return;
      devicePrompt = prompt;
      void idp.control('POST', `devices/${code}/approve`, { identity: 'alice@lab.example.net' });
    },
  });
  t.is(result.code, 0, result.stderr + sshd.log());
  t.is(result.stdout.trim(), user.name);
  t.true(result.prompts[0]!.endsWith('Enter your OAuth token:'));
  t.regex(devicePrompt, /Open http:\/\/127\.0\.0\.1:\d+\/v2\/web\/device/);
  t.regex(devicePrompt, /Press Enter once you have approved:$/);
  t.regex(devicePrompt, /[█▀▄]/, 'a QR code (measured: in the C locale ssh escapes it as \\342\\226\\210…)');
  t.false(/\u001b/.test(devicePrompt), 'no escape sequences');
  t.like(server.audit.at(-1), { op: 'device', decision: 'SUCCESS', identity: 'alice@example.org', idp: 'Example Lab' });
});

test('never approved: a bounded failure with a message; denied: access denied', async (t) => {
  const { idp, user, sshd, server } = await world(t, ['device_qr false']);
  const never = await runSsh(t, sshd, { user: user.name, answers: ['', ''], command: ['true'], sshOptions: ['-o', 'NumberOfPasswordPrompts=1'] });
  t.is(never.code, 255);
  t.regex(never.stderr, /the login was not approved in time; connect again to get a new code/);
  t.like(server.audit.at(-1), { op: 'device', decision: 'AUTH_ERR', reason: 'the login was not approved in time; connect again to get a new code' }, 'ended by the deadline, as the daemon reports');
  t.notRegex(never.prompts.join('\n'), /[█▀▄]/, 'device_qr false');

  const denied = await runSsh(t, sshd, {
    user: user.name,
    answers: ['', ''],
    command: ['true'],
    sshOptions: ['-o', 'NumberOfPasswordPrompts=1'],
    onPrompt: (prompt) => {
      const code = codeIn(prompt);
      if (code) void idp.control('POST', `devices/${code}/deny`);
    },
  });
  t.is(denied.code, 255);
  t.regex(denied.stderr, /the login was denied at the authorization server/);
});

test('the device login still goes through mapping: a wrong user is refused', async (t) => {
  const { idp, sshd, server } = await world(t);
  const other = await createTestUser(t);
  const result = await runSsh(t, sshd, {
    user: other.name,
    answers: ['', ''],
    command: ['true'],
    sshOptions: ['-o', 'NumberOfPasswordPrompts=1'],
    onPrompt: (prompt) => {
      const code = codeIn(prompt);
      if (code) void idp.control('POST', `devices/${code}/approve`, { identity: 'alice@example.org' });
    },
  });
  t.is(result.code, 255);
  t.regex(result.stderr, new RegExp(`alice@example\\.org may not log in as ${other.name}`));
  t.like(server.audit.at(-1), { op: 'device', decision: 'USER_UNKNOWN' });
});

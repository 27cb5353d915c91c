/**
 * Proves the real-sshd harness with no product code: a throwaway PAM stack
 * (pam_exec checking a one-time password from a 0600 file) on our own PAM
 * service, a real test user, and the real ssh client answering through askpass.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runSsh } from '../helpers/ssh.js';
import { startSshd } from '../helpers/sshd.js';
import { tempDir } from '../helpers/temp.js';
import { createTestUser } from '../helpers/users.js';

async function passwordCheckingStack(t: Parameters<typeof tempDir>[0], password: string): Promise<string> {
  const dir = await tempDir(t, 'oauth-ssh-pamexec-');
  await chmod(dir, 0o755);
  const expected = join(dir, 'expected');
  await writeFile(expected, password, { mode: 0o600 });
  const check = join(dir, 'check');
  // pam_exec hands the answer on stdin (expose_authtok), NUL-terminated.
  await writeFile(check, `#!/bin/sh\nIFS= read -r answer\n[ "$(printf '%s' "$answer" | tr -d '\\000')" = "$(cat '${expected}')" ]\n`, { mode: 0o700 });
  return [
    `auth required pam_exec.so expose_authtok quiet ${check}`,
    'auth required pam_permit.so',
    'account required pam_permit.so',
    'session required pam_permit.so',
    '',
  ].join('\n');
}

test('real sshd + throwaway pam_exec service: right answer logs in, wrong answer is denied', async (t) => {
  const user = await createTestUser(t);
  const sshd = await startSshd(t, { pamStack: await passwordCheckingStack(t, 'correct horse') });
  t.true(existsSync(`/etc/pam.d/${sshd.serviceName}`));

  const ok = await runSsh(t, sshd, { user: user.name, answers: ['correct horse'], command: ['id', '-un'] });
  t.is(ok.code, 0, ok.stderr + sshd.log());
  t.is(ok.stdout.trim(), user.name);
  t.deepEqual(ok.prompts, [`(${user.name}@127.0.0.1) Password:`]);
  t.regex(sshd.log(), new RegExp(`Accepted keyboard-interactive/pam for ${user.name}`));

  const denied = await runSsh(t, sshd, { user: user.name, answers: ['wrong'], command: ['id', '-un'], sshOptions: ['-o', 'NumberOfPasswordPrompts=1'] });
  t.is(denied.code, 255);
  t.regex(denied.stderr, /Permission denied/);
  t.is(denied.stdout, '');
});

test('the PAM service of a test sshd is its own and is removed afterwards', async (t) => {
  let serviceFile = '';
  await t.try(async (tt) => {
    const sshd = await startSshd(tt, { pamStack: 'auth required pam_deny.so\n' });
    serviceFile = `/etc/pam.d/${sshd.serviceName}`;
    tt.true(existsSync(serviceFile));
    tt.regex(sshd.serviceName, /^oauth-ssh-test-[0-9a-f]{8}$/);
  }).then((r) => r.commit());
  t.false(existsSync(serviceFile), 'teardown removed the PAM service file');
  t.true(existsSync('/etc/pam.d/sshd') || !existsSync('/usr/sbin/sshd'), 'the machine\'s own sshd service is untouched');
});

/** The README's demo command runs end to end without a terminal and leaves nothing behind. */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { run } from '../helpers/processes.js';

test('the demo logs in with oauth-ssh through the real sshd, shows a denial with its reason, and cleans up', async (t) => {
  const pamBefore = readdirSync('/etc/pam.d').filter((f) => f.startsWith('oauth-ssh-test-'));
  const result = await run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { timeoutMs: 120_000 });
  t.is(result.code, 0, result.stdout + result.stderr);
  t.regex(result.stdout, /Logged in for ssh\.example\.org as alice@example\.org \(Example University\)/);
  t.regex(result.stdout, /\$ oauth-ssh -F \S+ demo-host id -un; uptime\n {3}oauthdemo\n/);
  t.regex(result.stdout, /this host requires one within 60 min: run `oauth-ssh login ssh\.example\.org --force-login`/);
  t.regex(result.stdout, /Logged out of ssh\.example\.org/);
  t.regex(result.stdout, /demo: all steps behaved as expected/);
  t.is((await run('getent', ['passwd', 'oauthdemo'])).code, 2, 'the demo account is gone');
  const created = readdirSync('/etc/pam.d').filter((f) => f.startsWith('oauth-ssh-test-') && !pamBefore.includes(f) && result.stdout.includes(f));
  t.deepEqual(created, [], 'its PAM service is gone');
});

/** The README's demo command runs end to end without a terminal and leaves nothing behind. */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { run } from '../helpers/processes.js';

test('the demo logs in through the real sshd, shows both denials, and cleans up', async (t) => {
  const result = await run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { timeoutMs: 120_000 });
  t.is(result.code, 0, result.stdout + result.stderr);
  t.regex(result.stdout, /prompt seen: \(oauthdemo@127\.0\.0\.1\) Enter your OAuth token:/);
  t.regex(result.stdout, /exit 0; output:\n {3}oauthdemo\n/);
  t.regex(result.stdout, /this host requires one within 60 min/);
  t.regex(result.stdout, /the token is not active/);
  t.regex(result.stdout, /demo: all steps behaved as expected/);
  t.regex(result.stdout, /sha256 [0-9a-f]{12}…/, 'the token is shown only as a hash prefix');
  t.is((await run('getent', ['passwd', 'oauthdemo'])).code, 2, 'the demo account is gone');
  t.deepEqual(readdirSync('/etc/pam.d').filter((f) => result.stdout.includes(f) && f.startsWith('oauth-ssh-test-')), []);
});

/**
 * The Debian packages, end to end (scripts/test-packages): built by
 * scripts/package, installed with dpkg into a fresh Debian 13 root (made once
 * by debootstrap, cached), the daemon as its own account, `oauth-ssh-server
 * install`, the root's own sshd, a login with a token, uninstall byte for
 * byte, purge. OAUTH_SSH_SKIP_PACKAGES=1 leaves it out (no Debian mirror).
 */
import test from 'ava';
import { run } from '../helpers/processes.js';

const skip = process.env.OAUTH_SSH_SKIP_PACKAGES === '1';

(skip ? test.skip : test)('the packages install into a fresh Debian root and a login works through them', async (t) => {
  const result = await run(process.execPath, ['--import', 'tsx', 'scripts/test-packages.ts'], { timeoutMs: 15 * 60_000 });
  t.log(result.stdout.trim());
  t.is(result.code, 0, `${result.stdout}\n${result.stderr}`);
  t.regex(result.stdout, /logged in through the installed packages/);
  t.regex(result.stdout, /keys keep working after install/);
  t.regex(result.stdout, /a man page with each command, bash\/zsh\/fish completions, a setup helper that runs \/usr\/bin\/oauth-ssh/);
  t.regex(result.stdout, /passwords keep working after install/);
  t.regex(result.stdout, /PAM file byte for byte\), dpkg --purge: nothing left/);
});

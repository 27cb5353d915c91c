/**
 * `oauth-ssh-server install` / `uninstall` on a copy of this machine's real
 * /etc/ssh and /etc/pam.d/sshd (never the originals), validated with the
 * real sshd -t / -T and a real PAM self-check: the round trip is byte for
 * byte, twice is a no-op, --dry-run changes nothing, a configuration sshd
 * refuses is never left behind, and keys and passwords keep working.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { currentDropIns, pamWithOauth, pamWithoutOauth, paths, sshdEffective } from '../../server-pam/install.js';
import { BRIDGE_SO } from '../helpers/pam.js';
import { run } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp.js';
import type { Teardown } from '../helpers/teardown.js';

const SERVER = [process.execPath, '--import', 'tsx', 'server-pam/bin.ts'] as const;
const server = (args: string[]) => run(SERVER[0], [...SERVER.slice(1), ...args], { timeoutMs: 60_000 });
const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

/** A copy of the parts of /etc that install touches. */
async function fakeRoot(t: Teardown): Promise<string> {
  const root = await tempDir(t, 'oauth-ssh-test-root-');
  await mkdir(join(root, 'etc/pam.d'), { recursive: true });
  await cp('/etc/ssh', join(root, 'etc/ssh'), { recursive: true });
  await cp('/etc/pam.d/sshd', join(root, 'etc/pam.d/sshd'));
  return root;
}

test('install then uninstall: the files come back byte for byte; twice is a no-op; --dry-run changes nothing', async (t) => {
  const root = await fakeRoot(t);
  const pam = join(root, 'etc/pam.d/sshd');
  const dropIn = join(root, 'etc/ssh/sshd_config.d/50-oauth-ssh.conf');
  const before = await sha(pam);
  const args = ['--root', root, '--module', BRIDGE_SO];

  const dry = await server(['install', '--dry-run', ...args]);
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /^\+auth \[success=done maxtries=die new_authtok_reqd=done ignore=ignore default=ignore\] .*pam_oauth_ssh\.so socket=\/run\/oauth-ssh\/pam\.sock$/m);
  t.regex(dry.stdout, /^\+KbdInteractiveAuthentication yes$/m);
  t.is(await sha(pam), before, '--dry-run wrote nothing');

  const installed = await server(['install', ...args]);
  t.is(installed.code, 0, installed.stderr);
  t.regex(installed.stdout, /updated .*pam\.d\/sshd\ncreated .*50-oauth-ssh\.conf/);
  const text = await readFile(pam, 'utf8');
  t.true(text.indexOf('pam_oauth_ssh.so') < text.indexOf('@include common-auth'), 'before common-auth: tried first, passwords after');
  t.regex(await readFile(dropIn, 'utf8'), /^KbdInteractiveAuthentication yes$/m);
  const again = await server(['install', ...args]);
  t.regex(again.stdout, /nothing to change \(already installed\)/);
  t.is(await readFile(pam, 'utf8'), text, 'twice is the same as once');

  const removed = await server(['uninstall', '--root', root]);
  t.is(removed.code, 0, removed.stderr);
  t.is(await sha(pam), before, 'byte for byte');
  t.false((await run('test', ['-e', dropIn])).code === 0, 'the drop-in is gone');
  t.regex((await server(['uninstall', '--root', root])).stdout, /nothing to change/);
});

test('keys and passwords keep working: sshd still offers them, and a failed token falls through', async (t) => {
  const root = await fakeRoot(t);
  t.is((await server(['install', '--root', root, '--module', BRIDGE_SO])).code, 0);
  // What sshd runs with, from the installed files (sshd -T).
  const effective = sshdEffective(paths(root), currentDropIns(paths(root)));
  t.is(effective.get('pubkeyauthentication'), 'yes');
  t.is(effective.get('passwordauthentication'), (await run('sshd', ['-T'])).stdout.match(/^passwordauthentication (\S+)$/m)?.[1], 'password logins as before');
  t.is(effective.get('kbdinteractiveauthentication'), 'yes');
  t.is(effective.get('authenticationmethods'), 'any', 'no AuthenticationMethods that would shut other methods out');
  t.regex(await readFile(join(root, 'etc/pam.d/sshd'), 'utf8'), /default=ignore\] /, 'a failed token goes on to common-auth');
  const only = await fakeRoot(t);
  t.is((await server(['install', '--root', only, '--module', BRIDGE_SO, '--only-oauth'])).code, 0);
  t.regex(await readFile(join(only, 'etc/pam.d/sshd'), 'utf8'), /default=die\] /, '--only-oauth asks for it');
});

test('refused before anything changes: a drop-in sshd would not read, a missing module, a PAM file without an auth section', async (t) => {
  const root = await fakeRoot(t);
  const config = join(root, 'etc/ssh/sshd_config');
  const pam = join(root, 'etc/pam.d/sshd');
  const before = await sha(pam);
  // KbdInteractiveAuthentication no before the Include: the first value wins in sshd, and our drop-in would do nothing.
  await writeFile(config, `KbdInteractiveAuthentication no\n${(await readFile(config, 'utf8')).replace(/^KbdInteractiveAuthentication.*$/m, '')}`);
  const shadowed = await server(['install', '--root', root, '--module', BRIDGE_SO]);
  t.is(shadowed.code, 2);
  t.regex(shadowed.stderr, /sshd would still run with kbdinteractiveauthentication no: .* sets it before its Include/);
  t.is(await sha(pam), before);

  const missing = await server(['install', '--root', await fakeRoot(t), '--module', '/nonexistent/pam_oauth_ssh.so']);
  t.regex(missing.stderr, /the PAM module \/nonexistent\/pam_oauth_ssh\.so does not exist/);

  const broken = await fakeRoot(t);
  await writeFile(join(broken, 'etc/ssh/sshd_config.d/99-typo.conf'), 'NoSuchOption yes\n');
  const typo = await server(['install', '--root', broken, '--module', BRIDGE_SO]);
  t.regex(typo.stderr, /sshd -t refuses the configuration/);
  t.is(await sha(join(broken, 'etc/pam.d/sshd')), before, 'nothing replaced');

  const opts = { socket: '/s', module: 'm', moduleArgs: [], onlyOauth: false };
  t.throws(() => pamWithOauth('session required pam_permit.so\n', opts), { message: /has no "@include common-auth"/ });
  t.throws(() => pamWithOauth('@include common-auth-2fa\naccount required pam_permit.so\n', opts), { message: /has no "@include common-auth"/, instanceOf: Error }, 'common-auth-2fa is not common-auth');
  // A second factor after common-auth would be skipped by success=done: refused, not silently bypassed.
  t.throws(() => pamWithOauth('@include common-auth\nauth required pam_google_authenticator.so\n@include common-account\n', opts), { message: /auth lines after common-auth .*would skip/ });
  // A deny list before common-auth still runs before the token is even asked for.
  const withDeny = pamWithOauth('auth required pam_listfile.so item=user sense=deny file=/etc/ssh/deny onerr=succeed\n@include common-auth\n@include common-account\n', opts);
  t.true(withDeny.indexOf('pam_listfile') < withDeny.indexOf(' m socket=/s'), 'our line goes after the admin\'s earlier auth lines');
  t.regex(withDeny, /^account \[success=ok default=ignore\] m socket=\/s$/m, 'a module PAM cannot load is ignored in account, never a lockout');
});

test('with PasswordAuthentication no, install refuses to let passwords back in through keyboard-interactive unless --only-oauth', async (t) => {
  const root = await fakeRoot(t);
  const config = join(root, 'etc/ssh/sshd_config');
  await writeFile(join(root, 'etc/ssh/sshd_config.d/10-no-passwords.conf'), 'PasswordAuthentication no\n');
  const refused = await server(['install', '--root', root, '--module', BRIDGE_SO]);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /PasswordAuthentication no, and keyboard-interactive would let pam_unix ask for passwords after a failed token: run install --only-oauth/);
  const only = await server(['install', '--root', root, '--module', BRIDGE_SO, '--only-oauth']);
  t.is(only.code, 0, only.stderr);
  t.regex(await readFile(join(root, 'etc/pam.d/sshd'), 'utf8'), /default=die\] /);
  t.truthy(config);
});

test('a symlinked /etc/pam.d/sshd is written through to its target; a drop-in someone else wrote is not overwritten', async (t) => {
  const { rename, symlink, lstat } = await import('node:fs/promises');
  const root = await fakeRoot(t);
  const pam = join(root, 'etc/pam.d/sshd');
  await rename(pam, join(root, 'etc/pam.d/sshd.real'));
  await symlink('sshd.real', pam);
  t.is((await server(['install', '--root', root, '--module', BRIDGE_SO])).code, 0);
  t.true((await lstat(pam)).isSymbolicLink(), 'still a symlink');
  t.regex(await readFile(join(root, 'etc/pam.d/sshd.real'), 'utf8'), /pam_oauth_ssh/);
  const other = await fakeRoot(t);
  await writeFile(join(other, 'etc/ssh/sshd_config.d/50-oauth-ssh.conf'), 'UsePAM yes\n');
  t.regex((await server(['install', '--root', other, '--module', BRIDGE_SO])).stderr, /was not written by oauth-ssh-server install: move it away first/);
});

test('uninstall keeps the administrator\'s other edits, and refuses a drop-in it did not write', async (t) => {
  const root = await fakeRoot(t);
  const pam = join(root, 'etc/pam.d/sshd');
  t.is((await server(['install', '--root', root, '--module', BRIDGE_SO])).code, 0);
  await writeFile(pam, `${await readFile(pam, 'utf8')}# added by the admin later\n`);
  const out = await server(['uninstall', '--root', root]);
  t.is(out.code, 0, out.stderr);
  t.regex(out.stdout, /your other edits are kept/);
  t.regex(await readFile(pam, 'utf8'), /# added by the admin later/);
  t.notRegex(await readFile(pam, 'utf8'), /pam_oauth_ssh/);

  const other = await fakeRoot(t);
  await writeFile(join(other, 'etc/ssh/sshd_config.d/50-oauth-ssh.conf'), 'UsePAM yes\n');
  t.regex((await server(['uninstall', '--root', other])).stderr, /was not written by oauth-ssh-server install: remove it yourself/);
  t.is(pamWithoutOauth('a\nb\n'), 'a\nb\n');
});

test('a check that fails after the files were replaced restores them all', async (t) => {
  const { planInstall, applyChanges } = await import('../../server-pam/install.js');
  const root = await fakeRoot(t);
  const pam = join(root, 'etc/pam.d/sshd');
  const before = await sha(pam);
  const plan = planInstall(root, { socket: '/run/oauth-ssh/pam.sock', module: BRIDGE_SO, moduleArgs: [], onlyOauth: false });
  // An sshd that refuses whatever it is given now: the state a real one cannot be put in on demand.
  const dir = await tempDir(t);
  await writeFile(join(dir, 'sshd'), '#!/bin/sh\necho "sshd: simulated refusal" >&2\nexit 255\n', { mode: 0o755 });
  t.throws(() => applyChanges(root, plan, { sshd: join(dir, 'sshd') }), { message: /sshd -t refuses .*simulated refusal.*everything was restored/ });
  t.is(await sha(pam), before, 'the PAM file is the original');
  t.is((await run('test', ['-e', join(root, 'etc/ssh/sshd_config.d/50-oauth-ssh.conf')])).code, 1, 'the drop-in is gone again');
});

test('with a daemon running, install first makes the round trip the new lines will make; a wrong daemon_user is refused', async (t) => {
  const { startTestIdp } = await import('../helpers/dev-idp.js');
  const { startTestServer } = await import('../helpers/server.js');
  const idp = await startTestIdp(t);
  const running = await startTestServer(t, { authUrl: idp.url });
  const root = await fakeRoot(t);
  const wrong = await server(['install', '--root', root, '--module', BRIDGE_SO, '--socket', running.socketPath, '--daemon-user', 'nobody']);
  t.is(wrong.code, 2);
  t.regex(wrong.stderr, /could not get an answer from the daemon at .* \(daemon_user=nobody\).*is --daemon-user right\?/);
  const right = await server(['install', '--root', root, '--module', BRIDGE_SO, '--socket', running.socketPath]);
  t.is(right.code, 0, right.stderr);
  t.notRegex(right.stdout, /no daemon listens/);
  const absent = await server(['install', '--dry-run', '--root', await fakeRoot(t), '--module', BRIDGE_SO, '--socket', '/run/oauth-ssh-none/pam.sock']);
  t.regex(absent.stdout, /note: no daemon listens at \/run\/oauth-ssh-none\/pam\.sock yet: start oauth-ssh-server before you reload sshd/);
});

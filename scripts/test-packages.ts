/**
 * scripts/test-packages: the Debian packages in a fresh Debian 13 root (it has
 * nodejs 20.19; Debian 12's is 18). debootstrap makes the root once into a
 * cache (/var/cache/oauth-ssh-test/trixie, ~400 MB, ~1 min); each run works on
 * a copy of it, chrooted, and:
 *  1. installs both .deb files with dpkg (dependencies from the root);
 *  2. checks what the maintainer scripts made: the accounts, /etc/oauth_ssh,
 *     the unit (systemd-analyze verify);
 *  3. runs `oauth-ssh-server install --daemon-user oauth-ssh-server` there,
 *     the daemon as its own account, and the root's own sshd on a loopback
 *     port, and logs in from outside with a token from the dev IdP;
 *  4. runs `oauth-ssh-server uninstall` (PAM file byte for byte) and purges
 *     both packages.
 * Not in the main suite (it needs the mirror once, and minutes); see README.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IDS, SSH_SERVICE_SECRET, startTestIdp, tokenFor } from '../test/helpers/dev-idp.js';
import { run, runOk, stopProcess, waitForOutput } from '../test/helpers/processes.js';
import { scriptTeardown } from '../test/helpers/teardown.js';

const CACHE = '/var/cache/oauth-ssh-test/trixie';
const t = scriptTeardown();
const step = (s: string) => console.log(`- ${s}`);
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function freshRoot(): Promise<string> {
  if (!existsSync(join(CACHE, 'usr/bin/node'))) {
    step(`debootstrap Debian 13 into ${CACHE} (once)`);
    await runOk('debootstrap', ['--variant=minbase', '--include=nodejs,openssh-server,openssh-client,libpam0g,ca-certificates,systemd,pamtester', 'trixie', `${CACHE}.tmp`, 'http://deb.debian.org/debian'], { timeoutMs: 15 * 60_000 });
    await runOk('mv', [`${CACHE}.tmp`, CACHE]);
  }
  const root = mkdtempSync('/var/tmp/oauth-ssh-pkg-');
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  await runOk('cp', ['-a', `${CACHE}/.`, root]); // device nodes and all
  for (const [what, where] of [['/dev', 'dev'], ['/proc', 'proc']] as const) {
    await runOk('mount', ['--bind', what, join(root, where)]);
    t.teardown(() => run('umount', ['-l', join(root, where)]));
  }
  return root;
}

const inRoot = (root: string, args: string[], user?: string) => runOk('chroot', [...(user ? [`--userspec=${user}`] : []), root, ...args], { timeoutMs: 120_000 });

function background(root: string, args: string[], user?: string): { child: ChildProcess; output: () => string } {
  const child = spawn('chroot', [...(user ? [`--userspec=${user}`] : []), root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  t.teardown(() => stopProcess(child));
  return { child, output: () => out };
}

try {
  const debs = (await runOk('bash', ['scripts/package'])).trim().split('\n').filter((l) => l.endsWith('.deb'));
  step(`built ${debs.join(', ')}`);
  const root = await freshRoot();
  for (const deb of debs) cpSync(deb, join(root, 'tmp', deb.split('/').pop()!));
  const pamBefore = sha(join(root, 'etc/pam.d/sshd'));
  // Dependencies the cached root may lack (pamtester, for install's self-check) come from the mirror.
  if (!existsSync(join(root, 'usr/bin/pamtester'))) await inRoot(root, ['sh', '-c', 'apt-get update -qq && apt-get install -y -qq pamtester >/dev/null']);
  await inRoot(root, ['sh', '-c', 'dpkg -i /tmp/*.deb']);
  step('dpkg -i: both packages installed');

  await inRoot(root, ['getent', 'passwd', 'oauth-ssh-server']);
  await inRoot(root, ['getent', 'passwd', 'oauth-ssh']);
  const etc = (await inRoot(root, ['stat', '-c', '%a %U %G', '/etc/oauth_ssh'])).trim();
  if (etc !== '750 root oauth-ssh-server') throw new Error(`/etc/oauth_ssh is ${etc}`);
  await inRoot(root, ['systemd-analyze', 'verify', '--man=no', '/lib/systemd/system/oauth-ssh-server.service']);
  for (const bin of ['oauth-ssh-server', 'oauth-ssh', 'oauth-ssh-dev-idp']) await inRoot(root, [bin, '--version']);
  step('accounts, /etc/oauth_ssh (0750 root:oauth-ssh-server), the unit (systemd-analyze verify), --version');

  // The client as installed: man page with every command, completions, and a setup helper that names /usr/bin/oauth-ssh only.
  const man = await inRoot(root, ['sh', '-c', 'zcat /usr/share/man/man1/oauth-ssh.1.gz']);
  for (const section of ['oauth-ssh login', 'oauth-ssh token show', 'oauth-ssh doctor', '--force-login']) if (!man.includes(section)) throw new Error(`the man page lacks ${section}`);
  const completed = await inRoot(root, ['bash', '-c', 'source /usr/share/bash-completion/completions/oauth-ssh; COMP_WORDS=(oauth-ssh tok); COMP_CWORD=1; _oauth_ssh_completions; echo "${COMPREPLY[@]}"']);
  if (completed.trim() !== 'token') throw new Error(`bash completion gave "${completed.trim()}"`);
  for (const f of ['/usr/share/zsh/vendor-completions/_oauth-ssh', '/usr/share/fish/vendor_completions.d/oauth-ssh.fish']) await inRoot(root, ['test', '-s', f]);
  const helper = await inRoot(root, ['sh', '-c', 'mkdir -p /tmp/h && HOME=/tmp/h XDG_DATA_HOME=/tmp/h/data oauth-ssh setup "*.example.org" >/dev/null && cat /tmp/h/data/oauth-ssh/oauth-ssh-helper; rm -rf /tmp/h']);
  // What it runs is the installed command; node's own path is only the fallback for a PATH without node.
  const runs = helper.split('\n').filter((l) => l.startsWith('exec '));
  if (runs.length !== 1 || !runs[0]!.startsWith("exec '/usr/bin/oauth-ssh'")) throw new Error(`the setup helper does not run /usr/bin/oauth-ssh: ${helper}`);
  if (!/^command -v node >\/dev\/null 2>&1 \|\| exec /m.test(helper)) throw new Error(`the setup helper has no fallback for a PATH without node: ${helper}`);
  step('the client: a man page with each command, bash/zsh/fish completions, a setup helper that runs /usr/bin/oauth-ssh');

  // The dev IdP from this repository, on loopback (the chroot shares the network).
  const idp = await startTestIdp(t);
  await inRoot(root, ['useradd', '--create-home', '--shell', '/bin/sh', 'alice']);
  const config = [`client_id ${IDS.sshService}`, `client_secret ${SSH_SERVICE_SECRET}`, `auth_url ${idp.url}`, 'idp_suffix example.org', 'audit_log stderr', ''].join('\n');
  writeFileSync(join(root, 'etc/oauth_ssh/oauth-ssh.conf'), config, { mode: 0o600 });
  await inRoot(root, ['chown', 'oauth-ssh-server:oauth-ssh-server', '/etc/oauth_ssh/oauth-ssh.conf']);
  await inRoot(root, ['install', '-d', '-m', '0700', '-o', 'oauth-ssh-server', '-g', 'oauth-ssh-server', '/run/oauth-ssh']);
  await inRoot(root, ['oauth-ssh-server', 'check', '--offline']);
  const daemon = background(root, ['oauth-ssh-server', 'serve', '--config', '/etc/oauth_ssh/oauth-ssh.conf'], 'oauth-ssh-server:oauth-ssh-server');
  await waitForOutput(daemon.child, daemon.output, /listening on/, 30_000);
  step('the daemon runs as oauth-ssh-server (no root), its socket in /run/oauth-ssh');

  await inRoot(root, ['oauth-ssh-server', 'install', '--daemon-user', 'oauth-ssh-server']);
  await inRoot(root, ['ssh-keygen', '-A']);
  await inRoot(root, ['install', '-d', '-m', '0755', '/run/sshd']);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const sshd = background(root, ['/usr/sbin/sshd', '-D', '-e', '-p', String(port), '-o', 'ListenAddress=127.0.0.1']);
  await waitForOutput(sshd.child, sshd.output, /Server listening/, 20_000);
  step(`oauth-ssh-server install (validated), and the root's own sshd on 127.0.0.1:${port}`);

  const token = await tokenFor(idp, 'alice@example.org');
  const dir = mkdtempSync('/tmp/oauth-ssh-pkg-client-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
  writeFileSync(join(dir, 'askpass'), `#!/bin/sh\ncase "$1" in *"OAuth token"*) cat ${join(dir, 'token')};; esac\n`, { mode: 0o700 });
  const ssh = await run('ssh', ['-F', '/dev/null', '-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'PreferredAuthentications=keyboard-interactive', '-o', 'NumberOfPasswordPrompts=1', 'alice@127.0.0.1', 'id', '-un'], {
    env: { ...process.env, SSH_ASKPASS: join(dir, 'askpass'), SSH_ASKPASS_REQUIRE: 'force', DISPLAY: 'none' },
    timeoutMs: 60_000,
  });
  if (ssh.code !== 0 || ssh.stdout.trim() !== 'alice') throw new Error(`the login failed (${ssh.code}): ${ssh.stderr}\n${sshd.output()}\n${daemon.output()}`);
  step('ssh alice@127.0.0.1 with an OAuth token: logged in through the installed packages');

  // Keys keep working after install: an administrator is never locked out.
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
  await inRoot(root, ['install', '-d', '-m', '0700', '-o', 'alice', '-g', 'alice', '/home/alice/.ssh']);
  writeFileSync(join(root, 'home/alice/.ssh/authorized_keys'), readFileSync(join(dir, 'key.pub')), { mode: 0o600 });
  await inRoot(root, ['chown', 'alice:alice', '/home/alice/.ssh/authorized_keys']);
  const byKey = await run('ssh', ['-F', '/dev/null', '-p', String(port), '-i', join(dir, 'key'), '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'PreferredAuthentications=publickey', '-o', 'BatchMode=yes', 'alice@127.0.0.1', 'id', '-un'], { timeoutMs: 60_000 });
  if (byKey.code !== 0 || byKey.stdout.trim() !== 'alice') throw new Error(`a publickey login failed after install (${byKey.code}): ${byKey.stderr}\n${sshd.output()}`);
  step('ssh -i key alice@127.0.0.1: keys keep working after install');

  // Passwords too: no token at the token prompt falls through to pam_unix's password prompt.
  await run('chroot', [root, 'chpasswd'], { input: 'alice:correct-horse-battery\n' });
  writeFileSync(join(dir, 'askpass-password'), `#!/bin/sh\ncase "$1" in *"OAuth token"*) echo;; *assword*) echo correct-horse-battery;; esac\n`, { mode: 0o700 });
  const byPassword = await run('ssh', ['-F', '/dev/null', '-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'PreferredAuthentications=keyboard-interactive', 'alice@127.0.0.1', 'id', '-un'], {
    env: { ...process.env, SSH_ASKPASS: join(dir, 'askpass-password'), SSH_ASKPASS_REQUIRE: 'force', DISPLAY: 'none' },
    timeoutMs: 60_000,
  });
  if (byPassword.code !== 0 || byPassword.stdout.trim() !== 'alice') throw new Error(`a password login failed after install (${byPassword.code}): ${byPassword.stderr}\n${sshd.output()}`);
  step('ssh alice@127.0.0.1 with a password (Enter at the token prompt): passwords keep working after install');

  // Removing the package while PAM still loads the module is refused, and the daemon keeps running.
  const early = await run('chroot', [root, 'dpkg', '--remove', 'oauth-ssh-server']);
  if (early.code === 0 || !/still load pam_oauth_ssh\.so/.test(`${early.stdout}${early.stderr}`)) throw new Error(`dpkg --remove went ahead while PAM loads the module: ${early.stdout}${early.stderr}`);
  if (daemon.child.exitCode !== null) throw new Error('the refused removal stopped the daemon');
  step('dpkg --remove while /etc/pam.d/sshd loads the module: refused, the daemon untouched');
  await inRoot(root, ['oauth-ssh-server', 'uninstall']);
  if (sha(join(root, 'etc/pam.d/sshd')) !== pamBefore) throw new Error('uninstall did not restore /etc/pam.d/sshd byte for byte');
  await stopProcess(sshd.child);
  await stopProcess(daemon.child);
  await inRoot(root, ['dpkg', '--purge', 'oauth-ssh-server', 'oauth-ssh']);
  if (existsSync(join(root, 'usr/lib/oauth-ssh-server')) || existsSync(join(root, 'lib/x86_64-linux-gnu/security/pam_oauth_ssh.so'))) throw new Error('files left after purge');
  step('oauth-ssh-server uninstall (PAM file byte for byte), dpkg --purge: nothing left');
  console.log('test-packages: 1 passed, 0 failed');
} catch (err) {
  console.error(`test-packages: FAILED: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await t.run();
}

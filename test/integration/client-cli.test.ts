/** oauth-ssh's own command line, where no server is involved. */
import test from 'ava';
import { run } from '../helpers/processes.js';

const oauthSsh = (args: string[]) => run(process.execPath, ['--import', 'tsx', 'client/bin.ts', ...args], { env: { PATH: process.env.PATH, HOME: '/nonexistent-home' } });

test('ssh invocations without a destination go straight to ssh (-V, -Q, usage errors)', async (t) => {
  const version = await oauthSsh(['-V']);
  t.is(version.code, 0);
  t.regex(version.stderr, /^OpenSSH_/);
  const query = await oauthSsh(['-Q', 'kex']);
  t.regex(query.stdout, /curve25519-sha256/);
  const usage = await oauthSsh(['-p']);
  t.is(usage.code, 255, 'ssh\'s own exit status');
  t.regex(usage.stderr, /usage: ssh/);
});

test('help, version and usage errors of the commands', async (t) => {
  const help = await oauthSsh(['--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /oauth-ssh \[ssh options\] \[user@\]host \[command\]/);
  for (const command of ['login', 'logout', 'token', 'accounts', 'status', 'setup']) t.regex(help.stdout, new RegExp(`oauth-ssh ${command}`));
  t.regex((await oauthSsh(['--version'])).stdout, /^\d+\.\d+\.\d+/);
  const bad = await oauthSsh(['token', 'frobnicate']);
  t.is(bad.code, 2);
  const badConfig = await run(process.execPath, ['--import', 'tsx', 'client/bin.ts', 'token', 'list'], { env: { PATH: process.env.PATH, OAUTH_SSH_CONFIG: '/dev/null/nope.yaml' } });
  t.is(badConfig.code, 2);
  t.regex(badConfig.stderr, /nope\.yaml: cannot read/);
});

test('missing things are named with what to do, never a raw ENOENT', async (t) => {
  const bin = ['--import', 'tsx', 'client/bin.ts'];
  const noSsh = await run(process.execPath, [...bin, 'somehost', 'true'], { env: { PATH: '/nonexistent-bin', HOME: '/nonexistent-home' } });
  t.is(noSsh.code, 1);
  t.regex(noSsh.stderr, /^oauth-ssh: ssh was not found on PATH: install the OpenSSH client \(Debian\/Ubuntu: apt install openssh-client\)/);
  const wrongSsh = await run(process.execPath, [...bin, '-V'], { env: { PATH: process.env.PATH, OAUTH_SSH_SSH: '/nonexistent-ssh' } });
  t.regex(wrongSsh.stderr, /^oauth-ssh: OAUTH_SSH_SSH names \/nonexistent-ssh, which does not exist/);
  const noConfig = await run(process.execPath, [...bin, 'token', 'list'], { env: { PATH: process.env.PATH, OAUTH_SSH_CONFIG: '/nonexistent-config.yaml' } });
  t.is(noConfig.code, 2);
  t.regex(noConfig.stderr, /nonexistent-config\.yaml: does not exist \(OAUTH_SSH_CONFIG names it\)/);
  const noDir = await run(process.execPath, [...bin, 'setup', 'x.example.org', '--ssh-config', '/nonexistent-dir/config'], { env: { PATH: process.env.PATH, HOME: '/nonexistent-home' } });
  t.is(noDir.code, 2);
  t.regex(noDir.stderr, /\/nonexistent-dir does not exist: check the --ssh-config path/);
  t.notRegex([noSsh, wrongSsh, noConfig, noDir].map((r) => r.stderr).join(''), /ENOENT/);
});

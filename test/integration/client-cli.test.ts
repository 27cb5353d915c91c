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

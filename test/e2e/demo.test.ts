/** The README's demo command: runs end to end without a terminal, shows both paths, leaves nothing behind, stops cleanly on Ctrl-C, and never meets a test run. */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { run, waitForOutput } from '../helpers/processes.js';

const leftovers = async () => ({
  user: (await run('getent', ['passwd', 'oauthdemo'])).code === 0,
  pam: readdirSync('/etc/pam.d').filter((f) => f.startsWith('oauth-ssh-demo-')),
  tmp: readdirSync('/tmp').filter((f) => f.startsWith('oauth-ssh-demo-')),
  sshd: (await run('pgrep', ['-f', '/oauth-ssh-demo-sshd-'])).stdout.trim(),
  lock: existsSync('/run/lock/oauth-ssh-demo.pid'),
});
const nothingLeft = { user: false, pam: [], tmp: [], sshd: '', lock: false };

test.serial('the demo: the client path and plain ssh with the device flow, then nothing left; a test run\'s things untouched', async (t) => {
  // Things a test run has out at the same time: the demo must not touch them (nor test-cleanup the demo's).
  const testService = '/etc/pam.d/oauth-ssh-test-demoprobe';
  writeFileSync(testService, 'auth required pam_deny.so\n');
  t.teardown(() => rmSync(testService, { force: true }));
  const result = await run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { timeoutMs: 120_000 });
  t.is(result.code, 0, result.stdout + result.stderr);
  t.regex(result.stdout, /Logged in for ssh\.example\.org as alice@example\.org \(Example University\)/);
  t.regex(result.stdout, /\$ oauth-ssh -F \S+ demo-host id -un; uptime\n {3}oauthdemo\n/);
  t.regex(result.stdout, /this host requires one within 60 min: run `oauth-ssh login ssh\.example\.org --force-login`/);
  t.regex(result.stdout, /Logged out of ssh\.example\.org/);
  t.regex(result.stdout, /== 8\. No client at all: plain ssh[\s\S]*Log in with your identity provider:\n {3}█+\n[\s\S]*and enter the code:\n {5}[A-Z]{4}-[A-Z]{4}\n[\s\S]*\n {3}oauthdemo\n {3}\(exit 0\)/);
  t.regex(result.stdout, /demo: all steps behaved as expected/);
  t.regex(result.stdout, /PAM service \/etc\/pam\.d\/oauth-ssh-demo-[0-9a-f]{8}/, 'names of its own');
  t.deepEqual(await leftovers(), nothingLeft);
  t.true(existsSync(testService), 'a test run\'s PAM service is left alone');
});

test.serial('Ctrl-C at any point: everything it made is removed, and it exits 130', async (t) => {
  for (const at of [/== 2\./, /== 4\./, /== 8\./]) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await waitForOutput(child, () => out, at, 60_000);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    t.is(code, 130, `at ${at}: ${out.slice(-500)}`);
    t.notRegex(out, /AbortError|at .*\.ts:\d+/, 'no stack trace');
    t.deepEqual(await leftovers(), nothingLeft, `after Ctrl-C at ${at}`);
  }
});

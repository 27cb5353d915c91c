import test from 'ava';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, stopProcess, waitForOutput } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp.js';
import { getJson } from '../helpers/oauth.js';

const BIN = ['--import', 'tsx', 'shared/dev-idp/bin.ts'];

test('oauth-ssh-dev-idp prints one "listening on" line and serves until SIGTERM', async (t) => {
  const child = spawn(process.execPath, [...BIN, '--config', 'shared/dev-idp/example.yaml', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  t.teardown(() => stopProcess(child));
  await waitForOutput(child, () => out, /\n$/, 20_000);
  t.regex(out, /^listening on http:\/\/127\.0\.0\.1:\d+\n$/);
  const url = out.trim().slice('listening on '.length);
  t.is((await getJson(`${url}/.well-known/openid-configuration`)).issuer, url);
  await stopProcess(child);
  t.is(child.exitCode, 0);
});

test('bad config and bad flags fail with a message, exit 2 or 1', async (t) => {
  const dir = await tempDir(t);
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, 'clients:\n  - id: nope\n');
  const result = await run(process.execPath, [...BIN, '--config', bad]);
  t.is(result.code, 2);
  t.is(result.stdout, '');
  t.regex(result.stderr, /bad\.yaml: clients\[0\]\.id: expected a UUID, got "nope"/);
  const port = await run(process.execPath, [...BIN, '--config', bad, '--port', '70000']);
  t.not(port.code, 0);
  t.regex(port.stderr, /--port must be 0\.\.65535/);
  const help = await run(process.execPath, [...BIN, '--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /\/_dev\/devices\/CODE\/approve/);
});

test('the control API is off unless --dev-control, which warns loudly', async (t) => {
  const start = async (args: string[]) => {
    const child = spawn(process.execPath, [...BIN, '--config', 'shared/dev-idp/example.yaml', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    t.teardown(() => stopProcess(child));
    await waitForOutput(child, () => out, /\n$/, 20_000);
    return { url: out.trim().slice('listening on '.length), stderr: () => err };
  };
  const plain = await start([]);
  t.is((await fetch(`${plain.url}/_dev/health`)).status, 404, 'off by default');
  t.is(plain.stderr(), '');
  const old = await start(['--no-control']);
  t.is((await fetch(`${old.url}/_dev/health`)).status, 404, 'the older flag still means off');
  const on = await start(['--dev-control']);
  t.is((await fetch(`${on.url}/_dev/health`)).status, 200);
  t.regex(on.stderr(), /WARNING: the control API is on \(--dev-control\): anyone who can reach .* can approve logins/);
});

test('--version on every program', async (t) => {
  const { version } = JSON.parse(await (await import('node:fs/promises')).readFile('package.json', 'utf8')) as { version: string };
  for (const bin of ['shared/dev-idp/bin.ts', 'server-pam/bin.ts', 'client/bin.ts']) {
    const result = await run(process.execPath, ['--import', 'tsx', bin, '--version']);
    t.is(result.code, 0, `${bin}: ${result.stderr}`);
    t.is(result.stdout.trim(), version, bin);
  }
});

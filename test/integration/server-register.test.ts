/**
 * `oauth-ssh-server register`: the DNS proof against a real DNS server
 * (dnsmasq on loopback serving TXT records) and the association call
 * against the dev IdP.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { IDS, SSH_SERVICE_SECRET, startTestIdp } from '../helpers/dev-idp.js';
import { freePort, run, stopProcess, waitForOutput } from '../helpers/processes.js';
import { writeServerConfig } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';

async function startDns(t: ExecutionContext, txt: Record<string, string>): Promise<string> {
  const port = await freePort();
  const child = spawn('dnsmasq', ['--no-daemon', '--conf-file=/dev/null', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', ...Object.entries(txt).map(([name, value]) => `--txt-record=${name},${value}`)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  t.teardown(() => stopProcess(child));
  await waitForOutput(child, () => out, /started/, 10_000);
  return `127.0.0.1:${port}`;
}

const register = (args: string[], input?: string) => run(process.execPath, ['--import', 'tsx', 'server-pam/bin.ts', 'register', ...args], { input, timeoutMs: 30_000 });

test('register: TXT record proves ownership, then the FQDN is associated and its scope works', async (t) => {
  const idp = await startTestIdp(t);
  const dns = await startDns(t, { 'login.example.org': IDS.sshService, 'wrong.example.org': 'someone-else' });
  const { file } = await writeServerConfig(t, { authUrl: idp.url });
  const ok = await register(['login.example.org', '--config', file, '--dns-server', dns]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /registered login\.example\.org for client .* \(now: ssh\.example\.org, login\.example\.org\)/);
  const lookup = (await (await fetch(`${idp.url}/v2/api/clients?fqdn=login.example.org`)).json()) as { clients: Array<{ id: string }> };
  t.is(lookup.clients[0]?.id, IDS.sshService);

  const wrong = await register(['wrong.example.org', '--config', file, '--dns-server', dns]);
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /wrong\.example\.org has no TXT record with the value .* \(found: someone-else\)\. Add one/);
  const missing = await register(['absent.example.org', '--config', file, '--dns-server', dns]);
  t.regex(missing.stderr, /absent\.example\.org has no TXT record/);
});

test('register: credentials from overrides, the secret from stdin or a file, never argv', async (t) => {
  const idp = await startTestIdp(t);
  const dns = await startDns(t, { 'a.example.org': IDS.sshService, 'b.example.org': IDS.sshService });
  const viaStdin = await register(['a.example.org', '--client-id', IDS.sshService, '--client-secret-stdin', '--auth-url', idp.url, '--dns-server', dns], `${SSH_SERVICE_SECRET}\n`);
  t.is(viaStdin.code, 0, viaStdin.stderr);
  const dir = await tempDir(t);
  const secretFile = join(dir, 'secret');
  await writeFile(secretFile, SSH_SERVICE_SECRET, { mode: 0o600 });
  const viaFile = await register(['b.example.org', '--client-id', IDS.sshService, '--client-secret-file', secretFile, '--auth-url', idp.url, '--dns-server', dns]);
  t.is(viaFile.code, 0, viaFile.stderr);
  const inArgv = await register(['b.example.org', '--client-id', IDS.sshService, '--client-secret', SSH_SERVICE_SECRET, '--auth-url', idp.url]);
  t.is(inArgv.code, 2);
  t.regex(inArgv.stderr, /a secret on the command line shows in ps/);
  t.false(inArgv.stderr.includes(SSH_SERVICE_SECRET));
  const notFqdn = await register(['localhost', '--client-id', IDS.sshService, '--client-secret-file', secretFile]);
  t.is(notFqdn.code, 2);
});

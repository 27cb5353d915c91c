/**
 * The daemon's real cost per decision: an in-process PAM driver
 * (scripts/pam-driver.c: pam_start / pam_authenticate / pam_end in a loop,
 * no process per login) through the real bridge into `oauth-ssh-server
 * serve` with its default configuration (audit on) and a cached token, beside
 * pam_permit.so measured the same way in the same run.
 *
 * Reports p50 latency with one client, and decisions per second with one and
 * with 4 clients at once; also the protocol's floor: the same bridge against
 * a daemon that answers at once, without deciding anything. Usage: node --import tsx scripts/bench-decisions.ts [--decisions N] [--audit syslog|stderr|file]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDevIdpConfig } from '../shared/dev-idp/config.js';
import { startDevIdp } from '../shared/dev-idp/server.js';
import { testIdpDocument, tokenFor, type TestIdp } from '../test/helpers/dev-idp.js';
import { BRIDGE_SO, installPamService } from '../test/helpers/pam.js';
import { run, stopProcess, waitForOutput } from '../test/helpers/processes.js';
import { writeServerConfig } from '../test/helpers/server.js';
import { scriptTeardown } from '../test/helpers/teardown.js';
import { tempDir } from '../test/helpers/temp.js';
import { createTestUser } from '../test/helpers/users.js';

const { values } = parseArgs({ options: { decisions: { type: 'string', default: '4000' }, audit: { type: 'string' } } });
const decisions = Number(values.decisions);
const t = scriptTeardown();

interface Run {
  p50Ms: number;
  perSecond: number;
}

/** `clients` drivers at once, `decisions` authentications in all. */
async function drive(driver: string, service: string, user: string, answer: string, clients: number): Promise<Run> {
  const each = Math.ceil(decisions / clients);
  const started = process.hrtime.bigint();
  const outputs = await Promise.all(
    Array.from({ length: clients }, () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(driver, [service, user, String(each), answer], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`pam-driver exited ${code}`))));
      }),
    ),
  );
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  const rows = outputs.flatMap((o) => o.trim().split('\n')).map((l) => l.split(' ').map(Number) as [number, number]);
  const failed = rows.filter(([code]) => code !== 0).length;
  if (failed) throw new Error(`${failed} of ${rows.length} authentications failed during the benchmark`);
  const micros = rows.map(([, us]) => us).sort((a, b) => a - b);
  return { p50Ms: micros[Math.floor(micros.length / 2)]! / 1000, perSecond: rows.length / wallS };
}

try {
  const dir = await tempDir(t, 'oauth-ssh-bench-');
  const driver = join(dir, 'pam-driver');
  const built = await run('cc', ['-O2', '-std=c11', '-Wall', '-Werror', '-o', driver, 'scripts/pam-driver.c', '-lpam']);
  if (built.code !== 0) throw new Error(built.stderr);

  const config = parseDevIdpConfig(testIdpDocument({ lifetimes: { device_interval: 1, access_token: 3600 } }));
  const running = await startDevIdp({ config, control: true });
  t.teardown(() => running.close());
  const idp: TestIdp = { ...running, control: async (method, path, body) => (await fetch(`${running.url}/_dev/${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })).json() };
  const user = await createTestUser(t);
  const token = await tokenFor(idp, 'alice@example.org');

  // The default config: the audit goes where a plain install sends it, unless --audit says otherwise.
  const audit = values.audit === undefined ? [] : [`audit_log ${values.audit === 'file' ? `file:${join(dir, 'audit.log')}` : values.audit}`];
  const { file, socketPath } = await writeServerConfig(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: audit });
  const profile = process.env.OAUTH_SSH_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.OAUTH_SSH_BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, 'dist/server-pam/bin.js', 'serve', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4096)));
  t.teardown(() => stopProcess(child));
  await waitForOutput(child, () => out, /listening on/, 20_000);

  // The protocol's floor: a daemon that answers at once, no decision at all, through the same bridge.
  const floorSocket = join(dir, 'floor.sock');
  const floorDaemon = spawn(process.execPath, ['-e', `require('net').createServer((s) => { let n = 0; s.on('error', () => {}); s.on('data', (d) => { for (const l of d.toString().split('\\n')) { if (!l) continue; if (++n === 1) s.write('PROMPT_OFF token:\\n'); else s.end('TICKET ${'a'.repeat(64)}\\nRESULT SUCCESS\\n'); } }); }).listen(${JSON.stringify(floorSocket)}, () => console.log('up'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => stopProcess(floorDaemon));
  await new Promise((resolve) => floorDaemon.stdout!.once('data', resolve));
  const floor = await installPamService(t, `auth required ${BRIDGE_SO} socket=${floorSocket}`);
  const permit = await installPamService(t, 'auth required pam_permit.so');
  const oauth = await installPamService(t, `auth required ${BRIDGE_SO} socket=${socketPath}`);
  await drive(driver, oauth, user.name, token, 1); // warm: introspection, identities, client record, NSS cached
  const permitOne = await drive(driver, permit, user.name, token, 1);
  const permitFour = await drive(driver, permit, user.name, token, 4);
  const floorOne = await drive(driver, floor, user.name, token, 1);
  const floorFour = await drive(driver, floor, user.name, token, 4);
  const one = await drive(driver, oauth, user.name, token, 1);
  const four = await drive(driver, oauth, user.name, token, 4);

  const line = (name: string, r: Run, base: Run) => `${name.padEnd(34)} p50 ${r.p50Ms.toFixed(3)} ms (${(r.p50Ms / base.p50Ms).toFixed(1)}x pam_permit)   ${Math.round(r.perSecond)} decisions/s`;
  console.log(`decisions through the real bridge and daemon, cached token, audit ${values.audit ?? 'default (syslog)'}, ${decisions} per run:`);
  console.log(line('pam_permit.so, 1 client', permitOne, permitOne));
  console.log(line('pam_permit.so, 4 clients', permitFour, permitOne));
  console.log(line('bridge + answer-at-once daemon, 1', floorOne, permitOne));
  console.log(line('bridge + answer-at-once daemon, 4', floorFour, permitOne));
  console.log(line('pam_oauth_ssh.so, 1 client', one, permitOne));
  console.log(line('pam_oauth_ssh.so, 4 clients', four, permitOne));
  console.log(`the decision itself (vs the answer-at-once daemon): p50 +${(one.p50Ms - floorOne.p50Ms).toFixed(3)} ms, throughput ${(four.perSecond / floorFour.perSecond).toFixed(2)}x with 4 clients`);
  console.log(`goal: >= 2000 decisions/s with 4 clients (${four.perSecond >= 2000 ? 'met' : 'not met'}), p50 <= 0.8 ms with one (${one.p50Ms <= 0.8 ? 'met' : 'not met'})`);
  // The goal was set on a machine where pam_permit.so, 1 client, ran 0.40 ms p50 and 2300/s.
  // As ratios to pam_permit measured in this run, it travels between machines:
  // p50 <= 2.0x pam_permit's, and 4 clients >= 0.87x pam_permit's one-client throughput.
  const p50Ratio = one.p50Ms / permitOne.p50Ms;
  const throughputRatio = four.perSecond / permitOne.perSecond;
  console.log(
    `goal as ratios to this run's pam_permit: p50 ${p50Ratio.toFixed(2)}x (<= ${(0.8 / 0.4).toFixed(2)}x: ${p50Ratio <= 0.8 / 0.4 ? 'met' : 'not met'}), ` +
      `4-client throughput ${throughputRatio.toFixed(2)}x (>= ${(2000 / 2300).toFixed(2)}x: ${throughputRatio >= 2000 / 2300 ? 'met' : 'not met'})`,
  );
} finally {
  await t.run();
}

/**
 * Server benchmarks, as ratios against baselines measured in the same run
 * (absolute times depend on the machine; ratios much less):
 *  - login latency through real Linux-PAM (pamtester): pam_oauth_ssh.so ->
 *    oauth-ssh-server -> dev IdP, with the introspection cache warm and off,
 *    against pam_permit.so in the same harness;
 *  - concurrent logins: 16 at once vs one after another;
 *  - daemon memory: RSS of `oauth-ssh-server serve` after the logins, against
 *    an idle Node process.
 * Usage: node --import tsx scripts/bench.ts [--logins N]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseDevIdpConfig } from '../shared/dev-idp/config.js';
import { startDevIdp } from '../shared/dev-idp/server.js';
import { testIdpDocument, tokenFor, type TestIdp } from '../test/helpers/dev-idp.js';
import { BRIDGE_SO, installPamService, pamtester } from '../test/helpers/pam.js';
import { stopProcess, waitForOutput } from '../test/helpers/processes.js';
import { writeServerConfig } from '../test/helpers/server.js';
import { scriptTeardown } from '../test/helpers/teardown.js';
import { createTestUser } from '../test/helpers/users.js';

const loginsArg = process.argv.indexOf('--logins');
const logins = loginsArg > 0 ? Number(process.argv[loginsArg + 1]) : 40;
if (!Number.isInteger(logins) || logins < 1) throw new Error('--logins needs a positive whole number');
const t = scriptTeardown();

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

async function timeLogins(service: string, user: string, inputs: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  for (const input of inputs) {
    const r = await pamtester(service, user, ['authenticate'], input);
    if (r.code !== 0) throw new Error(`login failed during the benchmark: ${r.output}`);
  }
  return Number(process.hrtime.bigint() - started) / 1e6 / inputs.length;
}

async function startServe(idpUrl: string, mapUser: string, lines: string[]) {
  const { file, socketPath } = await writeServerConfig(t, { authUrl: idpUrl, mapFile: `alice@example.org ${mapUser}\n`, lines: [...lines, 'audit_log file:/dev/null'] });
  const child = spawn(process.execPath, ['dist/server-pam/bin.js', 'serve', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  t.teardown(() => stopProcess(child));
  await waitForOutput(child, () => out, /listening on/, 20_000);
  const service = await installPamService(t, `auth required ${BRIDGE_SO} socket=${socketPath}`);
  return { child, service };
}

try {
  const config = parseDevIdpConfig(testIdpDocument({ lifetimes: { device_interval: 1, access_token: 3600 } }));
  const running = await startDevIdp({ config, control: true });
  t.teardown(() => running.close());
  const idp: TestIdp = {
    ...running,
    control: async (method, path, body) =>
      (await fetch(`${running.url}/_dev/${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })).json(),
  };
  const user = await createTestUser(t);
  const token = await tokenFor(idp, 'alice@example.org');

  const baselineService = await installPamService(t, 'auth required pam_permit.so');
  const baseline = await timeLogins(baselineService, user.name, Array(logins).fill('\n'));

  const cached = await startServe(idp.url, user.name, []);
  const warm = await timeLogins(cached.service, user.name, Array(logins).fill(`${token}\n`));
  const uncached = await startServe(idp.url, user.name, ['introspection_cache_ttl 0']);
  const cold = await timeLogins(uncached.service, user.name, Array(logins).fill(`${token}\n`));

  const parallel = 16;
  const sequentialStart = Date.now();
  await timeLogins(uncached.service, user.name, Array(parallel).fill(`${token}\n`));
  const sequentialMs = Date.now() - sequentialStart;
  const parallelStart = Date.now();
  await Promise.all(Array.from({ length: parallel }, () => timeLogins(uncached.service, user.name, [`${token}\n`])));
  const parallelMs = Date.now() - parallelStart;

  const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
  t.teardown(() => stopProcess(idle));
  await new Promise((r) => setTimeout(r, 500));
  const idleRss = rssKb(idle.pid!);
  const daemonRss = rssKb(uncached.child.pid!);

  const result = {
    logins,
    baseline_pam_permit_ms: +baseline.toFixed(2),
    login_cached_ms: +warm.toFixed(2),
    login_uncached_ms: +cold.toFixed(2),
    ratio_cached_vs_pam_permit: +(warm / baseline).toFixed(2),
    ratio_uncached_vs_pam_permit: +(cold / baseline).toFixed(2),
    ratio_parallel_vs_sequential_16: +(parallelMs / sequentialMs).toFixed(2),
    daemon_rss_kb: daemonRss,
    idle_node_rss_kb: idleRss,
    ratio_daemon_vs_idle_node_rss: +(daemonRss / idleRss).toFixed(2),
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await t.run();
}

/**
 * Counters for operators: decisions by result and reason, provider errors and
 * latency, introspection cache hits, in the Prometheus text format, in the
 * opt-in metrics_file (node_exporter's textfile collector) and from
 * `oauth-ssh-server status` over the daemon's socket.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Metrics } from '../../server-pam/metrics.js';
import { summarize } from '../../server-pam/cli/status.js';
import { startTestIdp, tokenFor } from '../helpers/dev-idp.js';
import { BRIDGE_SO, installPamService, pamtester } from '../helpers/pam.js';
import { run, stopProcess, waitForOutput } from '../helpers/processes.js';
import { writeServerConfig } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';
import { createTestUser } from '../helpers/users.js';

const SERVER = [process.execPath, '--import', 'tsx', 'server-pam/bin.ts'] as const;

test('the text format: counters, a histogram, labels escaped', (t) => {
  const m = new Metrics([{ provider: 'Globus Auth', stats: () => ({ hits: 3, misses: 1 }) }]);
  m.decision({ event: 'login', rhost: '', service: 's', user: 'u', decision: 'SUCCESS', code: 'OK', reason: 'x' });
  m.decision({ event: 'login', rhost: '', service: 's', user: 'u', decision: 'SUCCESS', code: 'OK', reason: 'y' });
  m.decision({ event: 'login', op: 'device', rhost: '', service: 's', user: 'u', decision: 'AUTH_ERR', code: 'SESSION_VIOLATION', reason: 'z' });
  m.providerCall('https://kc.example.org/realms/"x"', 0.02, false);
  m.providerCall('https://kc.example.org/realms/"x"', 3, true);
  const text = m.render();
  t.regex(text, /^oauth_ssh_decisions_total\{event="login",op="",result="SUCCESS",code="OK"\} 2$/m);
  t.regex(text, /^oauth_ssh_decisions_total\{event="login",op="device",result="AUTH_ERR",code="SESSION_VIOLATION"\} 1$/m);
  t.regex(text, /^oauth_ssh_provider_errors_total\{provider="https:\/\/kc\.example\.org\/realms\/\\"x\\""\} 1$/m);
  t.regex(text, /^oauth_ssh_provider_seconds_bucket\{provider=".*",le="0\.025"\} 1$/m);
  t.regex(text, /^oauth_ssh_provider_seconds_bucket\{provider=".*",le="\+Inf"\} 2$/m);
  t.regex(text, /^oauth_ssh_introspection_cache_total\{provider="Globus Auth",outcome="hit"\} 3$/m);
  t.regex(summarize(text), /decisions: 3\n.*2  login SUCCESS \(OK\)\n.*1  login\/device AUTH_ERR \(SESSION_VIOLATION\)/);
});

test('metrics_file and `status`: what the daemon counted, by result and reason, with cache hits', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const textfiles = await tempDir(t);
  const { file, socketPath } = await writeServerConfig(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['audit_log file:/dev/null', `metrics_file ${textfiles}/oauth_ssh.prom`] });
  const child = spawn(SERVER[0], [...SERVER.slice(1), 'serve', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  t.teardown(() => stopProcess(child));
  await waitForOutput(child, () => out, /listening on/, 20_000);
  const service = await installPamService(t, `auth required ${BRIDGE_SO} socket=${socketPath}`);
  const token = await tokenFor(idp, 'alice@example.org');
  for (let i = 0; i < 3; i++) t.is((await pamtester(service, user.name, ['authenticate'], `${token}\n`)).code, 0);
  t.not((await pamtester(service, user.name, ['authenticate'], 'not-a-token\n')).code, 0);

  const status = await run(SERVER[0], [...SERVER.slice(1), 'status', '--config', file]);
  t.is(status.code, 0, status.stderr);
  t.regex(status.stdout, /decisions: 4/);
  t.regex(status.stdout, / 3 {2}login SUCCESS \(OK\)/);
  t.regex(status.stdout, / 1 {2}login AUTH_ERR \(INVALID_TOKEN\)/);
  t.regex(status.stdout, /provider Globus Auth: 4 token checks, mean [\d.]+ ms, 0 provider errors/);
  t.regex(status.stdout, /introspection cache at Globus Auth: 2 hits, 2 misses/);
  const raw = await run(SERVER[0], [...SERVER.slice(1), 'status', '--config', file, '--prometheus']);
  t.regex(raw.stdout, /^# TYPE oauth_ssh_decisions_total counter$/m);

  await stopProcess(child); // the last counters are written on the way out
  const prom = await readFile(join(textfiles, 'oauth_ssh.prom'), 'utf8');
  t.regex(prom, /^oauth_ssh_decisions_total\{event="login",op="",result="SUCCESS",code="OK"\} 3$/m);
  const down = await run(SERVER[0], [...SERVER.slice(1), 'status', '--config', file]);
  t.not(down.code, 0);
  t.regex(down.stderr, /no oauth-ssh-server answers here .*is it running\?/);
});

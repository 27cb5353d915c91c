import test from 'ava';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { auditSink } from '../../server-pam/audit.js';
import { tempDir } from '../helpers/temp.js';

test('file audit log: one JSON line per event, created 0600', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'audit.log');
  const sink = auditSink({ kind: 'file', path });
  await sink({ event: 'login', rhost: '10.1.2.3', service: 'sshd', user: 'alice', token: 'abcdef012345', decision: 'SUCCESS', reason: 'ok' });
  await sink({ event: 'query', op: 'get_security_policy', rhost: '', service: 'sshd', user: 'oauth-ssh', decision: 'MAXTRIES', reason: 'answered' });
  const lines = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  t.is(lines.length, 2);
  t.like(lines[0], { event: 'login', user: 'alice', token: 'abcdef012345', decision: 'SUCCESS' });
  t.regex(lines[0].time, /^\d{4}-\d\d-\d\dT/);
  t.is((await stat(path)).mode & 0o777, 0o600);
});

test('under systemd (JOURNAL_STREAM names stderr) the syslog target is stderr, for journald', async (t) => {
  const { fstatSync } = await import('node:fs');
  const { stderrIsJournal } = await import('../../server-pam/audit.js');
  const st = fstatSync(2);
  t.true(stderrIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }));
  t.false(stderrIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1}` }), 'a stream that is not our stderr');
  t.false(stderrIsJournal({}));
});

test('syslog: one long-lived logger for all events, never a process per decision; without syslog, stderr, said once', async (t) => {
  const { run } = await import('../helpers/processes.js');
  const dir = await tempDir(t);
  const spawns = join(dir, 'spawns.jsonl');
  const script = `import { auditSink } from ${JSON.stringify(join(process.cwd(), 'server-pam/audit.ts'))};
const sink = auditSink({ kind: 'syslog' }, {});
await new Promise((r) => setTimeout(r, 300));
for (let i = 0; i < 50; i++) await sink({ event: 'login', rhost: '', service: 'sshd', user: 'u' + i, decision: 'SUCCESS', reason: 'ok' });`;
  const result = await run(process.execPath, ['--import', 'tsx', '--import', join(process.cwd(), 'test/helpers/spawn-recorder.mjs'), '--input-type=module', '-e', script], { env: { ...process.env, OAUTH_SSH_TEST_SPAWN_LOG: spawns, JOURNAL_STREAM: '' } });
  t.is(result.code, 0, result.stderr);
  const started = (await readFile(spawns, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { file: string });
  t.deepEqual(started.map((s) => s.file), ['logger'], 'one logger for 50 events');
  const { existsSync } = await import('node:fs');
  if (existsSync('/dev/log')) return; // a syslog daemon took them
  // No syslog socket: the events go to stderr instead, after one line saying so.
  t.is(result.stderr.match(/syslog is not reachable/g)?.length ?? 0, 1);
  t.is(result.stderr.split('\n').filter((l) => l.startsWith('{')).length, 50);
});

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

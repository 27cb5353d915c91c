import test from 'ava';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FileLock, LockTimeoutError, withLock } from '../../client/lock.js';
import { tempDir } from '../helpers/temp.js';

test('a lock is exclusive; waiters see the owner\'s note and get the lock after release', async (t) => {
  const path = join(await tempDir(t), 'locks', 'host.lock');
  const first = await FileLock.acquire(path, { staleMs: 60_000, timeoutMs: 1000 });
  first.note('https://idp.example/device?code=ABCD');
  const notes: Array<string | undefined> = [];
  const waiting = withLock(path, { staleMs: 60_000, timeoutMs: 5000, onWait: (note) => notes.push(note) }, async () => 'second');
  await new Promise((r) => setTimeout(r, 300));
  first.release();
  t.is(await waiting, 'second');
  t.deepEqual(notes, ['https://idp.example/device?code=ABCD']);
});

test('a lock whose owner died, or that is too old, is taken over; a live one times out', async (t) => {
  const dir = await tempDir(t);
  const dead = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => dead.on('exit', r));
  const deadPath = join(dir, 'dead.lock');
  await writeFile(deadPath, JSON.stringify({ pid: dead.pid, host: hostname(), started: Date.now() }));
  t.is(await withLock(deadPath, { staleMs: 60_000, timeoutMs: 1000 }, async () => 'taken over'), 'taken over');

  const oldPath = join(dir, 'old.lock');
  await writeFile(oldPath, JSON.stringify({ pid: process.ppid, host: hostname(), started: Date.now() - 3_600_000 }));
  t.is(await withLock(oldPath, { staleMs: 60_000, timeoutMs: 1000 }, async () => 'old one replaced'), 'old one replaced');

  const livePath = join(dir, 'live.lock');
  await writeFile(livePath, JSON.stringify({ pid: process.ppid, host: hostname(), started: Date.now() }));
  await t.throwsAsync(withLock(livePath, { staleMs: 60_000, timeoutMs: 300 }, async () => 'never'), { instanceOf: LockTimeoutError });
  t.is(JSON.parse(await readFile(livePath, 'utf8')).pid, process.ppid, 'a live owner keeps its lock');
});

test('an unreadable lock is not taken over at once (it may be one being written), only after a grace period', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'half.lock');
  await writeFile(path, '');
  await t.throwsAsync(withLock(path, { staleMs: 60_000, timeoutMs: 300 }, async () => 'too early'), { instanceOf: LockTimeoutError });
  const { utimes } = await import('node:fs/promises');
  const old = new Date(Date.now() - 60_000);
  await utimes(path, old, old);
  t.is(await withLock(path, { staleMs: 60_000, timeoutMs: 1000 }, async () => 'taken over'), 'taken over');
});

test('20 processes racing for one lock: exactly one holds it at a time', async (t) => {
  const dir = await tempDir(t);
  const lock = join(dir, 'race.lock');
  const log = join(dir, 'log');
  const script = `
    import { withLock } from ${JSON.stringify(new URL('../../client/lock.ts', import.meta.url).href)};
    import { appendFileSync } from 'node:fs';
    await withLock(${JSON.stringify(lock)}, { staleMs: 60000, timeoutMs: 60000 }, async () => {
      appendFileSync(${JSON.stringify(log)}, 'in\\n');
      await new Promise((r) => setTimeout(r, 20));
      appendFileSync(${JSON.stringify(log)}, 'out\\n');
    });`;
  const { run } = await import('../helpers/processes.js');
  const results = await Promise.all(Array.from({ length: 20 }, () => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeoutMs: 60_000 })));
  t.deepEqual(results.map((r) => r.code), Array(20).fill(0), results.map((r) => r.stderr).join(''));
  const lines = (await readFile(log, 'utf8')).trim().split('\n');
  t.is(lines.length, 40);
  t.true(lines.every((l, i) => l === (i % 2 === 0 ? 'in' : 'out')), 'never two holders at once');
});

/**
 * A cross-process lock: a file created with O_EXCL holding the owner's pid,
 * host and start time. A lock whose owner is gone (same host, pid not alive)
 * or that is older than `staleMs` is taken over. The owner can leave a note
 * (the login URL) that waiters show, so N parallel connections show one URL.
 */
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { OAuthSshError } from '../shared/errors.js';
import { privateDir } from './paths.js';

interface LockInfo {
  pid: number;
  host: string;
  started: number;
  note?: string;
}

export interface LockOptions {
  staleMs: number;
  timeoutMs: number;
  /** Called once per distinct note while waiting for another owner. */
  onWait?: (note: string | undefined, owner: LockInfo) => void;
}

export class LockTimeoutError extends OAuthSshError {
  constructor(path: string, owner: LockInfo | null) {
    super('LOGIN_FAILED', `gave up waiting for ${owner ? `process ${owner.pid}` : 'another process'} holding ${path}`);
  }
}

function readInfo(path: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Locks appear complete (written, then linked into place), so an unreadable one is damaged; give it a moment anyway. */
const UNREADABLE_GRACE_MS = 5000;

function isStale(path: string, info: LockInfo | null, staleMs: number): boolean {
  if (!info) {
    try {
      return Date.now() - statSync(path).mtimeMs > UNREADABLE_GRACE_MS;
    } catch {
      return true; // gone already
    }
  }
  if (Date.now() - info.started > staleMs) return true;
  return info.host === hostname() && !alive(info.pid);
}

export class FileLock {
  private constructor(readonly path: string) {}

  static async acquire(path: string, options: LockOptions): Promise<FileLock> {
    privateDir(dirname(path));
    const deadline = Date.now() + options.timeoutMs;
    let lastNote: string | undefined | null = null;
    for (;;) {
      // Write the owner's record first, then link it into place: link() is atomic and fails if
      // the lock exists, so no one ever sees a half-written lock and mistakes it for a dead one.
      const mine = `${path}.${process.pid}.${Date.now()}`;
      writeFileSync(mine, JSON.stringify({ pid: process.pid, host: hostname(), started: Date.now() } satisfies LockInfo), { mode: 0o600 });
      try {
        linkSync(mine, path);
        return new FileLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        unlinkSync(mine);
      }
      const owner = readInfo(path);
      if (isStale(path, owner, options.staleMs)) {
        // Two waiters may both see it stale; only one unlink+create wins the O_EXCL race.
        try {
          if (JSON.stringify(readInfo(path)) === JSON.stringify(owner)) unlinkSync(path);
        } catch {
          // someone else removed it first
        }
        continue;
      }
      if (owner && options.onWait && owner.note !== lastNote) {
        lastNote = owner.note;
        options.onWait(owner.note, owner);
      }
      if (Date.now() > deadline) throw new LockTimeoutError(path, owner);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Publishes a note (e.g. the login URL) for waiting processes. */
  note(text: string): void {
    const info = readInfo(this.path);
    if (!info || info.pid !== process.pid) return;
    const next = `${this.path}.${process.pid}.note`;
    writeFileSync(next, JSON.stringify({ ...info, note: text }), { mode: 0o600 });
    renameSync(next, this.path); // atomic: readers see the old record or the new one
  }

  release(): void {
    const info = readInfo(this.path);
    if (info && info.pid === process.pid) unlinkSync(this.path);
  }
}

export async function withLock<T>(path: string, options: LockOptions, fn: (lock: FileLock) => Promise<T>): Promise<T> {
  const lock = await FileLock.acquire(path, options);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}

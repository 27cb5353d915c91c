/**
 * A small JSON document on disk, private to the user: 0600 in a 0700
 * directory, replaced atomically (write + rename). A file that cannot be
 * parsed is moved aside with a warning that names it, and treated as empty,
 * so a corrupted cache costs a fresh login and nothing else. Updates take a
 * lock file beside the document.
 */
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { withLock } from '../lock.js';
import { privateDir } from '../paths.js';

export class JsonFile<T extends object> {
  constructor(
    readonly path: string,
    private readonly what: string,
    /** What starting afresh costs the user, said in the warning. */
    private readonly cost = 'you may need to log in again',
    private readonly warn: (message: string) => void = (m) => process.stderr.write(`oauth-ssh: ${m}\n`),
  ) {}

  read(): T {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {} as T;
      throw err;
    }
    try {
      const doc = JSON.parse(text) as { version?: number; data?: T };
      if (doc && typeof doc === 'object' && doc.version === 1 && doc.data && typeof doc.data === 'object') return doc.data;
      throw new Error('unexpected shape');
    } catch {
      const aside = `${this.path}.corrupt-${Date.now()}`;
      renameSync(this.path, aside);
      this.warn(`the ${this.what} ${this.path} was unreadable; moved it to ${aside} and starting afresh (${this.cost})`);
      return {} as T;
    }
  }

  write(data: T): void {
    privateDir(dirname(this.path));
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, data }, null, 2), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.path);
  }

  /** Read-modify-write under a lock, so concurrent processes do not lose each other's changes. */
  update(change: (data: T) => T): Promise<T> {
    return withLock(`${this.path}.lock`, { staleMs: 10_000, timeoutMs: 15_000 }, async () => {
      const next = change(this.read());
      this.write(next);
      return next;
    });
  }
}

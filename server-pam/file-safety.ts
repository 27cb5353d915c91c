/**
 * sshd's StrictModes for the files that decide who may log in (the config,
 * map files, secret files, the device prompt template): the file and every
 * directory above it must belong to root or to the daemon's own user, and
 * none may be writable by group or others, so that nobody else can change
 * what the daemon reads or swap the file for another (the daemon's user: the
 * one it runs as, or the packaged account oauth-ssh-server, so that root's
 * `check` trusts the same files). A root-owned directory
 * with the sticky bit (/tmp) is safe to pass through: others may add entries
 * there, but never rename or remove ours. Secrets must also not be readable
 * by group or others.
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../shared/errors.js';

export type FileRole = 'decisive' | 'secret';

const STICKY = 0o1000;

/** The packaged daemon's account: its files are trusted also when root runs `check` or `explain`. */
export const DAEMON_ACCOUNT = 'oauth-ssh-server';
let daemonAccountUid: number | null | undefined;

function packagedDaemonUid(): number | null {
  if (daemonAccountUid === undefined) {
    const line = spawnSync('getent', ['passwd', DAEMON_ACCOUNT], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
    const uid = Number(line.split(':')[2]);
    // Only a system account of that name (as the package makes): a regular user called so earns no trust.
    daemonAccountUid = line.startsWith(`${DAEMON_ACCOUNT}:`) && Number.isInteger(uid) && uid > 0 && uid < 1000 ? uid : null;
  }
  return daemonAccountUid;
}

function trustedOwner(uid: number): boolean {
  return uid === 0 || uid === (process.getuid?.() ?? 0) || uid === packagedDaemonUid();
}

/** Every directory from `dir` up to /, each safe, as lstat sees it (a symlinked directory: the link must be trusted too). */
function checkDirectories(path: string, what: string, dir: string): void {
  for (; ; dir = dirname(dir)) {
    const d = lstatSync(dir);
    if (!trustedOwner(d.uid)) throw new ConfigError(path, `the directory ${dir} above ${what} is owned by uid ${d.uid}, who could replace the file: chown root ${dir}`);
    const sharedButSticky = (d.mode & STICKY) !== 0 && d.uid === 0;
    if (!d.isSymbolicLink() && (d.mode & 0o022) !== 0 && !sharedButSticky) throw new ConfigError(path, `the directory ${dir} above ${what} is writable by group/others (mode ${(d.mode & 0o777).toString(8)}), who could replace the file: chmod go-w ${dir}`);
    if (dir === '/') return;
  }
}

/** Throws ConfigError naming the file (or directory) and the command that fixes it. */
export function checkFileSafety(path: string, what: string, role: FileRole): void {
  // The path as given, then as resolved: a symlink in an unsafe directory could be swapped between check and read.
  const given = resolve(path);
  try {
    const link = lstatSync(given);
    if (link.isSymbolicLink() && !trustedOwner(link.uid)) throw new ConfigError(path, `${what} is a symlink owned by uid ${link.uid}: chown -h root ${given}`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
  }
  try {
    checkDirectories(path, what, dirname(given));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(path, `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    throw new ConfigError(path, `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  const st = statSync(real);
  const mode = (st.mode & 0o777).toString(8);
  if (!st.isFile()) throw new ConfigError(path, `${what} is not a regular file`);
  if (!trustedOwner(st.uid)) throw new ConfigError(path, `${what} is owned by uid ${st.uid}; whoever owns it decides who logs in: chown root ${real}`);
  if ((st.mode & 0o022) !== 0) throw new ConfigError(path, `${what} is writable by group/others (mode ${mode}); run: chmod go-w ${real}`);
  if (role === 'secret' && (st.mode & 0o077) !== 0) throw new ConfigError(path, `${what} is readable or writable by group/others (mode ${mode}); run: chmod 600 ${real}`);
  if (dirname(real) !== dirname(given)) checkDirectories(path, what, dirname(real));
}

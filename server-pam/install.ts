/**
 * `oauth-ssh-server install` / `uninstall`: wiring sshd and PAM so that an
 * administrator never has to edit /etc/pam.d/sshd by hand, and can never be
 * locked out by it:
 *  - an sshd drop-in (sshd_config.d/50-oauth-ssh.conf): UsePAM and
 *    KbdInteractiveAuthentication on; no AuthenticationMethods, so keys and
 *    passwords keep working;
 *  - two marked blocks in /etc/pam.d/sshd, before common-auth and
 *    common-account: a failed or absent token falls through to the next
 *    method (default=ignore) unless --only-oauth;
 *  - validated before anything is replaced (sshd -t and sshd -T on a copy of
 *    the configuration with our drop-in, a PAM self-check of the new stack),
 *    backed up, replaced atomically, checked again, and restored on any
 *    failure; --dry-run prints the diff; running twice changes nothing;
 *  - uninstall removes exactly what install added, so the files come back
 *    byte for byte (other edits made since are kept).
 * Text transforms are pure functions; the steps with effects take a root
 * directory, so tests run them on a copy of /etc.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { OAuthSshError } from '../shared/errors.js';

export class InstallError extends OAuthSshError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

const BEGIN = '# BEGIN oauth-ssh (written by oauth-ssh-server install; removed by oauth-ssh-server uninstall)';
const END = '# END oauth-ssh';
const DROP_IN_HEADER = '# Written by oauth-ssh-server install; removed by oauth-ssh-server uninstall.';

export interface InstallOptions {
  /** The bridge's socket, passed to every pam_oauth_ssh.so line. */
  socket: string;
  /** Module path or name as PAM should load it. */
  module: string;
  /** Extra module arguments (daemon_uid=..., environment=...). */
  moduleArgs: string[];
  /** A failed token ends the login instead of falling through to passwords. */
  onlyOauth: boolean;
}

function block(lines: string[]): string[] {
  return [BEGIN, ...lines, END];
}

/** /etc/pam.d/sshd with our auth and account blocks; unchanged if they are there already. */
export function pamWithOauth(text: string, options: InstallOptions): string {
  if (text.includes(BEGIN)) return text;
  const args = [`socket=${options.socket}`, ...options.moduleArgs].join(' ');
  const lines = text.split('\n');
  // Linux-PAM reads types without regard to case; "common-auth-2fa" is not "common-auth".
  const include = (section: string) => new RegExp(`^\\s*@include\\s+common-${section}\\s*$`, 'i');
  const typed = (section: string) => new RegExp(`^\\s*-?${section}\\s`, 'i');
  // The auth block goes just before common-auth, after any auth lines the admin put first (a deny list, pam_access...).
  const auth = lines.findIndex((l) => include('auth').test(l));
  const firstAccount = lines.findIndex((l) => include('account').test(l) || typed('account').test(l));
  if (auth < 0) throw new InstallError('the PAM file has no "@include common-auth": add our lines by hand where they belong (see server-pam/CONFIG.md)');
  if (firstAccount < 0) throw new InstallError('the PAM file has no account section (no "@include common-account" nor an account line): add our lines by hand, see server-pam/CONFIG.md');
  // success=done skips what follows in the auth section: an auth line after common-auth (a second factor) would never run for OAuth logins.
  const nextSection = lines.findIndex((l, i) => i > auth && /^\s*-?(account|session|password)\s|^\s*@include\s+common-(account|session|password)/i.test(l));
  const after = lines.slice(auth + 1, nextSection < 0 ? undefined : nextSection).filter((l) => typed('auth').test(l) || /^\s*@include\s/i.test(l) || /^\s*auth\s/i.test(l));
  if (after.length) throw new InstallError(`the PAM file has auth lines after common-auth (${after.map((l) => l.trim()).join('; ')}), which OAuth logins would skip (success=done): add our lines by hand where they belong, see server-pam/CONFIG.md`);
  const account = firstAccount;
  // maxtries=die: an answered in-band query ends the attempt; default=ignore: anything else falls through to the next method.
  // ignore=ignore: setcred for a login another method authenticated returns PAM_IGNORE, which must not fail the stack.
  const authLine = `auth [success=done maxtries=die new_authtok_reqd=done ignore=ignore default=${options.onlyOauth ? 'die' : 'ignore'}] ${options.module} ${args}`;
  // The module only answers SUCCESS or IGNORE here; default=ignore: a module PAM cannot load locks nobody out.
  const accountLine = `account [success=ok default=ignore] ${options.module} ${args}`;
  const out = [...lines];
  // Insert the later one first so that the earlier index stays right.
  const inserts: Array<[number, string[]]> = [[auth, block([authLine])], [account, block([accountLine])]];
  for (const [at, add] of inserts.sort((a, b) => b[0] - a[0])) out.splice(at, 0, ...add);
  return out.join('\n');
}

/** Exactly what pamWithOauth added, taken out again. */
export function pamWithoutOauth(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== BEGIN) {
      out.push(lines[i]!);
      continue;
    }
    const end = lines.indexOf(END, i);
    if (end < 0) throw new InstallError(`the PAM file has "${BEGIN}" without "${END}": it was edited by hand; remove the oauth-ssh lines yourself`);
    i = end;
  }
  return out.join('\n');
}

export function sshdDropIn(): string {
  return [
    DROP_IN_HEADER,
    '# Keyboard-interactive through PAM carries the OAuth token; keys and passwords keep working.',
    'UsePAM yes',
    'KbdInteractiveAuthentication yes',
    '',
  ].join('\n');
}

export interface Paths {
  pam: string;
  sshdConfig: string;
  dropInDir: string;
  dropIn: string;
  backupDir: string;
}

export function paths(root: string): Paths {
  const etc = (p: string) => join(root, p);
  return {
    pam: etc('/etc/pam.d/sshd'),
    sshdConfig: etc('/etc/ssh/sshd_config'),
    dropInDir: etc('/etc/ssh/sshd_config.d'),
    dropIn: etc('/etc/ssh/sshd_config.d/50-oauth-ssh.conf'),
    backupDir: etc('/var/lib/oauth-ssh/backup'),
  };
}

const read = (path: string): string | null => (existsSync(path) ? readFileSync(path, 'utf8') : null);

/**
 * sshd -t and -T on a copy of the configuration in which the drop-in
 * directory is replaced by `dropIns` (name -> text): what sshd would run with,
 * without touching the real files. Returns the effective settings.
 */
export function sshdEffective(p: Paths, dropIns: Map<string, string>, sshd = 'sshd'): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'oauth-ssh-install-'));
  try {
    const included = join(dir, 'sshd_config.d');
    mkdirSync(included, { mode: 0o755 });
    for (const [name, text] of dropIns) writeFileSync(join(included, name), text, { mode: 0o644 });
    const main = readFileSync(p.sshdConfig, 'utf8').replace(/^(\s*Include\s+)\S*sshd_config\.d\/\*\.conf\s*$/im, `$1${included}/*.conf`);
    writeFileSync(join(dir, 'sshd_config'), main, { mode: 0o644 });
    const test = spawnSync(sshd, ['-t', '-f', join(dir, 'sshd_config')], { encoding: 'utf8' });
    if (test.status !== 0) throw new InstallError(`sshd -t refuses the configuration with the oauth-ssh drop-in: ${(test.stderr || test.stdout).trim()}`);
    const effective = spawnSync(sshd, ['-T', '-f', join(dir, 'sshd_config')], { encoding: 'utf8' });
    if (effective.status !== 0) throw new InstallError(`sshd -T failed: ${effective.stderr.trim()}`);
    return new Map(effective.stdout.split('\n').filter(Boolean).map((l) => [l.split(' ')[0]!, l.slice(l.indexOf(' ') + 1)]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function currentDropIns(p: Paths): Map<string, string> {
  const m = new Map<string, string>();
  if (existsSync(p.dropInDir)) for (const f of readdirSync(p.dropInDir)) if (f.endsWith('.conf')) m.set(f, readFileSync(join(p.dropInDir, f), 'utf8'));
  return m;
}

/**
 * Did pamtester run? Missing, it is named with what to install. EPIPE is not
 * that: pamtester ran and ended before reading the answer we piped (a module
 * that refused at once, as with a wrong daemon_user), and its output says why.
 */
function pamtesterRan(r: ReturnType<typeof spawnSync>, what: string): void {
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  if (!r.error || (code === 'EPIPE' && r.status !== null)) return;
  if (code === 'ENOENT') throw new InstallError(`${what} needs pamtester: apt install pamtester`);
  throw new InstallError(`${what} could not run pamtester (${r.error.message})`);
}

/**
 * The PAM self-check: a stack loads and runs its setcred (which loads every
 * auth module, ours included) for root, as a service of its own. A module
 * that cannot be loaded makes this fail.
 */
export function pamSelfCheck(stack: string): { ok: boolean; detail: string } {
  const service = `oauth-ssh-install-check-${randomBytes(4).toString('hex')}`;
  const file = join('/etc/pam.d', service);
  writeFileSync(file, stack, { mode: 0o644 });
  try {
    const r = spawnSync('pamtester', [service, 'root', 'setcred'], { encoding: 'utf8', input: '', timeout: 20_000 });
    pamtesterRan(r, 'the PAM self-check');
    return { ok: r.status === 0, detail: `${r.stdout}${r.stderr}`.trim() };
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * The round trip the new lines will make: the module, with these arguments,
 * asks the daemon at the socket for its policy as the query account (an
 * in-band query: no provider is called) and must get it answered (PAM_MAXTRIES).
 * A wrong socket= or daemon_user= shows up here, not at the first login.
 */
export function daemonRoundTrip(options: InstallOptions, queryAccount = 'oauth-ssh'): { ran: boolean; ok: boolean; detail: string } {
  if (!existsSync(options.socket)) return { ran: false, ok: false, detail: `no daemon listens at ${options.socket} yet` };
  const service = `oauth-ssh-install-check-${randomBytes(4).toString('hex')}`;
  const file = join('/etc/pam.d', service);
  writeFileSync(file, `auth required ${options.module} ${[`socket=${options.socket}`, ...options.moduleArgs].join(' ')}\n`, { mode: 0o644 });
  try {
    const query = Buffer.from(JSON.stringify({ command: { op: 'get_security_policy' }, version: 1 })).toString('base64');
    const r = spawnSync('pamtester', [service, queryAccount, 'authenticate'], { encoding: 'utf8', input: `${query}\n`, timeout: 20_000 });
    pamtesterRan(r, 'the self-check');
    const out = `${r.stdout}${r.stderr}`;
    return { ran: true, ok: /maximum number of retries/.test(out), detail: out.trim().split('\n').at(-1) ?? '' };
  } finally {
    rmSync(file, { force: true });
  }
}

/** Writes `text` over `path` atomically, keeping the mode and owner of what was there (through a symlink, to its target). */
function replaceFile(given: string, text: string, fallbackMode = 0o644): void {
  const path = existsSync(given) ? realpathSync(given) : given;
  const before = existsSync(path) ? statSync(path) : null;
  const temp = join(dirname(path), `.${randomBytes(4).toString('hex')}.oauth-ssh.tmp`);
  writeFileSync(temp, text, { mode: before ? before.mode & 0o7777 : fallbackMode });
  if (before) {
    chmodSync(temp, before.mode & 0o7777);
    chownSync(temp, before.uid, before.gid);
  }
  renameSync(temp, path);
}

export interface Change {
  path: string;
  before: string | null;
  after: string | null;
}

export function unifiedDiff(change: Change): string {
  const dir = mkdtempSync(join(tmpdir(), 'oauth-ssh-diff-'));
  try {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, change.before ?? '');
    writeFileSync(b, change.after ?? '');
    const r = spawnSync('diff', ['-u', '--label', change.before === null ? '/dev/null' : change.path, '--label', change.after === null ? '/dev/null' : change.path, a, b], { encoding: 'utf8' });
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Plan {
  changes: Change[];
  notes: string[];
}

/** What install would change, validated; throws InstallError when it must not be done. */
export function planInstall(root: string, options: InstallOptions, sshd = 'sshd'): Plan {
  const p = paths(root);
  const pam = read(p.pam);
  if (pam === null) throw new InstallError(`${p.pam} does not exist: is openssh-server installed?`);
  if (!existsSync(p.sshdConfig)) throw new InstallError(`${p.sshdConfig} does not exist: is openssh-server installed?`);
  const newPam = pamWithOauth(pam, options);
  const dropIn = read(p.dropIn);
  if (dropIn !== null && !dropIn.startsWith(DROP_IN_HEADER)) throw new InstallError(`${p.dropIn} exists and was not written by oauth-ssh-server install: move it away first`);
  const newDropIn = sshdDropIn();
  const changes: Change[] = [];
  if (newPam !== pam) changes.push({ path: p.pam, before: pam, after: newPam });
  if (dropIn !== newDropIn) changes.push({ path: p.dropIn, before: dropIn, after: newDropIn });

  const dropIns = currentDropIns(p);
  dropIns.set('50-oauth-ssh.conf', newDropIn);
  const effective = sshdEffective(p, dropIns, sshd);
  const notes: string[] = [];
  for (const [key, want] of [['usepam', 'yes'], ['kbdinteractiveauthentication', 'yes']] as const) {
    if (effective.get(key) !== want) {
      throw new InstallError(`with the drop-in, sshd would still run with ${key} ${effective.get(key) ?? '(unset)'}: ${p.sshdConfig} sets it before its Include of sshd_config.d (or has no Include); set "${key === 'usepam' ? 'UsePAM' : 'KbdInteractiveAuthentication'} yes" there, then run install again`);
    }
  }
  // With passwords off, a token that fails must not fall through to pam_unix over keyboard-interactive.
  if (effective.get('passwordauthentication') === 'no' && !options.onlyOauth) {
    throw new InstallError(`sshd has PasswordAuthentication no, and keyboard-interactive would let pam_unix ask for passwords after a failed token: run install --only-oauth (a failed token ends the login; keys keep working)`);
  }
  const methods = effective.get('authenticationmethods');
  if (methods && methods !== 'any') notes.push(`sshd requires AuthenticationMethods ${methods}: keyboard-interactive must be in it for OAuth logins`);
  if (options.module.startsWith('/')) {
    if (!existsSync(options.module)) throw new InstallError(`the PAM module ${options.module} does not exist: build it (npm run build) or install the package`);
    // A module PAM cannot load would be skipped silently under default=ignore: check it loads.
    const ldd = spawnSync('ldd', ['-r', options.module], { encoding: 'utf8' });
    if (ldd.status !== 0 || /undefined symbol|not found/.test(`${ldd.stdout}${ldd.stderr}`)) throw new InstallError(`the PAM module ${options.module} cannot be loaded: ${`${ldd.stdout}${ldd.stderr}`.trim()}`);
  }
  const trip = daemonRoundTrip(options);
  if (!trip.ran) notes.push(`${trip.detail}: start oauth-ssh-server before you reload sshd (OAuth logins fail until it runs; keys${options.onlyOauth ? '' : ' and passwords'} keep working)`);
  else if (!trip.ok) throw new InstallError(`the module could not get an answer from the daemon at ${options.socket} with these arguments (${options.moduleArgs.join(' ') || 'expecting it to run as root'}): ${trip.detail}; is --daemon-user right?`);
  return { changes, notes };
}

export interface ApplyOptions {
  /** Runs the PAM self-check on a stack (tests may replace it). */
  selfCheck?: (stack: string) => { ok: boolean; detail: string };
  sshd?: string;
}

/** Backs up, replaces, checks again; restores everything on any failure. */
export function applyChanges(root: string, plan: Plan, options: ApplyOptions = {}): void {
  const p = paths(root);
  const selfCheck = options.selfCheck ?? pamSelfCheck;
  const pamChange = plan.changes.find((c) => c.path === p.pam);
  if (pamChange?.after) {
    // The new stack must load as well as the old one does.
    const before = selfCheck(pamChange.before ?? '');
    const after = selfCheck(pamChange.after);
    if (before.ok && !after.ok) throw new InstallError(`the PAM self-check fails with the oauth-ssh lines, and passes without them: ${after.detail}`);
  }
  mkdirSync(p.backupDir, { recursive: true, mode: 0o700 });
  const done: Change[] = [];
  try {
    for (const change of plan.changes) {
      if (change.before !== null) copyFileSync(change.path, join(p.backupDir, change.path.replaceAll('/', '_')));
      if (change.after === null) rmSync(change.path, { force: true });
      else replaceFile(change.path, change.after);
      done.push(change);
    }
    sshdEffective(p, currentDropIns(p), options.sshd);
  } catch (err) {
    for (const change of done.reverse()) {
      if (change.before === null) rmSync(change.path, { force: true });
      else replaceFile(change.path, change.before);
    }
    throw err instanceof InstallError ? new InstallError(`${err.message}; everything was restored`) : err;
  }
}

/** What uninstall would change: our blocks out of the PAM file, our drop-in gone. */
export function planUninstall(root: string): Plan {
  const p = paths(root);
  const changes: Change[] = [];
  const notes: string[] = [];
  const pam = read(p.pam);
  if (pam !== null) {
    const without = pamWithoutOauth(pam);
    if (without !== pam) changes.push({ path: p.pam, before: pam, after: without });
    const backup = read(join(p.backupDir, p.pam.replaceAll('/', '_')));
    if (backup !== null && without !== backup) notes.push(`${p.pam} differs from the copy saved at install beyond the oauth-ssh lines: your other edits are kept`);
  }
  const dropIn = read(p.dropIn);
  if (dropIn !== null) {
    if (!dropIn.startsWith(DROP_IN_HEADER)) throw new InstallError(`${p.dropIn} was not written by oauth-ssh-server install: remove it yourself`);
    changes.push({ path: p.dropIn, before: dropIn, after: null });
  }
  return { changes, notes };
}

/** Where the package put the module: the multiarch security directory (Debian), found by looking. */
export function defaultModulePath(root = '/'): string {
  for (const lib of ['/lib', '/usr/lib']) {
    const base = join(root, lib);
    if (!existsSync(base)) continue;
    for (const arch of readdirSync(base)) {
      const candidate = join(lib, arch, 'security', 'pam_oauth_ssh.so');
      if (existsSync(join(root, candidate))) return candidate;
    }
  }
  return 'pam_oauth_ssh.so';
}

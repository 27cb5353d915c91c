/**
 * ssh_config integration, so that plain ssh, scp, rsync, git and IDEs get
 * the token without typing it. `oauth-ssh setup PATTERN` appends (with the
 * ssh-config library, keeping the rest of the file as it is, idempotently):
 *
 *     Match host "PATTERN" exec "<helper> ensure %h"
 *       KbdInteractiveAuthentication yes
 *
 * At the end of the file, `host` and `%h` are the real host name (after any
 * HostName), the name ssh's token prompt shows. `ensure` makes sure a fresh
 * token is in the store before ssh connects (refreshing, or logging in when a
 * terminal is at hand). The prompt itself is answered by the standalone
 * askpass, which the shell profile enables:
 *
 *     export SSH_ASKPASS=<data dir>/askpass SSH_ASKPASS_REQUIRE=force
 *
 * It answers only `(user@host) Enter your OAuth token: ` with that host's
 * token and asks every other prompt on the terminal, as ssh would. (`prefer`
 * is not enough: ssh honours it only when DISPLAY is set.)
 */
import { chmodSync, existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import SSHConfig from 'ssh-config';
import { UsageError } from '../shared/errors.js';
import { shellQuote, writeLauncher } from './launcher.js';
import { OWN_SSH_MARK } from './own-ssh.js';
import { dataDir, privateDir } from './paths.js';
import { JsonFile } from './store/json-file.js';

export const ENSURE_MARK = ' ensure %h';

export interface SetupPaths {
  helper: string;
  askpass: string;
}

export function launcherPaths(): SetupPaths {
  const dir = dataDir();
  return { helper: join(dir, 'oauth-ssh-helper'), askpass: join(dir, 'askpass') };
}

export function installLaunchers(): SetupPaths {
  privateDir(dataDir());
  const { helper, askpass } = launcherPaths();
  writeLauncher(helper, [], {
    lasting: true,
    // Answered in sh, before Node starts: ssh runs this hook for oauth-ssh's own `ssh -G` and connection too.
    preamble: [`[ "$1" = ensure ] && [ -n "\${${OWN_SSH_MARK}-}" ] && exit 0`],
  });
  writeFileSync(askpass, `#!/bin/sh\nexec ${shellQuote(helper)} __askpass-standalone "$@"\n`, { mode: 0o700 });
  return { helper, askpass };
}

/**
 * Which ssh config files hold which of our blocks, so that the last
 * `setup --remove` can take the helper and the askpass away too, and an
 * earlier one leaves them for the blocks still using them.
 */
const UNKNOWN_FILES = '(set up before this record)';
const setupRecord = () => new JsonFile<Record<string, string[]>>(join(dataDir(), 'setup.json'), 'setup record', 'setup no longer knows which ssh config files it edited, so it keeps the helper and askpass');

const matchValue = (pattern: string, helper: string) => `host "${pattern}" exec "${ourHelperCommand(helper)}"`;

/** A Match line's criteria as words: the library gives a string for lines we added, a token list for parsed ones. */
function matchWords(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => String((v as { val?: unknown }).val ?? ''));
  if (typeof value !== 'string') return [];
  return [...value.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

function ourHelperCommand(helper: string): string {
  return `${shellQuote(helper)}${ENSURE_MARK}`;
}

/** Our block for PATTERN: `Match host PATTERN exec "<...> ensure %h"`; `helper` given = exactly this helper. */
function isOurs(line: object, pattern: string, helper?: string): boolean {
  const { param, value } = line as { param?: string; value?: unknown };
  if (param?.toLowerCase() !== 'match') return false;
  const words = matchWords(value);
  return (
    words.length === 4 &&
    words[0]!.toLowerCase() === 'host' &&
    words[1] === pattern &&
    words[2]!.toLowerCase() === 'exec' &&
    (helper === undefined ? words[3]!.endsWith(ENSURE_MARK) : words[3] === ourHelperCommand(helper))
  );
}

export function validatePattern(pattern: string): void {
  if (!/^[A-Za-z0-9*?.\-_:[\]!,]+$/.test(pattern)) throw new UsageError(`"${pattern}" is not a host pattern (letters, digits, . - _ : and the wildcards * ? !)`);
}

/** Returns the new file text; `remove` takes our block for PATTERN out instead. */
export function editSshConfig(text: string, pattern: string, helper: string, remove: boolean): string {
  validatePattern(pattern);
  const config = SSHConfig.parse(text);
  const present = config.filter((line) => isOurs(line, pattern));
  if (!remove && present.length === 1 && isOurs(present[0]!, pattern, helper)) return text;
  if (remove && present.length === 0) return text;
  config.remove((line) => isOurs(line, pattern));
  if (!remove) config.append({ Match: matchValue(pattern, helper), KbdInteractiveAuthentication: 'yes' });
  return SSHConfig.stringify(config);
}

/** The patterns of every block of ours in an ssh config text (any helper path). */
function ourPatterns(text: string): string[] {
  return SSHConfig.parse(text).flatMap((line) => {
    const { param, value } = line as { param?: string; value?: unknown };
    const pattern = param?.toLowerCase() === 'match' ? matchWords(value)[1] : undefined;
    return pattern !== undefined && isOurs(line, pattern) ? [pattern] : [];
  });
}

/** Our blocks in an ssh config text: the pattern and the helper command each runs (for `doctor`). */
export function ourBlocks(text: string): Array<{ pattern: string; helper: string }> {
  return SSHConfig.parse(text).flatMap((line) => {
    const { param, value } = line as { param?: string; value?: unknown };
    const words = param?.toLowerCase() === 'match' ? matchWords(value) : [];
    return words[1] !== undefined && isOurs(line, words[1]) ? [{ pattern: words[1], helper: words[3]!.slice(0, -ENSURE_MARK.length) }] : [];
  });
}

/** The ssh config files setup recorded editing (besides ~/.ssh/config, which doctor always reads). */
export function recordedFiles(): string[] {
  return Object.keys(setupRecord().read()).filter((f) => f !== UNKNOWN_FILES);
}

export interface SetupResult {
  changed: boolean;
  paths: SetupPaths;
  /** After a remove: true when no block is left anywhere, so the helper and askpass went too. */
  launchersRemoved: boolean;
  /** After a remove that kept the launchers: the files whose blocks still use them. */
  stillUsedBy: string[];
}

/** The same file by one name: a symlinked ~/.ssh/config is recorded once. */
function canonical(file: string): string {
  const path = resolve(file);
  try {
    return realpathSync(path);
  } catch {
    return path; // not there (yet)
  }
}

const readIfThere = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');

export async function setupSshConfig(file: string, pattern: string, remove: boolean, sshDir = join(homedir(), '.ssh')): Promise<SetupResult> {
  validatePattern(pattern);
  const path = canonical(file);
  // ~/.ssh may be created (0700, as ssh-keygen does); any other missing directory is a mistyped path.
  if (!existsSync(dirname(path)) && resolve(dirname(path)) !== resolve(sshDir)) throw new UsageError(`${dirname(path)} does not exist: check the --ssh-config path`);
  const record = setupRecord();
  // Everything below runs under the record's lock: a last remove deleting the launchers cannot
  // interleave with another setup installing them and recording its file.
  let result: SetupResult | undefined;
  await record.update((all) => {
    // Launchers older than the record were set up for files nobody wrote down: never delete those.
    const unknownFiles = all[UNKNOWN_FILES] !== undefined || (!existsSync(record.path) && existsSync(launcherPaths().helper));
    const paths = remove ? launcherPaths() : installLaunchers();
    const before = readIfThere(path);
    const after = editSshConfig(before, pattern, paths.helper, remove);
    if (after !== before) {
      privateDir(join(path, '..'));
      writeFileSync(path, after, { mode: 0o600 });
      chmodSync(path, 0o600);
    }
    // Each file says which of our blocks it holds: read them all again rather than trust the record,
    // which knows nothing of blocks written before it existed or edited away by hand.
    const files = new Set([...Object.keys(all).filter((f) => f !== UNKNOWN_FILES), path]);
    const next: Record<string, string[]> = unknownFiles ? { [UNKNOWN_FILES]: [] } : {};
    for (const f of files) {
      const left = ourPatterns(f === path ? after : readIfThere(f));
      if (left.length) next[f] = left;
    }
    const stillUsedBy = Object.keys(next).filter((f) => f !== UNKNOWN_FILES);
    // Delete only on a remove that took a block out, when every file that may use them is known.
    const launchersRemoved = remove && after !== before && !unknownFiles && stillUsedBy.length === 0;
    if (launchersRemoved) {
      rmSync(paths.helper, { force: true });
      rmSync(paths.askpass, { force: true });
    }
    result = { changed: after !== before, paths, launchersRemoved, stillUsedBy };
    return next;
  });
  return result!;
}

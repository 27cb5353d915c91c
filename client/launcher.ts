/**
 * Small launchers (shell scripts in private directories) that run this
 * program again in a helper mode: what SSH_ASKPASS and ssh_config's
 * `Match exec` need, since both take a command, not a function.
 */
import { accessSync, constants, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Node's flags for re-running this program from any directory (a bare `--import tsx` resolves against the cwd). */
function portableExecArgv(): string[] {
  return process.execArgv.map((arg, i, all) => {
    const isImport = all[i - 1] === '--import' || all[i - 1] === '--loader';
    const inline = /^--(import|loader)=(.+)$/.exec(arg);
    if (isImport && !/^[./]|^file:/.test(arg)) return import.meta.resolve(arg);
    if (inline && !/^[./]|^file:/.test(inline[2]!)) return `--${inline[1]}=${import.meta.resolve(inline[2]!)}`;
    return arg;
  });
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command line that runs this program exactly as it runs now (node, its flags, the script), quoted for sh. */
export function selfCommand(): string {
  return [process.execPath, ...portableExecArgv(), process.argv[1]!].map(shellQuote).join(' ');
}

/** May this user run `path`? */
export const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const realpathOrSelf = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
};

/** Does `candidate` run `script`: a link to it (npm), or a small wrapper naming it (the Debian package's /usr/bin/oauth-ssh)? */
function runsScript(candidate: string, script: string): boolean {
  if (!isExecutable(candidate)) return false;
  if (realpathOrSelf(candidate) === realpathOrSelf(script)) return true;
  try {
    return statSync(candidate).size < 4096 && readFileSync(candidate, 'utf8').includes(script);
  } catch {
    return false;
  }
}

export interface Invocation {
  script: string;
  execArgv: string[];
  path: string | undefined;
}

/**
 * The command for launchers that outlive this run (the setup helper): the
 * `oauth-ssh` on PATH that runs this program (/usr/bin/oauth-ssh, npm's
 * link), whose own `#!` line or wrapper finds node at run time. Baking
 * node's path and the package's in would break at the next node upgrade or
 * reinstall. A checkout run through node flags (tsx) has no such command.
 */
export function lastingCommand(run: Invocation = { script: process.argv[1]!, execArgv: process.execArgv, path: process.env.PATH }): string {
  if (run.execArgv.length > 0 || run.script.endsWith('.ts')) return selfCommand();
  const onPath = (run.path ?? '').split(':').filter((d) => d.startsWith('/')).map((d) => join(d, 'oauth-ssh')).find((c) => runsScript(c, run.script));
  if (onPath) return shellQuote(onPath);
  return isExecutable(run.script) ? shellQuote(run.script) : selfCommand();
}

/** Writes an executable (0700) script at `path`: `preamble` (sh lines), then this program with `args` and the script's own arguments. */
export function writeLauncher(path: string, args: string[], options: { lasting?: boolean; preamble?: string[] } = {}): void {
  const quotedArgs = args.map(shellQuote).join(' ');
  const lines = [...(options.preamble ?? [])];
  // The installed command finds node on PATH; ssh run by an IDE or cron may have a PATH without it
  // (nvm): then the node that ran setup, rather than a helper that fails.
  if (options.lasting) lines.push(`command -v node >/dev/null 2>&1 || exec ${selfCommand()} ${quotedArgs} "$@"`);
  const command = options.lasting ? lastingCommand() : selfCommand();
  writeFileSync(path, `#!/bin/sh\n${lines.map((l) => `${l}\n`).join('')}exec ${command} ${quotedArgs} "$@"\n`, { mode: 0o700 });
}

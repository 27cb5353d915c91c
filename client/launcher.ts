/**
 * Small launchers (shell scripts in private directories) that run this
 * program again in a helper mode: what SSH_ASKPASS and ssh_config's
 * `Match exec` need, since both take a command, not a function.
 */
import { writeFileSync } from 'node:fs';

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

/** The command line that runs this program, quoted for sh. */
export function selfCommand(): string {
  return [process.execPath, ...portableExecArgv(), process.argv[1]!].map(shellQuote).join(' ');
}

/** Writes an executable (0700) script at `path` running this program with `args` then the script's own arguments. */
export function writeLauncher(path: string, args: string[]): void {
  writeFileSync(path, `#!/bin/sh\nexec ${selfCommand()} ${args.map(shellQuote).join(' ')} "$@"\n`, { mode: 0o700 });
}

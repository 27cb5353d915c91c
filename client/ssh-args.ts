/**
 * The ssh command line, read the way OpenSSH reads it (getopt with the same
 * option string, options allowed after the destination, `--` ends options),
 * so that `oauth-ssh` takes every argument ssh takes and can find the
 * destination and the command without guessing.
 */
import { UsageError } from '../shared/errors.js';

/** OpenSSH 8.x-9.x: single-letter options that take an argument. */
const WITH_ARGUMENT = new Set('bceilmopBDEFIJLOPQRSwW'.split(''));

export interface SshArgs {
  /** Every option with its argument, in order, without `--` (for `ssh -G`; ssh itself gets the original argv). */
  options: string[];
  destination: string;
  /** The remote command and its arguments, verbatim. */
  command: string[];
}

export function parseSshArgs(argv: string[]): SshArgs {
  const options: string[] = [];
  let destination: string | undefined;
  let i = 0;
  let optionsEnded = false;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (!optionsEnded && arg === '--') {
      optionsEnded = true;
      i++;
      continue;
    }
    if (!optionsEnded && arg.startsWith('-') && arg.length > 1) {
      options.push(arg);
      for (let j = 1; j < arg.length; j++) {
        if (WITH_ARGUMENT.has(arg[j]!)) {
          if (j === arg.length - 1) {
            if (i + 1 >= argv.length) throw new UsageError(`option -${arg[j]} needs an argument (as with ssh)`);
            options.push(argv[++i]!);
          }
          break;
        }
      }
      i++;
      continue;
    }
    if (destination === undefined) {
      destination = arg;
      i++;
      // OpenSSH parses options again after the destination, unless `--` ended them.
      continue;
    }
    break;
  }
  if (destination === undefined) throw new UsageError('no destination: usage is oauth-ssh [ssh options] [user@]host [command [argument ...]]');
  return { options, destination, command: argv.slice(i) };
}

/** The host part of a destination as typed (`user@host`, `ssh://user@host:port`). */
export function typedHost(destination: string): string {
  const uri = /^ssh:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)/.exec(destination);
  if (uri) return uri[1]!.replace(/^\[|\]$/g, '');
  return destination.slice(destination.lastIndexOf('@') + 1);
}

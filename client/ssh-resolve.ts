/**
 * Where a destination really goes, as ssh itself decides it: `ssh -G` with
 * the user's options applies ~/.ssh/config (Host aliases, HostName, User,
 * Port, ProxyJump, Match) exactly as the connection will.
 */
import { execFile } from 'node:child_process';
import { errorMessage, OAuthSshError } from '../shared/errors.js';
import { ownSshEnv, sshProgram, sshSpawnError } from './own-ssh.js';
import { typedHost, type SshArgs } from './ssh-args.js';

export interface ResolvedDestination {
  user: string;
  hostname: string;
  port: number;
  proxyJump: string | null;
  hostKeyAlias: string | null;
  batchMode: boolean;
  kbdInteractive: boolean;
}

export function parseSshG(output: string): ResolvedDestination {
  const values = new Map<string, string>();
  for (const line of output.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0 && !values.has(line.slice(0, sp))) values.set(line.slice(0, sp), line.slice(sp + 1).trim());
  }
  const hostname = values.get('hostname');
  if (!hostname) throw new OAuthSshError('USAGE', '`ssh -G` printed no hostname');
  const jump = values.get('proxyjump');
  return {
    user: values.get('user') ?? '',
    hostname: hostname.toLowerCase(),
    port: Number(values.get('port') ?? 22),
    proxyJump: jump && jump !== 'none' ? jump : null,
    hostKeyAlias: values.get('hostkeyalias') ?? null,
    batchMode: values.get('batchmode') === 'yes',
    kbdInteractive: values.get('kbdinteractiveauthentication') !== 'no',
  };
}

/** Flags that change what ssh does rather than where it goes (and make `ssh -G` fail, like -s without a command). */
const NOT_FOR_G_FLAGS = /[sfV]/g;
const NOT_FOR_G_WITH_ARGUMENT = new Set(['-O', '-E']);

/** The user's options minus those that do not bear on the destination. */
export function optionsForG(options: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const o = options[i]!;
    if (NOT_FOR_G_WITH_ARGUMENT.has(o)) {
      i++;
      continue;
    }
    if (/^-[A-Za-z0-9]+$/.test(o) && !/[bceilmopBDEFIJLOPQRSwW]/.test(o)) {
      const kept = o.slice(1).replace(NOT_FOR_G_FLAGS, '');
      if (kept) out.push(`-${kept}`);
      continue;
    }
    out.push(o);
  }
  return out;
}

/**
 * The token is answered at a keyboard-interactive prompt, which BatchMode=yes
 * (sftp -b, scripts) and KbdInteractiveAuthentication=no (ansible) switch
 * off. ssh keeps the first value it sees for an option, so these go first;
 * in batch mode our askpass still refuses every prompt but the token's.
 */
export function promptOptions(resolved: { batchMode: boolean; kbdInteractive: boolean }): string[] {
  return [...(resolved.batchMode ? ['-oBatchMode=no'] : []), ...(resolved.kbdInteractive ? [] : ['-oKbdInteractiveAuthentication=yes'])];
}

const quoteIfNeeded = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * What follows `oauth-ssh login` to reach this host as this command did: the
 * host as typed, and after `--` the options that bear on where it goes
 * (`-- -F cfg -p 2222 myhost`), so that advice names a command that works.
 */
export function loginArgs(args: SshArgs): string {
  const kept: string[] = [];
  for (let i = 0; i < args.options.length; i++) {
    const o = args.options[i]!;
    const letter = /^-([A-Za-z])/.exec(o)?.[1];
    const takesNext = /^-[A-Za-z0-9]*[bceilmopBDEFIJLOPQRSwW]$/.test(o);
    if (letter && 'FplJo'.includes(letter) && o.length === 2) kept.push(o, args.options[i + 1] ?? '');
    else if (letter && 'FplJo'.includes(letter)) kept.push(o);
    if (takesNext) i++;
  }
  const host = typedHost(args.destination);
  return kept.length ? `-- ${[...kept, host].map(quoteIfNeeded).join(' ')}` : quoteIfNeeded(host);
}

/** The command that logs in for what the user typed (its `loginArgs`). */
export const loginAdvice = (loginArguments: string) => `\`oauth-ssh login ${loginArguments}\``;

function runSshG(args: SshArgs): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(sshProgram(), ['-G', ...optionsForG(args.options), '--', args.destination], { timeout: 10_000, env: ownSshEnv() }, (err, stdout, stderr) => {
      if (err && typeof err.code === 'string') reject(sshSpawnError(err as NodeJS.ErrnoException));
      else if (err) reject(new OAuthSshError('USAGE', `ssh -G could not resolve "${args.destination}": ${stderr.trim() || err.message}`));
      else resolve({ stdout, stderr });
    });
  });
}

export async function resolveDestination(args: SshArgs): Promise<ResolvedDestination> {
  let { stdout, stderr } = await runSshG(args);
  // Seen with a hundred oauth-ssh processes starting at once beside other tests: ssh -G exited 0 having
  // printed nothing at all. A second run answers; anything else it printed is reported as it was.
  if (stdout === '' && stderr === '') ({ stdout, stderr } = await runSshG(args));
  try {
    return parseSshG(stdout);
  } catch (e) {
    throw new OAuthSshError('USAGE', `${errorMessage(e)} for "${args.destination}" (${stdout.length} bytes out${stderr.trim() ? `; it said: ${stderr.trim().slice(0, 300)}` : ''})`);
  }
}

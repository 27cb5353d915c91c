/**
 * Where a destination really goes, as ssh itself decides it: `ssh -G` with
 * the user's options applies ~/.ssh/config (Host aliases, HostName, User,
 * Port, ProxyJump, Match) exactly as the connection will.
 */
import { execFile } from 'node:child_process';
import { OAuthSshError } from '../shared/errors.js';
import type { SshArgs } from './ssh-args.js';

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

export function resolveDestination(args: SshArgs, sshBinary = 'ssh'): Promise<ResolvedDestination> {
  return new Promise((resolve, reject) => {
    execFile(sshBinary, ['-G', ...optionsForG(args.options), '--', args.destination], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new OAuthSshError('USAGE', `ssh -G could not resolve "${args.destination}": ${stderr.trim() || err.message}`));
      else {
        try {
          resolve(parseSshG(stdout));
        } catch (e) {
          reject(e);
        }
      }
    });
  });
}

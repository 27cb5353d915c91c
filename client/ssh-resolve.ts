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
  };
}

export function resolveDestination(args: SshArgs, sshBinary = 'ssh'): Promise<ResolvedDestination> {
  return new Promise((resolve, reject) => {
    execFile(sshBinary, ['-G', ...args.options, '--', args.destination], { timeout: 10_000 }, (err, stdout, stderr) => {
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

/**
 * The Globus/XSEDE in-band queries: connect as the server's query account,
 * answer the token prompt with a base64 JSON command, and read the base64
 * JSON reply. sshd delivers the reply as the instruction text of a final
 * keyboard-interactive round, which stock ssh prints on stderr (measured),
 * so the query runs ssh with stderr captured and no command ever runs.
 */
import { spawn } from 'node:child_process';
import { OAuthSshError } from '../shared/errors.js';
import { encodeCommand } from '../shared/in-band.js';
import { startAskpassServer } from './askpass.js';
import { ownSshEnv, sshProgram, sshSpawnError } from './own-ssh.js';
import type { SshArgs } from './ssh-args.js';
import { promptOptions, type ResolvedDestination } from './ssh-resolve.js';

export class QueryError extends OAuthSshError {
  constructor(message: string) {
    super('LOGIN_FAILED', message);
  }
}

/** ssh stopped before the host was asked anything: a fact about this connection, not about the host's answers. */
export class NotAskedError extends QueryError {}

const BEFORE_ASKING = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|Connection refused|Connection timed out|Could not resolve hostname|No route to host|Network is unreachable/;

export function parseReplies(stderr: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of stderr.split(/\r?\n/)) {
    const text = line.trim();
    if (!/^ey[A-Za-z0-9+/]+=*$/.test(text)) continue;
    try {
      const v = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) out.push(v as Record<string, unknown>);
    } catch {
      // not a reply
    }
  }
  return out;
}

export async function queryHost(args: SshArgs, resolved: ResolvedDestination, queryAccount: string, op: string, accessToken?: string): Promise<Record<string, unknown>> {
  const askpass = await startAskpassServer(encodeCommand(op, accessToken), {
    user: queryAccount,
    hosts: [resolved.hostname, ...(resolved.hostKeyAlias ? [resolved.hostKeyAlias] : [])],
    acceptUnprefixed: resolved.proxyJump === null,
    batch: true,
    askHostKeys: true,
  });
  try {
    const argv = [
      ...promptOptions(resolved),
      `-oUser=${queryAccount}`,
      '-oLogLevel=INFO',
      '-oPreferredAuthentications=keyboard-interactive',
      '-oNumberOfPasswordPrompts=1',
      '-oControlMaster=no',
      '-oControlPath=none',
      '-oRequestTTY=no',
      ...args.options,
      '--',
      args.destination,
      'true',
    ];
    const stderr = await new Promise<string>((resolve, reject) => {
      const child = spawn(sshProgram(), argv, { stdio: ['ignore', 'ignore', 'pipe'], env: ownSshEnv({ SSH_ASKPASS: askpass.program, SSH_ASKPASS_REQUIRE: 'force' }) });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', (err) => reject(sshSpawnError(err)));
      child.on('close', () => {
        clearTimeout(timer);
        resolve(err);
      });
    });
    const reply = parseReplies(stderr).at(-1);
    const stopped = reply ? null : BEFORE_ASKING.exec(stderr);
    if (stopped) throw new NotAskedError(`${resolved.hostname} was not asked (${stopped[0]})`);
    if (!reply) throw new QueryError(`${resolved.hostname} did not answer the ${op} query (is it an oauth-ssh server with the ${queryAccount} account?)`);
    if (reply.error && typeof reply.error === 'object') {
      const e = reply.error as { code?: unknown; description?: unknown };
      throw new QueryError(`${resolved.hostname} answered ${String(e.code)}: ${String(e.description ?? '')}`);
    }
    return reply;
  } finally {
    askpass.close();
  }
}

/**
 * One structured JSON event per decision: to syslog (authpriv, through the
 * system's `logger`, so journald or rsyslog files it like sshd's own lines),
 * to stderr, or appended to a file. Tokens appear only as hash prefixes.
 */
import { spawn } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import type { AuditTarget } from './config.js';

export interface AuditEvent {
  event: 'login' | 'query' | 'check';
  op?: string;
  rhost: string;
  service: string;
  user: string;
  identity?: string;
  /** The provider that verified the token. */
  issuer?: string;
  idp?: string;
  auth_time?: number;
  token?: string;
  decision: string;
  reason: string;
}

export type AuditSink = (event: AuditEvent) => Promise<void>;

export function auditSink(target: AuditTarget): AuditSink {
  return async (event) => {
    const line = JSON.stringify({ time: new Date().toISOString(), ...event });
    switch (target.kind) {
      case 'stderr':
        process.stderr.write(`${line}\n`);
        return;
      case 'file':
        await appendFile(target.path, `${line}\n`, { mode: 0o600 });
        return;
      case 'syslog':
        await new Promise<void>((resolve) => {
          const child = spawn('logger', ['--id', '-p', 'authpriv.notice', '-t', 'oauth-ssh-server'], { stdio: ['pipe', 'ignore', 'inherit'] });
          child.on('error', () => resolve());
          child.on('close', () => resolve());
          child.stdin.on('error', () => {});
          child.stdin.end(`${line}\n`);
        });
    }
  };
}

/**
 * One structured JSON event per decision, without a process per decision
 * (spawning one costs most of a cached decision, and is a fork storm under
 * load). Targets:
 *  - syslog: under systemd (JOURNAL_STREAM names our stderr), JSON lines on
 *    stderr, which journald files with the unit's SyslogIdentifier and
 *    SyslogFacility=authpriv; elsewhere one long-lived `logger` reading our
 *    lines (authpriv.notice, tag oauth-ssh-server); if syslog cannot be
 *    reached, stderr, said once, and syslog tried again a minute later;
 *  - stderr;
 *  - a file, opened once (0600) and appended to.
 * Tokens appear only as hash prefixes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fstatSync, openSync, write } from 'node:fs';
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
  /** The in-band error code of the decision (OK, INVALID_TOKEN, ...), where there is one. */
  code?: string;
  reason: string;
}

export type AuditSink = (event: AuditEvent) => Promise<void>;

const RETRY_SYSLOG_MS = 60_000;

/** systemd sets JOURNAL_STREAM=DEV:INODE when stderr is a stream to journald. */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    const st = fstatSync(2);
    return String(st.dev) === m[1] && String(st.ino) === m[2];
  } catch {
    return false;
  }
}

/**
 * Lines written to a stream together, once per turn of the event loop: under
 * load, one write for many decisions instead of a system call each.
 */
function batched(write: (data: string) => void): (line: string) => void {
  let pending = '';
  return (line) => {
    if (pending === '') setImmediate(() => {
      const data = pending;
      pending = '';
      write(data);
    });
    pending += line;
  };
}

const toStderr = batched((data) => void process.stderr.write(data));

/** Lines to syslog through one `logger` for the daemon's life; falls back to stderr while it cannot run. */
function syslogWriter(): (line: string) => void {
  let logger: ChildProcess | null = null;
  let downUntil = 0;
  const start = (): ChildProcess | null => {
    if (Date.now() < downUntil) return null;
    // --socket-errors=on: without a syslog socket logger exits, and we notice, instead of dropping events.
    const child = spawn('logger', ['--socket-errors=on', `--id=${process.pid}`, '-p', 'authpriv.notice', '-t', 'oauth-ssh-server'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const gone = (why: string) => {
      if (logger !== child) return;
      logger = null;
      downUntil = Date.now() + RETRY_SYSLOG_MS;
      toStderr(`oauth-ssh-server: syslog is not reachable (${why}); audit events go to stderr for now\n`);
    };
    child.on('error', (err) => gone(err.message));
    child.on('exit', (code) => gone(`logger exited ${code}`));
    child.stdin!.on('error', () => {});
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    return child;
  };
  // At once, not at the first event: a logger that cannot reach syslog exits before any event is lost to it.
  logger = start();
  const toLogger = batched((data) => {
    logger ??= start();
    if (logger?.stdin?.writable) logger.stdin.write(data);
    else toStderr(data);
  });
  return toLogger;
}

/** Appends to a file opened once; writes are queued so lines never interleave. */
function fileWriter(path: string): (line: string) => Promise<void> {
  const fd = openSync(path, 'a', 0o600);
  let queue = Promise.resolve();
  return (line) => {
    queue = queue.then(() => new Promise<void>((resolve) => write(fd, line, () => resolve())));
    return queue;
  };
}

export function auditSink(target: AuditTarget, env: NodeJS.ProcessEnv = process.env): AuditSink {
  let write: (line: string) => void | Promise<void>;
  if (target.kind === 'file') write = fileWriter(target.path);
  else if (target.kind === 'syslog' && !stderrIsJournal(env)) write = syslogWriter();
  else write = toStderr;
  return async (event) => {
    await write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  };
}

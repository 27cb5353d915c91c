/**
 * The daemon's side of the bridge protocol (server-pam/PROTOCOL.md): parse
 * the bridge's request, then drive the PAM conversation through it with
 * prompts, messages, keep-alives, and one final result.
 */
import type { Socket } from 'node:net';
import { OAuthSshError } from '../shared/errors.js';

export const PROTOCOL_VERSION = 'OAUTH-SSH/1';
export const MAX_LINE = 65536;
/** The bridge sends one line and waits: more than one line's worth buffered is not a bridge. */
export const MAX_BUFFERED = MAX_LINE + 2;

export type PamResult = 'SUCCESS' | 'AUTH_ERR' | 'AUTHINFO_UNAVAIL' | 'USER_UNKNOWN' | 'MAXTRIES' | 'IGNORE' | 'SYSTEM_ERR';

export interface PamRequest {
  user: string;
  service: string;
  rhost: string;
  tty: string;
  /** The Globus environment the PAM line names (GO's module argument environment=), if any. */
  environment?: string;
}

/** acct_mgmt / setcred asking whether a ticket from a successful authentication is real. */
export interface TicketCheck {
  user: string;
  service: string;
  ticket: string;
}

export type BridgeRequest = { verb: 'AUTH'; request: PamRequest } | { verb: 'CHECK'; check: TicketCheck } | { verb: 'STATUS' };

export class ProtocolError extends OAuthSshError {
  constructor(message: string) {
    super('PROTOCOL', message);
  }
}

export function encodeValue(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  let plainStart = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x25 || b === 0x20 || b < 0x20 || b === 0x7f) {
      out += bytes.subarray(plainStart, i).toString('utf8') + `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
      plainStart = i + 1;
    }
  }
  return out + bytes.subarray(plainStart).toString('utf8');
}

export function decodeValue(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x25) {
      out.push(bytes[i]!);
      continue;
    }
    const hex = bytes.subarray(i + 1, i + 3).toString('latin1');
    if (!/^[0-9a-fA-F]{2}$/.test(hex) || hex === '00') throw new ProtocolError('malformed percent-encoding');
    out.push(parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(out).toString('utf8');
}

export function parseRequestLine(line: string): PamRequest {
  const parsed = parseBridgeRequest(line);
  if (parsed.verb !== 'AUTH') throw new ProtocolError('expected an AUTH request');
  return parsed.request;
}

export function parseBridgeRequest(line: string): BridgeRequest {
  const [version, verb, ...fields] = line.split(' ');
  if (version !== PROTOCOL_VERSION) throw new ProtocolError(`unsupported protocol version "${version}"`);
  if (verb === 'STATUS' && fields.length === 0) return { verb };
  if (verb !== 'AUTH' && verb !== 'CHECK') throw new ProtocolError(`unknown request "${verb}"`);
  const values = new Map<string, string>();
  for (const field of fields) {
    const eq = field.indexOf('=');
    if (eq <= 0) throw new ProtocolError('malformed request field');
    values.set(field.slice(0, eq), decodeValue(field.slice(eq + 1)));
  }
  const user = values.get('user');
  if (!user) throw new ProtocolError('request without user');
  if (verb === 'CHECK') return { verb, check: { user, service: values.get('service') ?? '', ticket: values.get('ticket') ?? '' } };
  const environment = values.get('environment');
  return { verb, request: { user, service: values.get('service') ?? '', rhost: values.get('rhost') ?? '', tty: values.get('tty') ?? '', ...(environment ? { environment } : {}) } };
}

/** Reads newline-terminated lines from a socket with a size bound. */
class LineReader {
  private buffer = Buffer.alloc(0);
  private waiting: ((line: string | Error) => void) | undefined;
  private failure: Error | undefined;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      // Bounded at all times (also while no read is pending): a flooding peer is dropped, not buffered.
      if (this.buffer.length + chunk.length > MAX_BUFFERED) {
        this.fail(new ProtocolError(`the bridge sent more than ${MAX_BUFFERED} bytes without waiting`));
        socket.destroy();
        return;
      }
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.deliver();
    });
    // Every connection ends this way: the error is made only if someone is still waiting for a line.
    socket.on('end', () => this.fail(null));
    socket.on('error', (err) => this.fail(new ProtocolError(`socket error: ${err.message}`)));
  }

  private fail(err: Error | null): void {
    this.closed = true;
    if (err) this.failure ??= err;
    this.deliver();
  }

  private closed = false;

  private deliver(): void {
    if (!this.waiting) return;
    const nl = this.buffer.indexOf(0x0a);
    if (nl >= 0) {
      // Bytes below 0x20 travel %-encoded (PROTOCOL.md): a raw one is not our bridge speaking.
      if (this.buffer.subarray(0, nl).some((b) => b < 0x20)) {
        this.failure ??= new ProtocolError('raw control byte in a line');
        const reject = this.waiting;
        this.waiting = undefined;
        reject(this.failure);
        return;
      }
      const line = this.buffer.subarray(0, nl).toString('utf8');
      this.buffer = this.buffer.subarray(nl + 1);
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve(line);
    } else if (this.buffer.length >= MAX_LINE) {
      this.failure ??= new ProtocolError(`line over ${MAX_LINE} bytes`);
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve(this.failure);
    } else if (this.failure || this.closed) {
      this.failure ??= new ProtocolError('bridge closed the connection');
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve(this.failure);
    }
  }

  next(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting = (v) => (v instanceof Error ? reject(v) : resolve(v));
      this.deliver();
    });
  }
}

/** One authentication's conversation with the bridge. */
export class PamConversation {
  private readonly reader: LineReader;
  private finished = false;

  constructor(private readonly socket: Socket) {
    this.reader = new LineReader(socket);
  }

  async readRequest(): Promise<BridgeRequest> {
    return parseBridgeRequest(await this.reader.next());
  }

  /** Lines wait here until the next turn of the event loop or the result: one write for what goes together. */
  private pending = '';

  private send(verb: string, value?: string): void {
    if (this.finished || this.socket.destroyed) return;
    if (this.pending === '') queueMicrotask(() => this.flush());
    this.pending += value === undefined ? `${verb}\n` : `${verb} ${encodeValue(value)}\n`;
  }

  private flush(): void {
    if (this.pending === '' || this.socket.destroyed) return;
    const data = this.pending;
    this.pending = '';
    this.socket.write(data);
  }

  /** Asks the user; undefined when the application gave no answer. */
  async prompt(text: string, echo: boolean): Promise<string | undefined> {
    this.send(echo ? 'PROMPT_ON' : 'PROMPT_OFF', text);
    const line = await this.reader.next();
    if (line === 'NOANSWER') return undefined;
    if (!line.startsWith('ANSWER ')) throw new ProtocolError('expected ANSWER or NOANSWER');
    return decodeValue(line.slice('ANSWER '.length));
  }

  info(text: string): void {
    this.send('INFO', text);
  }

  error(text: string): void {
    this.send('ERROR', text);
  }

  keepalive(): void {
    this.send('KEEPALIVE');
  }

  /** `oauth-ssh-server status`: the counters, one encoded value. */
  metrics(text: string): void {
    this.send('METRICS', text);
  }

  /** Before RESULT SUCCESS: what acct_mgmt and setcred will show back to the daemon. */
  ticket(ticket: string): void {
    this.send('TICKET', ticket);
  }

  finish(result: PamResult): void {
    this.send('RESULT', result);
    this.finished = true;
    // The lines still waiting, the result and the end of the connection in one go.
    const data = this.pending;
    this.pending = '';
    if (!this.socket.destroyed) this.socket.end(data);
  }
}

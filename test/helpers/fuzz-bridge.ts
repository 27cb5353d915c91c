/**
 * A fuzzer for pam_oauth_ssh.so: a hostile daemon sends random frame
 * sequences (valid, subtly wrong and plain broken, in random chunks) to the
 * real bridge driven in-process through real Linux-PAM (scripts/pam-driver.c),
 * both built with ASan and UBSan. The oracle is a model of PROTOCOL.md: it
 * says what the bridge must return for each sequence, SUCCESS only for a
 * well-formed `RESULT SUCCESS` reached within every bound. Any sanitizer
 * report, crash or disagreement is a failure, reproducible from the seed.
 */
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { run } from './processes.js';

export const PAM_CODES: Record<string, number> = { SUCCESS: 0, SYSTEM_ERR: 4, AUTH_ERR: 7, AUTHINFO_UNAVAIL: 9, USER_UNKNOWN: 10, MAXTRIES: 11 };
const RESULTS = ['SUCCESS', 'AUTH_ERR', 'AUTHINFO_UNAVAIL', 'USER_UNKNOWN', 'MAXTRIES', 'IGNORE', 'SYSTEM_ERR'];
const MAX_LINE = 65536;
const MAX_LINES = 64;
const MAX_KEEPALIVES = 1024;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One frame: its bytes, and whether a newline ends it (a last frame may be cut off). */
export interface Frame {
  bytes: Buffer;
  newline: boolean;
}

/** What the bridge must return for these frames, by PROTOCOL.md (and the source's exact bounds). */
export function modelResult(frames: Frame[]): string {
  let lines = 0;
  let keepalives = 0;
  for (const frame of frames) {
    if (lines >= MAX_LINES) return 'AUTHINFO_UNAVAIL';
    if (!frame.newline || frame.bytes.length >= MAX_LINE) return 'AUTHINFO_UNAVAIL';
    if (frame.bytes.some((b) => b < 0x20)) return 'AUTHINFO_UNAVAIL';
    const space = frame.bytes.indexOf(0x20);
    const verb = (space < 0 ? frame.bytes : frame.bytes.subarray(0, space)).toString('latin1');
    const rawArg = space < 0 ? null : frame.bytes.subarray(space + 1);
    const arg = rawArg === null ? null : percentDecode(rawArg);
    if (rawArg !== null && arg === null) return 'AUTHINFO_UNAVAIL';
    switch (verb) {
      case 'PROMPT_OFF':
      case 'PROMPT_ON':
      case 'INFO':
      case 'ERROR':
        if (arg === null) return 'AUTHINFO_UNAVAIL';
        lines++;
        break;
      case 'KEEPALIVE':
        if (arg !== null || ++keepalives > MAX_KEEPALIVES) return 'AUTHINFO_UNAVAIL';
        break;
      case 'TICKET':
        if (arg === null || !/^[0-9a-f]{64}$/.test(arg.toString('latin1')) || arg.length !== 64) return 'AUTHINFO_UNAVAIL';
        lines++;
        break;
      case 'RESULT': {
        const code = arg?.toString('latin1');
        return code !== undefined && RESULTS.includes(code) && arg!.length === code.length ? code : 'AUTHINFO_UNAVAIL';
      }
      default:
        return 'AUTHINFO_UNAVAIL';
    }
  }
  return 'AUTHINFO_UNAVAIL'; // closed before a RESULT
}

/** %XX decoding as the bridge does it: null for a malformed escape or %00. Written again on purpose: an oracle shares no code with what it judges. */
function percentDecode(value: Buffer): Buffer | null {
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== 0x25) {
      out.push(value[i]!);
      continue;
    }
    const hex = value.subarray(i + 1, i + 3).toString('latin1');
    if (!/^[0-9a-fA-F]{2}$/.test(hex) || hex === '00') return null;
    out.push(parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(out);
}

const pick = <T>(r: () => number, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;

function text(r: () => number, max = 40): string {
  const alphabet = 'abcXYZ 019:/-._~%é€';
  let s = '';
  for (let i = Math.floor(r() * max); i > 0; i--) s += pick(r, [...alphabet]);
  return s;
}

/** Text as the daemon should encode it (%, space, control bytes), sometimes with valid escapes for letters. */
function encoded(r: () => number, value: string): string {
  let out = '';
  for (const ch of Buffer.from(value, 'utf8')) {
    if (ch === 0x25 || ch === 0x20 || ch < 0x20 || ch === 0x7f || r() < 0.05) out += `%${ch.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(ch);
  }
  return out;
}

const line = (s: string): Frame => ({ bytes: Buffer.from(s, 'latin1'), newline: true });
const hex = (r: () => number, n: number) => Array.from({ length: n }, () => pick(r, [...'0123456789abcdef'])).join('');

/** One frame: mostly well-formed, often subtly wrong, sometimes plain broken. */
function frame(r: () => number): Frame {
  const x = r();
  if (x < 0.16) return line(`${pick(r, ['INFO', 'ERROR', 'PROMPT_OFF', 'PROMPT_ON'])} ${encoded(r, text(r))}`);
  if (x < 0.36) return line('KEEPALIVE');
  if (x < 0.4) return line(`TICKET ${hex(r, 64)}`);
  if (x < 0.43) return line(`TICKET ${pick(r, [hex(r, 63), hex(r, 65), hex(r, 64).toUpperCase(), `${hex(r, 62)}%61%62`, `${hex(r, 64)} `])}`);
  if (x < 0.5) return line(`RESULT ${pick(r, RESULTS)}`);
  if (x < 0.56) return line(`RESULT ${pick(r, ['success', 'SUCC%45SS', 'SUCCESS ', ' SUCCESS', 'SUCCESS%00', 'SUCCESSX', 'PERHAPS', '', 'SUCCESS%20'])}`);
  if (x < 0.6) return line(pick(r, ['RESULT', 'INFO', 'PROMPT_OFF', 'KEEPALIVE x', 'KEEPALIVE ', 'HELLO there', '', ' ', 'result SUCCESS']));
  if (x < 0.66) {
    // A raw control byte somewhere: NUL above all.
    const base = Buffer.from(`${pick(r, ['RESULT SUCCESS', 'INFO hello', 'PROMPT_OFF token:'])}`, 'latin1');
    const at = Math.floor(r() * (base.length + 1));
    return { bytes: Buffer.concat([base.subarray(0, at), Buffer.from([pick(r, [0, 1, 9, 13, 27, 31])]), base.subarray(at)]), newline: true };
  }
  if (x < 0.7) return line(`INFO ${pick(r, ['bad%zz', '%', '%4', '%00', 'a%0', '%G1', '%%'])}`);
  if (x < 0.705) return line(`INFO ${'A'.repeat(pick(r, [MAX_LINE - 6, MAX_LINE - 5, MAX_LINE - 4]))}`); // the bound, both sides of it
  if (x < 0.71) return { bytes: Buffer.from(`PROMPT_OFF ${text(r)}`, 'latin1'), newline: false }; // cut off
  if (x < 0.75) return line(Buffer.from(Array.from({ length: 1 + Math.floor(r() * 30) }, () => 0x20 + Math.floor(r() * 224))).toString('latin1'));
  return line(`INFO ${encoded(r, text(r, 200))}`);
}

export interface SessionPlan {
  frames: Frame[];
  expected: string;
}

/** A well-behaved frame (no RESULT): what a real daemon sends before its answer. */
function validFrame(r: () => number): Frame {
  const x = r();
  if (x < 0.5) return line(`${pick(r, ['INFO', 'ERROR', 'PROMPT_OFF', 'PROMPT_ON'])} ${encoded(r, text(r))}`);
  if (x < 0.9) return line('KEEPALIVE');
  return line(`TICKET ${hex(r, 64)}`);
}

export function plan(r: () => number): SessionPlan {
  const frames: Frame[] = [];
  if (r() < 0.08) {
    // A long, well-formed session: around the 64-line bound, then an answer.
    const lines = 58 + Math.floor(r() * 12);
    for (let n = 0; n < lines; ) {
      const f = validFrame(r);
      frames.push(f);
      if (!f.bytes.toString('latin1').startsWith('KEEPALIVE')) n++;
    }
    frames.push(line(`RESULT ${pick(r, RESULTS)}`));
    return { frames, expected: modelResult(frames) };
  }
  const burst = r() < 0.05 ? 900 + Math.floor(r() * 200) : 0; // near the keep-alive bound
  for (let i = 0; i < burst; i++) frames.push(line('KEEPALIVE'));
  const length = r() < 0.1 ? 60 + Math.floor(r() * 10) : Math.floor(r() * 40); // near the line bound, or short
  for (let i = 0; i < length; i++) {
    const f = frame(r);
    frames.push(f);
    if (!f.newline) return { frames, expected: modelResult(frames) }; // cut off: the daemon hangs up there
  }
  if (r() < 0.7) frames.push(line(`RESULT ${pick(r, RESULTS)}`));
  return { frames, expected: modelResult(frames) };
}

export interface FuzzReport {
  sessions: number;
  frames: number;
  mismatches: string[];
  sanitizer: string;
  counts: Record<string, number>;
}

/** Builds the ASan/UBSan bridge and driver into `dir` (once per run). */
export async function buildSanitized(dir: string): Promise<{ bridge: string; driver: string }> {
  const flags = ['-g', '-O1', '-fno-omit-frame-pointer', '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-std=c11', '-Wall', '-Wextra', '-Werror'];
  const bridge = join(dir, 'pam_oauth_ssh-asan.so');
  const driver = join(dir, 'pam-driver-asan');
  for (const [args, what] of [[[...flags, '-fPIC', '-shared', '-o', bridge, 'server-pam/pam_oauth_ssh.c', '-lpam'], 'bridge'], [[...flags, '-o', driver, 'scripts/pam-driver.c', '-lpam'], 'driver']] as const) {
    const built = await run('cc', [...args]);
    if (built.code !== 0) throw new Error(`cannot build the sanitized ${what}: ${built.stderr}`);
  }
  return { bridge, driver };
}

/**
 * Runs `sessions` sessions from `seed` against the sanitized bridge behind
 * PAM service `service` (which must load it with socket=`socketPath`).
 */
export async function fuzzBridge(options: { seed: number; minFrames: number; socketPath: string; service: string; driver: string }): Promise<FuzzReport> {
  const r = prng(options.seed);
  const plans: SessionPlan[] = [];
  for (let frames = 0; frames < options.minFrames; frames += plans.at(-1)!.frames.length) plans.push(plan(r));
  const sessions = plans.length;
  let next = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.resume(); // the bridge's request and answers: drained, not needed
    const p = plans[next++];
    if (!p) return void socket.destroy();
    // Random chunking: the bridge must find lines however the bytes arrive.
    const bytes = Buffer.concat(p.frames.map((f) => (f.newline ? Buffer.concat([f.bytes, Buffer.from('\n')]) : f.bytes)));
    let at = 0;
    while (at < bytes.length) {
      const n = r() < 0.5 ? bytes.length - at : 1 + Math.floor(r() * 64);
      socket.write(bytes.subarray(at, at + n));
      at += n;
    }
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(options.socketPath, resolve));
  try {
    const child = spawn(options.driver, [options.service, 'root', String(sessions), 'fuzz-answer'], {
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=0:exitcode=66', UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1:exitcode=67' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const results = stdout.trim().split('\n').filter(Boolean).map((l) => Number(l.split(' ')[0]));
    const mismatches: string[] = [];
    const counts: Record<string, number> = {};
    plans.forEach((p, i) => {
      counts[p.expected] = (counts[p.expected] ?? 0) + 1;
      const got = results[i];
      const want = PAM_CODES[p.expected];
      const ok = got !== undefined && (want !== undefined ? got === want : got !== 0);
      if (!ok && mismatches.length < 5) mismatches.push(`session ${i} (seed ${options.seed}): expected ${p.expected} (${want ?? 'not 0'}), got ${got}; frames: ${JSON.stringify(p.frames.map((f) => f.bytes.toString('latin1').slice(0, 80) + (f.newline ? '' : ' <cut>')))}`);
    });
    if (code !== 0 && mismatches.length === 0) mismatches.push(`the driver exited ${code}`);
    const sanitizer = /ERROR: AddressSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer/.test(stderr) ? stderr.slice(0, 4000) : '';
    return { sessions, frames: plans.reduce((n, p) => n + p.frames.length, 0), mismatches, sanitizer, counts };
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

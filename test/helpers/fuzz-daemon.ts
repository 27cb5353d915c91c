/**
 * A fuzzer for the daemon: a hostile "bridge" opens many sessions on the real
 * daemon's socket with random request lines (right and wrong users, other
 * verbs and versions, broken encodings, CHECKs with forged tickets) and
 * random answers (the right token, near misses, in-band commands, parts,
 * garbage, raw control bytes, silence, hang-ups). The oracle: RESULT
 * SUCCESS only for an AUTH of the right user whose answers carry the right
 * token, or a CHECK of a ticket the daemon issued for that user and service;
 * and every session ends.
 */
import { connect } from 'node:net';
import { encodeCommand } from '../../shared/in-band.js';
import { encodeValue } from '../../server-pam/protocol.js';
import { prng } from './fuzz-bridge.js';

export interface DaemonFuzzReport {
  sessions: number;
  successes: number;
  violations: string[];
  outcomes: Record<string, number>;
}

const pick = <T>(r: () => number, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;

/** A near miss of `token`: one character changed, dropped, added, or the token cut. */
function nearMiss(r: () => number, token: string): string {
  const at = Math.floor(r() * token.length);
  const x = r();
  if (x < 0.3) return token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
  if (x < 0.5) return token.slice(0, at) + token.slice(at + 1);
  if (x < 0.7) return token + pick(r, ['x', '.', '==']);
  return token.slice(0, at);
}

interface Session {
  request: string;
  /** Answers to the prompts, in order (decoded values); undefined = NOANSWER. */
  answers: Array<string | undefined>;
  /** Raw bytes to send instead of an answer line (hostile framing), by prompt index. */
  raw: Map<number, Buffer>;
  hangUpAfter: number;
  user: string;
  isCheck: boolean;
}

/** Drawn up front from the seed; a CHECK's real ticket is chosen by index once tickets exist. */
function session(r: () => number, user: string, token: string, tickets: string[]): Session {
  const other = pick(r, ['root', 'oauth-ssh', 'nobody', `${user}x`, user.toUpperCase(), `${user} `, '']);
  const who = r() < 0.6 ? user : other;
  const x = r();
  if (x < 0.08) {
    // acct_mgmt/setcred asking about a ticket: a real one, one for someone else, a forged one.
    const real = r() < 0.6 ? Math.floor(r() * 1e6) : -1;
    const forged = pick(r, ['0'.repeat(64), 'f'.repeat(64), 'nothex', '']);
    const service = pick(r, ['sshd', 'sshd', 'su']);
    const ticket = () => (real >= 0 && tickets.length ? tickets[real % tickets.length]! : forged);
    return { get request() { return `OAUTH-SSH/1 CHECK user=${encodeValue(who)} service=${service} ticket=${ticket()}\n`; }, answers: [], raw: new Map(), hangUpAfter: 99, user: who, isCheck: true, get ticket() { return ticket(); } } as Session;
  }
  const fields = `user=${encodeValue(who)} service=sshd rhost=127.0.0.1 tty=ssh`;
  const request =
    x < 0.8
      ? `OAUTH-SSH/1 AUTH ${fields}\n`
      : pick(r, [`OAUTH-SSH/2 AUTH ${fields}\n`, `OAUTH-SSH/1 HELLO ${fields}\n`, `OAUTH-SSH/1 AUTH service=sshd\n`, `OAUTH-SSH/1 AUTH user=%zz\n`, `OAUTH-SSH/1 AUTH ${fields} environment=preview\n`, `OAUTH-SSH/1 AUTH user=${user}\u0000root\n`, `OAUTH-SSH/1 AUTH ${fields} junk\n`, 'garbage\n']);
  const answers: Array<string | undefined> = [];
  const raw = new Map<number, Buffer>();
  for (let i = 0; i < 3; i++) {
    const y = r();
    if (y < 0.3) answers.push(token);
    else if (y < 0.45) answers.push(nearMiss(r, token));
    else if (y < 0.55) answers.push(encodeCommand('login', r() < 0.5 ? token : nearMiss(r, token)));
    else if (y < 0.6) answers.push(encodeCommand(pick(r, ['get_account_map', 'get_security_policy', 'make_coffee']), token));
    else if (y < 0.65) answers.push(`OAUTHSSH-PART 1/2 ${token.slice(0, 500)}`);
    else if (y < 0.7) answers.push(token.slice(500));
    else if (y < 0.75) answers.push(pick(r, ['', ' ', `${token} `, `\n${token}`]));
    else if (y < 0.8) answers.push(undefined);
    else if (y < 0.85) {
      answers.push(token);
      raw.set(i, Buffer.from(`ANSWER ${token}${pick(r, ['\u0000', '\u0001', '\r'])}\n`, 'latin1'));
    } else if (y < 0.9) {
      answers.push(token);
      raw.set(i, Buffer.from(pick(r, [`ANSWER ${token.slice(0, 10)}%zz\n`, `ANSWERX\n`, `ANSWER ${'A'.repeat(70_000)}\n`]), 'latin1'));
    } else answers.push('x'.repeat(Math.floor(r() * 20_000)));
  }
  return { request, answers, raw, hangUpAfter: r() < 0.1 ? Math.floor(r() * 3) : 99, user: who, isCheck: false };
}

/** Runs one session; returns the daemon's lines and the answers actually delivered (decoded). */
function runSession(socketPath: string, s: Session, limitMs: number): Promise<{ lines: string[]; delivered: Array<string | undefined>; ended: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    const lines: string[] = [];
    const delivered: Array<string | undefined> = [];
    let buffer = '';
    let prompts = 0;
    const finish = (ended: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ lines, delivered, ended });
    };
    // Liveness, not speed: a session the daemon never ends is a bug (the daemon's own limits are far below this).
    const timer = setTimeout(() => finish(false), limitMs);
    socket.on('error', () => {});
    socket.on('close', () => finish(true));
    socket.on('connect', () => socket.write(s.request));
    socket.on('data', (d: Buffer) => {
      buffer += d.toString('latin1');
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        if (!/^PROMPT_O(N|FF) /.test(line)) continue;
        const i = prompts++;
        if (i >= s.hangUpAfter || i >= s.answers.length) return finish(true);
        const raw = s.raw.get(i);
        const answer = s.answers[i];
        delivered.push(raw ? undefined : answer);
        socket.write(raw ?? (answer === undefined ? 'NOANSWER\n' : `ANSWER ${encodeValue(answer)}\n`));
      }
    });
  });
}

/**
 * The same credential: equal, or the same JWT whose signature is spelled
 * another way (base64url's last character has spare bits, and padding is
 * optional: a few spellings carry one signature, and whoever has one has them
 * all). Header and payload are signed as written, so they must be equal.
 */
function sameToken(candidate: string, token: string): boolean {
  if (candidate === token) return true;
  const [h1, p1, s1, ...rest1] = candidate.split('.');
  const [h2, p2, s2] = token.split('.');
  return rest1.length === 0 && s1 !== undefined && h1 === h2 && p1 === p2 && Buffer.from(s1, 'base64url').equals(Buffer.from(s2 ?? '', 'base64url'));
}

function inBandToken(answer: string): string {
  try {
    const doc = JSON.parse(Buffer.from(answer.trim(), 'base64').toString('utf8')) as { command?: { access_token?: unknown } };
    return typeof doc.command?.access_token === 'string' ? doc.command.access_token : '';
  } catch {
    return '';
  }
}

export async function fuzzDaemon(options: { seed: number; sessions: number; socketPath: string; user: string; token: string; concurrency?: number }): Promise<DaemonFuzzReport> {
  const r = prng(options.seed);
  const tickets: string[] = [];
  const issued = new Map<string, string>(); // ticket -> user
  const violations: string[] = [];
  const outcomes: Record<string, number> = {};
  let successes = 0;
  let started = 0;
  const plans = Array.from({ length: options.sessions }, () => session(r, options.user, options.token, tickets));
  const worker = async () => {
    while (started < options.sessions) {
      const index = started++;
      const s = plans[index]!;
      const request = s.request; // a CHECK's ticket is chosen now
      const { lines, delivered, ended } = await runSession(options.socketPath, { ...s, request }, 30_000);
      const result = lines.find((l) => l.startsWith('RESULT ')) ?? 'closed';
      outcomes[result] = (outcomes[result] ?? 0) + 1;
      if (!ended) violations.push(`session ${index} (seed ${options.seed}) never ended: ${request.trim().slice(0, 100)}`);
      if (result !== 'RESULT SUCCESS') continue;
      successes++;
      if (s.isCheck) {
        const ticket = /ticket=(\S*)/.exec(request)?.[1] ?? '';
        if (issued.get(ticket) !== s.user || !request.includes('service=sshd ')) violations.push(`session ${index}: CHECK confirmed a ticket not issued for ${s.user}: ${request.trim()}`);
        continue;
      }
      // What the answers carried: themselves, and the access_token of an in-band command (base64 JSON).
      const given = delivered.filter((a): a is string => a !== undefined).map((a) => a.trim());
      // What the answers could have carried: an answer, an in-band command's token, the parts joined.
      const candidates = [...given, ...given.map(inBandToken), given.map((a) => a.replace(/^OAUTHSSH-PART \d+\/\d+ /, '')).join('')];
      const carried = candidates.some((c) => sameToken(c, options.token));
      const rightUser = request === `OAUTH-SSH/1 AUTH user=${encodeValue(options.user)} service=sshd rhost=127.0.0.1 tty=ssh\n`;
      const ticket = lines.find((l) => l.startsWith('TICKET '))?.slice(7);
      if (!rightUser || !carried || !ticket) {
        violations.push(`session ${index} (seed ${options.seed}): SUCCESS for ${JSON.stringify(request.trim())} with answers ${JSON.stringify(delivered.map((a) => a?.slice(0, 60)))}${ticket ? '' : ' and no ticket'}`);
      } else {
        tickets.push(ticket);
        issued.set(ticket, options.user);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  return { sessions: options.sessions, successes, violations: violations.slice(0, 10), outcomes };
}

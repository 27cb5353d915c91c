/**
 * The daemon against a hostile "bridge": a raw client on its socket that
 * floods, sends raw control bytes, oversized answers and forged tickets.
 * Whatever it sends, nothing ends in SUCCESS but the right token for the
 * right user, and one peer cannot slow the others.
 */
import test from 'ava';
import { connect, type Socket } from 'node:net';
import { IDS, startTestIdp, tokenFor } from '../helpers/dev-idp.js';
import { pamtester } from '../helpers/pam.js';
import { startTestServer } from '../helpers/server.js';
import { createTestUser } from '../helpers/users.js';
import { TicketBook, TICKET_TTL_MS } from '../../server-pam/tickets.js';

/** A raw protocol client: send lines, read the daemon's lines until it closes. */
function rawBridge(socketPath: string) {
  const socket: Socket = connect(socketPath);
  let received = '';
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => {});
  return {
    socket,
    send: (data: string | Buffer) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.write(data, () => resolve()))),
    closed,
    lines: () => received.split('\n').filter(Boolean),
    waitFor: async (pattern: RegExp) => {
      for (let i = 0; i < 500 && !pattern.test(received) && !socket.destroyed; i++) await new Promise((r) => setTimeout(r, 10));
      return pattern.test(received);
    },
  };
}

const auth = (user: string) => `OAUTH-SSH/1 AUTH user=${user} service=sshd rhost=127.0.0.1 tty=ssh\n`;

test('a flood without newlines is dropped, bounded, while a legitimate login goes through', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n` });
  const flood = rawBridge(server.socketPath);
  await flood.send(auth(user.name));
  t.true(await flood.waitFor(/PROMPT_OFF/));
  // 4 MiB in 64 KiB chunks, never a newline: the daemon must hang up long before it has all of it.
  let sent = 0;
  const chunk = Buffer.alloc(65536, 0x41);
  while (sent < 4 * 1024 * 1024 && !flood.socket.destroyed) {
    await flood.send(chunk);
    sent += chunk.length;
  }
  await flood.closed;
  t.true(flood.socket.destroyed, 'the daemon dropped the flooding peer');
  t.false(flood.lines().some((l) => l.startsWith('RESULT SUCCESS')));
  const ok = await pamtester(server.service, user.name, ['authenticate'], `${await tokenFor(idp, 'alice@example.org')}\n`);
  t.is(ok.code, 0, 'another login is not held up');
});

test('a flood while no read is pending (during introspection) is dropped too, and never answered SUCCESS', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['introspection_cache_ttl 0'] });
  const token = await tokenFor(idp, 'alice@example.org');
  // Introspection that takes a while and then says yes: the daemon is busy, not reading.
  const now = Math.floor(Date.now() / 1000);
  const active = { active: true, scope: 'https://auth.globus.org/scopes/ssh.example.org/ssh', sub: IDS.alice, username: 'alice@example.org', exp: now + 600, iat: now, identities_set: [IDS.alice] };
  await idp.control('POST', 'faults', { path_prefix: '/v2/oauth2/token/introspect', status: 200, count: 1, delay_ms: 1200, body: JSON.stringify(active) });
  const flood = rawBridge(server.socketPath);
  await flood.send(auth(user.name));
  await flood.waitFor(/PROMPT_OFF/);
  await flood.send(`ANSWER ${token}\n`);
  const chunk = Buffer.alloc(65536, 0x41);
  for (let sent = 0; sent < 4 * 1024 * 1024 && !flood.socket.destroyed; sent += chunk.length) await flood.send(chunk);
  await flood.closed;
  t.false(flood.lines().some((l) => l.startsWith('RESULT SUCCESS')), 'a peer that floods gets no answer at all');
});

test('raw control bytes from the bridge, and answers over 16384 characters, never reach a provider', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n` });
  const token = await tokenFor(idp, 'alice@example.org');

  const raw = rawBridge(server.socketPath);
  await raw.send(auth(user.name));
  await raw.waitFor(/PROMPT_OFF/);
  await raw.send(`ANSWER ${token}\u0001\n`);
  await raw.closed;
  t.true(raw.lines().includes('RESULT AUTHINFO_UNAVAIL'), raw.lines().join(' | '));

  // pamtester cuts answers at 512 bytes: a raw bridge sends what a hostile client could make sshd pass.
  const long = rawBridge(server.socketPath);
  await long.send(auth(user.name));
  await long.waitFor(/PROMPT_OFF/);
  await long.send(`ANSWER ${'A'.repeat(60_000)}\n`);
  await long.closed;
  t.is(long.lines().at(-1), 'RESULT AUTH_ERR');
  t.true(long.lines().some((l) => /^ERROR .*the%20answer%20is%20longer%20than%2016384%20characters/.test(l)), long.lines().join(' | ').slice(0, 400));
  t.like(server.audit.at(-1), { decision: 'AUTH_ERR', reason: 'the answer is longer than 16384 characters, the most this host takes' });
});

test('CHECK: only a ticket the daemon issued, for that user and service, is confirmed', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const other = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n` });
  const login = rawBridge(server.socketPath);
  await login.send(auth(user.name));
  await login.waitFor(/PROMPT_OFF/);
  await login.send(`ANSWER ${await tokenFor(idp, 'alice@example.org')}\n`);
  await login.closed;
  const ticket = login.lines().find((l) => l.startsWith('TICKET '))?.slice(7);
  t.regex(ticket ?? '', /^[0-9a-f]{64}$/, login.lines().join(' | '));
  t.is(login.lines().at(-1), 'RESULT SUCCESS');
  t.true(login.lines().indexOf(`TICKET ${ticket}`) < login.lines().indexOf('RESULT SUCCESS'), 'the ticket comes before the result');

  const check = async (who: string, service: string, value: string) => {
    const c = rawBridge(server.socketPath);
    await c.send(`OAUTH-SSH/1 CHECK user=${who} service=${service} ticket=${value}\n`);
    await c.closed;
    return c.lines().at(-1);
  };
  t.is(await check(user.name, 'sshd', ticket!), 'RESULT SUCCESS');
  t.is(await check(user.name, 'sshd', ticket!), 'RESULT SUCCESS', 'acct_mgmt and setcred may both ask');
  t.is(await check(other.name, 'sshd', ticket!), 'RESULT IGNORE', 'another user');
  t.is(await check(user.name, 'su', ticket!), 'RESULT IGNORE', 'another service');
  t.is(await check(user.name, 'sshd', '0'.repeat(64)), 'RESULT IGNORE', 'a forged ticket');
  t.is(await check(user.name, 'sshd', 'nothex'), 'RESULT IGNORE');
  t.like(server.audit.at(-1), { event: 'check', user: user.name, decision: 'IGNORE' }, 'a ticket nobody issued is audited');
});

test('tickets expire and are bounded in number', (t) => {
  let now = 1_000_000;
  const book = new TicketBook(() => now);
  const ticket = book.issue('alice', 'sshd');
  t.true(book.confirm(ticket, 'alice', 'sshd'));
  now += TICKET_TTL_MS + 1;
  t.false(book.confirm(ticket, 'alice', 'sshd'), 'expired');
  const first = book.issue('bob', 'sshd');
  for (let i = 0; i < 10_000; i++) book.issue(`u${i}`, 'sshd');
  t.false(book.confirm(first, 'bob', 'sshd'), 'the oldest gave way');
});

/** Each management command over a context of its own: no sshd, no authorization server, no terminal. */
import test from 'ava';
import { parseClientConfig } from '../../client/config.js';
import { accounts, status } from '../../client/commands/host-info.js';
import type { CommandContext, LoginOptions } from '../../client/commands/context.js';
import { login } from '../../client/commands/login.js';
import { logout } from '../../client/commands/logout.js';
import { tokenList, tokenShow } from '../../client/commands/token.js';
import type { HostContext } from '../../client/host-context.js';
import type { HostPolicy } from '../../client/host-policy.js';
import type { HostRecord, TokenStore, UnrevokedNote } from '../../client/store/token-store.js';
import { LoginError } from '../../client/auth-server.js';

const NOW = 1_800_000_000;
const config = parseClientConfig({ auth_url: 'https://auth.example.org', client_id: 'c', backend: 'file' }, '/home/a/.config/oauth-ssh/config.yaml');
const ACCESS = 'AgAccessToken0123456789abcdefghijklmnopqrstuvwxyz';
const REFRESH = 'AgRefreshToken0123456789abcdefghijklmnopqrstuvwxyz';

const record = (over: Partial<HostRecord> = {}): HostRecord => ({
  key: 'login.example.org@auth.example.org',
  fqdn: 'login.example.org',
  authUrl: 'https://auth.example.org',
  clientId: 'c',
  resourceServer: 'rs',
  scope: 'https://auth.globus.org/scopes/login.example.org/ssh',
  identity: 'alice@example.org',
  idp: 'Example University',
  idpId: null,
  authTime: NOW - 7200,
  mfa: false,
  expiresAt: NOW + 3600,
  hasRefresh: true,
  backend: 'file',
  updatedAt: NOW - 60,
  ...over,
});

/** A store in memory, with what each call did. */
function memoryStore(records: HostRecord[], notes: UnrevokedNote[] = []) {
  const calls: string[] = [];
  const store = {
    list: () => records,
    record: (key: string) => records.find((r) => r.key === key) ?? null,
    secrets: async () => ({ accessToken: ACCESS, refreshToken: REFRESH }),
    remove: async (r: HostRecord) => void calls.push(`remove ${r.fqdn}`),
    unrevoked: () => notes,
    noteUnrevoked: async (r: HostRecord, reason: string) => void calls.push(`note ${r.fqdn}: ${reason}`),
    dropUnrevoked: async () => notes.length > 0,
  };
  return { store: store as unknown as TokenStore, calls };
}

function context(options: Partial<CommandContext> & { records?: HostRecord[]; notes?: UnrevokedNote[]; hostPolicy?: HostPolicy | null; tty?: boolean } = {}) {
  const { records, notes, hostPolicy, tty, ...over } = options;
  const out: string[] = [];
  const err: string[] = [];
  const { store, calls } = memoryStore(records ?? [record()], notes ?? []);
  const host = { config, store, names: ['login'], key: 'login.example.org@auth.example.org', args: { options: [], destination: 'login', command: [] }, resolved: {}, queryAccount: 'oauth-ssh' } as unknown as HostContext;
  const ctx: CommandContext = {
    io: { out: (l) => void out.push(l), err: (l) => void err.push(l), stdoutIsTerminal: tty ?? false },
    now: () => NOW,
    config: async () => config,
    store: () => store,
    listingStore: () => store,
    host: async () => host,
    server: () => ({ revoke: async () => {}, close: async () => {} }),
    withToken: async (_h, use) => use(ACCESS, record()),
    login: async () => record(),
    policy: async () => hostPolicy ?? null,
    query: async () => ({}),
    ...over,
  };
  return { ctx, out, err, calls };
}

test('token list: a table without secrets, JSON in snake_case, unrevoked logouts on stderr', async (t) => {
  const note = { key: 'k', fqdn: 'old.example.org', authUrl: 'https://auth.example.org', loggedOutAt: NOW - 86400, reason: 'client authentication required' };
  const { ctx, out, err } = context({ records: [record({ identity: 'alice\u001b[31m@example.org' })], notes: [note] });
  await tokenList(ctx, { json: false });
  t.regex(out[0]!, /^HOST +IDENTITY +IDP +EXPIRES IN +AUTH AGE +REFRESH +STORE$/);
  t.regex(out[1]!, /^login\.example\.org +alice.*@example\.org +Example University +60 min +2 h +yes +file$/);
  t.false(out.join('\n').includes('\u001b'), 'claims are sanitized');
  t.false(out.join('\n').includes(ACCESS));
  t.regex(err.join('\n'), /not revoked at the provider[\s\S]*old\.example\.org at https:\/\/auth\.example\.org, \d{4}-\d\d-\d\d: client authentication required/);
  const json = context();
  await tokenList(json.ctx, { json: true });
  t.like(JSON.parse(json.out.join('\n'))[0], { host: 'login.example.org', expires_in: 3600, auth_age: 7200, refresh: true, backend: 'file' });
  const empty = context({ records: [] });
  await tokenList(empty.ctx, { json: false });
  t.deepEqual(empty.out, ['No tokens. Log in with `oauth-ssh login HOST`.']);
});

test('token show: the token on stdout; a warning first only when a person sees it', async (t) => {
  const piped = context();
  await tokenShow(piped.ctx, { host: 'login' });
  t.deepEqual(piped.out, [ACCESS]);
  t.deepEqual(piped.err, []);
  const seen = context({ tty: true });
  await tokenShow(seen.ctx, { host: 'login' });
  t.regex(seen.err[0]!, /this is a secret/);
  t.false(seen.err.join('').includes(ACCESS));
});

test('logout: revoked and forgotten; a refusal that echoes our token is printed and kept without it', async (t) => {
  const ok = context();
  await logout(ok.ctx, { host: 'login', all: false });
  t.deepEqual(ok.calls, ['remove login.example.org']);
  t.regex(ok.err.at(-1)!, /Logged out of login\.example\.org/);

  const refused = context({ server: () => ({ revoke: async (token: string) => Promise.reject(new LoginError(`refused the revocation of ${token}: client authentication required`)), close: async () => {} }) });
  await logout(refused.ctx, { host: 'login', all: false });
  t.true(refused.calls.includes('remove login.example.org'), 'removed here anyway');
  const note = refused.calls.find((c) => c.startsWith('note'))!;
  t.regex(note, /refused the revocation of \[token\]: client authentication required/);
  t.false([...refused.err, ...refused.calls].join('\n').includes(REFRESH), 'the refresh token is cut out everywhere');
  t.regex(refused.err.join('\n'), /the refresh token may still be valid at https:\/\/auth\.example\.org/);

  const nothing = context({ records: [] });
  await logout(nothing.ctx, { host: 'login', all: false });
  t.deepEqual(nothing.err, ['Not logged in for login.']);
  await t.throwsAsync(logout(ok.ctx, { host: 'login', all: true }), { message: /name a host or give --all/ });
});

test('status: the login beside the policy, with the command that fixes a refusal; JSON in snake_case', async (t) => {
  const policy = { permittedIdps: ['example.org'], authenticationTimeout: 60, mfa: false };
  const { ctx, out } = context({ hostPolicy: policy });
  await status(ctx, { host: 'login', json: false });
  t.deepEqual(out, [
    'token:   valid for 60 min, refreshable (file)',
    'login:   alice@example.org at Example University, 2 h ago',
    'policy:  IdPs example.org; login within 60 min',
    'verdict: the host requires a login within the last 60 min: run `oauth-ssh login login --force-login`',
  ]);
  const unknown = context({ hostPolicy: null, records: [] });
  await status(unknown.ctx, { host: 'login', json: false });
  t.deepEqual(unknown.out, ['token:   none; run `oauth-ssh login login`', 'policy:  unknown (the host did not answer)']);
  const json = context({ hostPolicy: policy });
  await status(json.ctx, { host: 'login', json: true });
  t.like(JSON.parse(json.out.join('\n')), { host: 'login', meets_policy: false, policy: { permitted_idps: ['example.org'], authentication_timeout: 60 }, token: { auth_age: 7200, expires_in: 3600 } });
});

test('accounts: the host\'s answer, sanitized; none is said as such', async (t) => {
  const { ctx, out } = context({ query: async (_h, op, token) => (op === 'get_account_map' && token === ACCESS ? { account_map: { permitted_accounts: ['alice', 'evil\u001b]0;x\u0007', 42] } } : {}) });
  await accounts(ctx, { host: 'login', json: false });
  t.is(out[0], 'alice');
  t.false(out.join('').includes('\u001b'));
  t.is(out.length, 2, 'non-strings dropped');
  const none = context({ query: async () => ({ account_map: { permitted_accounts: [] } }) });
  await accounts(none.ctx, { host: 'login', json: false });
  t.deepEqual(none.out, ['Your identity maps to no account on login.example.org; ask its administrator.']);
});

test('login: the flags choose the flow, and the result says who and where the token is kept', async (t) => {
  const asked: LoginOptions[] = [];
  const { ctx, err } = context({ login: async (_h, options) => (asked.push(options), record({ identity: 'alice@lab.example.net', idp: 'Example Lab' })) });
  await login(ctx, { host: 'login', device: true, forceLogin: true, idp: 'lab.example.net' });
  await login(ctx, { host: 'login', browser: false });
  await login(ctx, { host: 'login' });
  t.deepEqual(asked, [
    { mode: 'device', forceLogin: true, idp: 'lab.example.net' },
    { mode: 'no-browser', forceLogin: false },
    { mode: 'auto', forceLogin: false },
  ]);
  t.is(err[0], 'Logged in for login.example.org as alice@lab.example.net (Example Lab); token valid for 60 min, kept in the file.');
});

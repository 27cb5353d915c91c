import test from 'ava';
import { isTokenPrompt } from '../../client/askpass.js';
import { parseClientConfig, settingsForHost } from '../../client/config.js';
import { loginMeetsPolicy, parsePolicy } from '../../client/host-policy.js';
import { parseSshArgs, typedHost } from '../../client/ssh-args.js';
import { loginArgs, optionsForG, parseSshG, promptOptions } from '../../client/ssh-resolve.js';
import { editSshConfig } from '../../client/ssh-config-setup.js';
import type { HostRecord } from '../../client/store/token-store.js';
import { pickToken } from '../../client/auth-server.js';
import { ConfigError } from '../../shared/errors.js';

test('ssh arguments: clustered flags, options with arguments, options after the destination, --', (t) => {
  t.deepEqual(parseSshArgs(['-4vp', '2222', '-oUser=x', 'host', 'ls', '-l']), { options: ['-4vp', '2222', '-oUser=x'], destination: 'host', command: ['ls', '-l'] });
  t.deepEqual(parseSshArgs(['host', '-p', '22', 'uptime']), { options: ['-p', '22'], destination: 'host', command: ['uptime'] });
  t.deepEqual(parseSshArgs(['-l', 'bob', '--', 'host', '-x']), { options: ['-l', 'bob'], destination: 'host', command: ['-x'] });
  // As scp calls it.
  const scp = parseSshArgs(['-x', '-oPermitLocalCommand=no', '-oClearAllForwardings=yes', '-oRemoteCommand=none', '-oRequestTTY=no', '-oForwardAgent=no', '-l', 'u', '-s', '--', 'h', 'sftp']);
  t.is(scp.destination, 'h');
  t.deepEqual(scp.command, ['sftp']);
  t.throws(() => parseSshArgs(['-p']), { message: /option -p needs an argument/ });
  t.throws(() => parseSshArgs(['-v']), { message: /no destination/ });
});

test('ssh -G: options that do not bear on the destination are left out', (t) => {
  t.deepEqual(optionsForG(['-s', '-vfN', '-O', 'check', '-E', 'log', '-F', 'cfg', '-p', '22']), ['-vN', '-F', 'cfg', '-p', '22']);
  const g = parseSshG('user alice\nhostname Login.Example.org\nport 2222\nproxyjump bastion\nbatchmode yes\nkbdinteractiveauthentication no\n');
  t.like(g, { user: 'alice', hostname: 'login.example.org', port: 2222, proxyJump: 'bastion', batchMode: true, kbdInteractive: false });
  t.deepEqual(promptOptions(g), ['-oBatchMode=no', '-oKbdInteractiveAuthentication=yes']);
  t.is(typedHost('alice@host.example'), 'host.example');
  t.is(typedHost('ssh://alice@[::1]:2222'), '::1');
});

test('login advice names what was typed, with the options that say where it goes', (t) => {
  t.is(loginArgs(parseSshArgs(['alice@myhost', 'id'])), 'myhost');
  t.is(loginArgs(parseSshArgs(['-v', '-F', 'my cfg', '-p2222', '-i', 'key', '-o', 'User=bob', 'myhost'])), "-- -F 'my cfg' -p2222 -o User=bob myhost");
  t.is(loginArgs(parseSshArgs(['-tt', '-J', 'jump', 'ssh://alice@myhost:22'])), '-- -J jump myhost');
});

test('the standalone askpass reads the host from ssh\'s own prefix, never from the server\'s text', async (t) => {
  const { tokenPromptHost } = await import('../../client/commands/ssh-hooks.js');
  t.is(tokenPromptHost('(alice@login.example.org) Enter your OAuth token: '), 'login.example.org');
  t.is(tokenPromptHost('(alice@evil.example.net) x@victim.example.org) Enter your OAuth token:'), null, 'a forged second prefix is not a token prompt');
  t.is(tokenPromptHost('(alice@evil.example.net) (x@victim.example.org) Enter your OAuth token:'), null);
  t.is(tokenPromptHost('(alice@evil.example.net) Password: '), null);
});

test('only this connection\'s token prompt is answered', (t) => {
  const expect = { user: 'alice', hosts: ['login.example.org'], acceptUnprefixed: false };
  t.true(isTokenPrompt('(alice@login.example.org) Enter your OAuth token: ', expect));
  t.true(isTokenPrompt('(alice@login.example.org) Enter your OAuth token:', expect), 'without the trailing space');
  t.false(isTokenPrompt('(alice@bastion.example.org) Enter your OAuth token: ', expect), 'a jump host');
  t.false(isTokenPrompt('(bob@login.example.org) Enter your OAuth token: ', expect), 'another user');
  t.false(isTokenPrompt('(alice@login.example.org) Password: ', expect));
  t.false(isTokenPrompt('Enter your OAuth token: ', expect), 'unprefixed only without jump hosts');
  t.true(isTokenPrompt('Enter your OAuth token: ', { ...expect, acceptUnprefixed: true }));
  t.false(isTokenPrompt('(alice@login.example.org) Enter your OAuth token: (alice@evil) Enter your OAuth token: ', expect));
});

test('client config: host rules, defaults, clear errors', (t) => {
  const config = parseClientConfig({ client_id: 'cli', hosts: [{ match: '*.example.org', fqdn: 'ssh.example.org' }, { match: 'dev*', auth_url: 'http://127.0.0.1:8700', client_id: 'dev-cli' }] }, 'c.yaml');
  t.deepEqual(settingsForHost(config, ['node7.example.org']), { fqdn: 'ssh.example.org', authUrl: 'https://auth.globus.org', clientId: 'cli', queryAccount: 'oauth-ssh', serviceClientId: null, oidc: null });
  t.deepEqual(settingsForHost(config, ['devbox']), { fqdn: 'devbox', authUrl: 'http://127.0.0.1:8700', clientId: 'dev-cli', queryAccount: 'oauth-ssh', serviceClientId: null, oidc: null });
  const pinned = parseClientConfig({ client_id: 'cli', hosts: [{ match: 'h', service_client_id: 'svc' }] }, 'c.yaml');
  t.is(settingsForHost(pinned, ['h']).serviceClientId, 'svc');
  const oidc = parseClientConfig({ client_id: 'cli', hosts: [{ match: 'kc*', issuer: 'https://kc.example.org/realms/x', scope: 'ssh:/me', resource: 'https://kc1' }] }, 'c.yaml');
  t.like(settingsForHost(oidc, ['kc1']), { authUrl: 'https://kc.example.org/realms/x', oidc: { scope: 'ssh:/me', resource: 'https://kc1' } });
  // An issuer is compared exactly with its discovery document's (Auth0's end in /): kept as written.
  const slash = parseClientConfig({ client_id: 'cli', hosts: [{ match: 'a*', issuer: 'https://tenant.auth0.example/', scope: 'ssh' }] }, 'c.yaml');
  t.is(settingsForHost(slash, ['a1']).authUrl, 'https://tenant.auth0.example/');
  t.throws(() => parseClientConfig({ hosts: [{ match: 'x', issuer: 'https://i.example.org' }] }, 'c.yaml'), { message: /give "scope"/ });
  t.throws(() => parseClientConfig({ hosts: [{ match: 'x', scope: 's' }] }, 'c.yaml'), { message: /go with "issuer"/ });
  t.throws(() => settingsForHost(parseClientConfig({}, null), ['h']), { message: /no client_id for h: set "client_id"/ });
  for (const [doc, msg] of [[{ colour: 1 }, /unknown key "colour"/], [{ auth_url: 'http://auth.example.org' }, /must use https/], [{ backend: 'floppy' }, /backend must be auto, keychain, kernel-keyring or file/], [{ hosts: [{ fqdn: 'x' }] }, /hosts\[0\] needs "match"/]] as const) {
    t.throws(() => parseClientConfig(doc, 'c.yaml'), { instanceOf: ConfigError, message: msg });
  }
});

test('policy verdicts against the cached login', (t) => {
  const now = 1_800_000_000;
  const record = { identity: 'alice@example.org', idp: 'Example University', idpId: 'f0', authTime: now - 3600, mfa: false } as HostRecord;
  const policy = (p: Record<string, unknown>) => parsePolicy({ policy: p });
  t.true(loginMeetsPolicy(record, policy({ permitted_idps: null, authentication_timeout: null }), now).ok);
  t.deepEqual(loginMeetsPolicy(record, policy({ authentication_timeout: 30 }), now), { ok: false, reason: 'the host requires a login within the last 30 min' });
  t.deepEqual(loginMeetsPolicy(record, policy({ permitted_idps: ['lab.example.net'] }), now), { ok: false, reason: 'the host accepts logins only from lab.example.net', idp: 'lab.example.net' });
  t.true(loginMeetsPolicy(record, policy({ permitted_idps: ['Example.org'] }), now).ok, 'by the identity\'s domain');
  t.true(loginMeetsPolicy(record, policy({ permitted_idps: ['f0'] }), now).ok, 'by IdP id');
  t.false(loginMeetsPolicy(record, policy({ mfa: true }), now).ok);
  t.true(loginMeetsPolicy({ ...record, mfa: null }, policy({ mfa: true }), now).ok, 'unknown facts: the server decides');
});

test('Globus token responses: the token for the SSH scope, wherever it is', (t) => {
  const scope = 'https://auth.globus.org/scopes/h.example.org/ssh';
  const set = pickToken({ access_token: 'A', scope: 'openid profile', id_token: 'I', other_tokens: [{ access_token: 'S', scope, refresh_token: 'R', expires_in: 60 }] }, scope);
  t.like(set, { accessToken: 'S', refreshToken: 'R', idToken: 'I' });
  t.throws(() => pickToken({ access_token: 'A', scope: 'openid' }, scope), { message: /no token with the scope/ });
});

test('ssh_config edits keep the rest of the file and are undone exactly', (t) => {
  const original = '# mine\nHost a\n  HostName b\n\nHost *\n  ServerAliveInterval 30\n';
  const added = editSshConfig(original, '*.example.org', '/h/helper', false);
  t.true(added.startsWith(original.trimEnd()));
  t.regex(added, /Match host "\*\.example\.org" exec "'\/h\/helper' ensure %h"\n {2}KbdInteractiveAuthentication yes/);
  t.is(editSshConfig(added, '*.example.org', '/h/helper', false), added, 'idempotent');
  t.is(editSshConfig(added, '*.example.org', '/h/helper', true).trimEnd(), original.trimEnd());
  t.is(editSshConfig(original, 'other', '/h/helper', true), original);
  t.throws(() => editSshConfig(original, 'x" exec "evil', '/h', false), { message: /not a host pattern/ });
});

test('one URL rule for tokens and secrets: https, or http on this machine only', async (t) => {
  const { secureOrLoopback } = await import('../../shared/url-policy.js');
  for (const ok of ['https://auth.globus.org', 'http://127.0.0.1:8700', 'http://localhost/x', 'http://[::1]:1']) t.true(secureOrLoopback(ok), ok);
  for (const bad of ['http://auth.example.org', 'ftp://127.0.0.1', 'not a url', 'http://127.0.0.2']) t.false(secureOrLoopback(bad), bad);
});

test('a typo of a command is caught with a suggestion; host names, login1 included, keep working', async (t) => {
  const { nearSubcommand } = await import('../../client/subcommands.js');
  t.truthy(nearSubcommand, 'bin exports nearSubcommand');
  t.is(nearSubcommand('tokens'), 'token');
  t.is(nearSubcommand('stauts'), 'status');
  t.is(nearSubcommand('logni'), 'login');
  for (const host of ['login1', 'login-2', 'cluster', 'ssh.example.org', 'alice@tokens', 'localhost', 'gateway', 'setup.hpc']) t.is(nearSubcommand(host), undefined, host);
});

test('the identity shown for a login falls back through preferred_username, email, name and sub (Glewlwyd sends sub and name)', async (t) => {
  const { loginFacts } = await import('../../client/id-token.js');
  const jwt = (claims: Record<string, unknown>) => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
  t.is(loginFacts(jwt({ sub: 's1', name: 'Carol Example' })).identity, 'Carol Example');
  t.is(loginFacts(jwt({ sub: 's1', email: 'carol@example.org', name: 'Carol' })).identity, 'carol@example.org');
  t.is(loginFacts(jwt({ sub: 's1' })).identity, 's1');
  t.is(loginFacts(jwt({ sub: 's1', preferred_username: 'carol' })).identity, 'carol');
});

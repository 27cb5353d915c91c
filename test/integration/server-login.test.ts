/**
 * oauth-ssh-server deciding real logins: the real bridge under real
 * Linux-PAM (pamtester), the daemon, and the dev IdP issuing and
 * introspecting real tokens.
 */
import test from 'ava';
import { parseDevIdpConfig } from '../../shared/dev-idp/config.js';
import { IDS, startTestIdp, testIdpDocument, tokenFor } from '../helpers/dev-idp.js';
import { PAM_TEXT, pamtester } from '../helpers/pam.js';
import { startTestServer } from '../helpers/server.js';
import { createTestUser } from '../helpers/users.js';

test('a valid token for a mapped account logs in; the audit event names the identity, never the token', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `# comment\n alice@example.org ${user.name}\n` });
  const token = await tokenFor(idp, 'alice@lab.example.net', { mfa: true });
  const result = await pamtester(server.service, user.name, ['authenticate', 'acct_mgmt'], `${token}\n`);
  t.is(result.code, 0, result.stderr + result.output);
  t.true(result.stderr.includes('Enter your OAuth token: '));
  t.is(server.audit.length, 1);
  const event = server.audit[0]!;
  t.like(event, { event: 'login', user: user.name, identity: 'alice@example.org', idp: 'Example Lab', decision: 'SUCCESS', service: server.service });
  t.regex(event.token!, /^[0-9a-f]{12}$/);
  t.false(JSON.stringify(server.audit).includes(token));
});

test('idp_suffix maps name@suffix to name, splitting at the first @', async (t) => {
  const user = await createTestUser(t);
  const doc = testIdpDocument();
  (doc.identity_providers as unknown[]).push({ id: '5d5bdb54-44c4-4a2f-8ec9-46effb990001', name: 'Google', domains: ['accounts.google.com'] });
  (doc.users as unknown[]).push({ identities: [{ id: '5d5bdb54-44c4-4a2f-8ec9-46effb990002', username: `${user.name}@abc.com@accounts.google.com`, idp: 'accounts.google.com' }] });
  const idp = await startTestIdp(t, parseDevIdpConfig(doc));
  const server = await startTestServer(t, { authUrl: idp.url, lines: ['idp_suffix abc.com@accounts.google.com'] });
  const token = await tokenFor(idp, `${user.name}@abc.com@accounts.google.com`);
  t.is((await pamtester(server.service, user.name, ['authenticate'], `${token}\n`)).code, 0);
});

test('bad tokens are refused with advice; no account names leak to them', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n` });
  const garbage = await pamtester(server.service, user.name, ['authenticate'], 'not-a-real-token\n');
  t.true(garbage.stderr.includes(PAM_TEXT.AUTH_ERR));
  t.regex(garbage.output, /the token is not active .*run `oauth-ssh login ssh\.example\.org`/);
  t.false(garbage.messages.includes(user.name));

  const otherHost = await tokenFor(idp, 'alice@example.org', { scope: 'https://auth.globus.org/scopes/other.example.org/ssh' });
  const wrongHost = await pamtester(server.service, user.name, ['authenticate'], `${otherHost}\n`);
  t.true(wrongHost.stderr.includes(PAM_TEXT.AUTH_ERR), 'a token for another SSH service is inactive for us');

  const expiring = await tokenFor(idp, 'alice@example.org');
  await idp.control('POST', 'tokens/expire', { identity: 'alice@example.org' });
  const expired = await pamtester(server.service, user.name, ['authenticate'], `${expiring}\n`);
  t.true(expired.stderr.includes(PAM_TEXT.AUTH_ERR));

  const empty = await pamtester(server.service, user.name, ['authenticate'], '\n');
  t.true(empty.stderr.includes(PAM_TEXT.AUTH_ERR));
  t.regex(empty.output, /no token given/);
  t.deepEqual(server.audit.map((e) => e.decision), ['AUTH_ERR', 'AUTH_ERR', 'AUTH_ERR', 'AUTH_ERR']);
});

test('the scope must name this host: an active token without it is refused', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n` });
  const token = await tokenFor(idp, 'alice@example.org');
  // A real Globus never calls a token active for a resource server it is not for; make it do so.
  const now = Math.floor(Date.now() / 1000);
  await idp.control('POST', 'faults', { path_prefix: '/v2/oauth2/token/introspect', status: 200, count: 1, body: JSON.stringify({ active: true, scope: 'https://auth.globus.org/scopes/elsewhere.example.org/ssh', sub: IDS.alice, username: 'alice@example.org', exp: now + 600, iat: now, identities_set: [IDS.alice] }) });
  const result = await pamtester(server.service, user.name, ['authenticate'], `${token}\n`);
  t.true(result.stderr.includes(PAM_TEXT.AUTH_ERR));
  t.regex(result.output, /not for this host: it needs the scope https:\/\/auth\.globus\.org\/scopes\/ssh\.example\.org\/ssh/);
});

test('accounts: unmapped user is USER_UNKNOWN naming the permitted ones; system accounts and root need allow_accounts', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const other = await createTestUser(t);
  const system = await createTestUser(t, { system: true });
  const map = `alice@example.org ${user.name}, ${system.name}, root, nosuchuser\n${IDS.aliceLab} ${user.name}\n`;
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: map });
  const token = await tokenFor(idp, 'alice@example.org');

  const wrongUser = await pamtester(server.service, other.name, ['authenticate'], `${token}\n`);
  t.true(wrongUser.stderr.includes(PAM_TEXT.USER_UNKNOWN));
  t.true(wrongUser.output.includes(`alice@example.org may not log in as ${other.name} on this host (no such account for your identity, or not permitted); permitted: ${user.name}`), wrongUser.output);
  for (const refused of [system.name, 'root']) {
    t.true((await pamtester(server.service, refused, ['authenticate'], `${token}\n`)).stderr.includes(PAM_TEXT.USER_UNKNOWN), refused);
  }

  const allowing = await startTestServer(t, { authUrl: idp.url, mapFile: map, lines: [`allow_accounts ${system.name}`] });
  t.is((await pamtester(allowing.service, system.name, ['authenticate'], `${token}\n`)).code, 0);
  t.true((await pamtester(allowing.service, 'root', ['authenticate'], `${token}\n`)).stderr.includes(PAM_TEXT.USER_UNKNOWN), 'root still needs its own entry');
});

test('session policy: authentication_timeout, permitted_idps by domain and UUID, mfa', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const map = `alice@example.org ${user.name}\n`;
  const login = async (lines: string[], identity: string, opts: { mfa?: boolean; authAge?: number } = {}) => {
    const server = await startTestServer(t, { authUrl: idp.url, mapFile: map, lines });
    return pamtester(server.service, user.name, ['authenticate'], `${await tokenFor(idp, identity, opts)}\n`);
  };
  const old = await login(['authentication_timeout 60'], 'alice@example.org', { authAge: 7200 });
  t.true(old.stderr.includes(PAM_TEXT.AUTH_ERR));
  t.true(old.output.includes('your last login at Example University was 2 h ago; this host requires one within 60 min: run `oauth-ssh login ssh.example.org --force-login`'), old.output);
  t.is((await login(['authentication_timeout 60'], 'alice@example.org', { authAge: 1800 })).code, 0);

  const wrongIdp = await login(['permitted_idps lab.example.net'], 'alice@example.org');
  t.regex(wrongIdp.output, /accepts logins only from lab\.example\.net; your session is from Example University/);
  t.is((await login(['permitted_idps lab.example.net'], 'alice@lab.example.net')).code, 0);
  t.is((await login([`permitted_idps ${IDS.idpLab}`], 'alice@lab.example.net')).code, 0);

  const noMfa = await login(['mfa true'], 'alice@example.org');
  t.regex(noMfa.output, /requires multi-factor authentication/);
  t.is((await login(['mfa true', 'authentication_timeout 60', 'permitted_idps example.org'], 'alice@example.org', { mfa: true })).code, 0);
});

test('only the token\'s linked identities map, and only their logins count for the policy', async (t) => {
  const idp = await startTestIdp(t);
  const alice = await createTestUser(t);
  const bob = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${alice.name}\nbob@example.org ${bob.name}\n`, lines: ['mfa true'] });
  const token = await tokenFor(idp, 'alice@example.org');
  // A session that also names bob's MFA login, while the token's account links alice only: a real Globus should not say so.
  const now = Math.floor(Date.now() / 1000);
  const body = { active: true, scope: 'https://auth.globus.org/scopes/ssh.example.org/ssh', sub: IDS.alice, username: 'alice@example.org', exp: now + 600, iat: now, identities_set: [IDS.alice], session_info: { authentications: { [IDS.alice]: { idp: IDS.idpUniversity, auth_time: now, amr: ['pwd'] }, [IDS.bob]: { idp: IDS.idpUniversity, auth_time: now, amr: ['pwd', 'mfa'] } } } };
  const fault = () => idp.control('POST', 'faults', { path_prefix: '/v2/oauth2/token/introspect', status: 200, count: 1, body: JSON.stringify(body) });
  await fault();
  const asAlice = await pamtester(server.service, alice.name, ['authenticate'], `${token}\n`);
  t.true(asAlice.stderr.includes(PAM_TEXT.AUTH_ERR), 'bob\'s MFA does not satisfy the policy for alice');
  t.regex(asAlice.messages, /requires multi-factor authentication/);
  await fault();
  const asBob = await pamtester(server.service, bob.name, ['authenticate'], `${token}\n`);
  t.false(asBob.code === 0, 'bob is not linked to the token: no login as bob');
});

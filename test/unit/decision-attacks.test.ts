/**
 * What an independent "try to break it" pass found in the one decision path,
 * each as a regression test: the real config parser, router, claims-to-
 * principal code, policy and mapper, with only the signature check skipped
 * (the JWT tests in test/integration verify signatures for real).
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { parseServerConfig } from '../../server-pam/config.js';
import { decideLogin, type DecisionContext } from '../../server-pam/decide.js';
import type { LocalAccount } from '../../server-pam/passwd.js';
import { buildProviders } from '../../server-pam/providers.js';
import { OidcIssuer } from '../../shared/providers/oidc-issuer.js';

const A = 'https://a.example.org';
const B = 'https://b.example.org';
const ID = '864f1f73-da90-4bcd-9a1c-30d9feb10907';
const ACCOUNTS: Record<string, LocalAccount> = Object.fromEntries(
  [['alice', 2001], ['bob', 2002], ['kate', 2003], ['x', 2011]].map(([n, u]) => [n, { name: n as string, uid: u as number, gid: u as number, home: '/', shell: '/bin/sh' }]),
);
const dir = mkdtempSync(join(tmpdir(), 'oauth-ssh-attacks-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o644 });
  return path;
};
const now = Math.floor(Date.now() / 1000);
const jwt = (claims: Record<string, unknown>) => `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ aud: 'ssh', exp: now + 600, ...claims })).toString('base64url')}.c2ln`;

function context(text: string): DecisionContext {
  const config = parseServerConfig(text, 'attack.conf', () => {});
  const providers = buildProviders(config).providers.map((p) => {
    if (p.kind === 'globus') return p;
    const issuer = p.verifier as OidcIssuer;
    return { ...p, verifier: { verify: async (token: string) => issuer.principal(decodeJwt(token) as Record<string, unknown> & { sub: string }, token) } };
  });
  return { providers, policy: config.policy, rules: { accountMap: config.accountMap, minUid: config.minUid, allowAccounts: config.allowAccounts, queryAccount: config.queryAccount }, lookup: async (n) => ACCOUNTS[n] ?? null, hostName: () => null };
}
const login = async (ctx: DecisionContext, claims: Record<string, unknown>, user: string) => decideLogin(ctx, jwt(claims), user);
const refuses = (config: string) => () => parseServerConfig(config, 'attack.conf', () => {});

test('map files: another provider\'s user cannot borrow a key; preferred_username is no implicit key; sub matches exactly', async (t) => {
  const map = file('shared.map', `alice@uchicago.edu alice\nkate kate\ns-bob@${A} bob\n`);
  const withGlobus = context(`auth_method globus_auth oidc\nclient_id ${ID}\nclient_secret x\nmap_file ${map}\noidc_issuers ${A}\noidc_audience ssh\njwt_username_claim preferred_username\n`);
  t.is((await login(withGlobus, { iss: A, sub: 'm1', preferred_username: 'alice@uchicago.edu' }, 'alice')).result, 'USER_UNKNOWN', 'a Globus username in an OIDC claim names nobody');
  t.is((await login(withGlobus, { iss: A, sub: 's-bob', preferred_username: 'whoever' }, 'bob')).result, 'SUCCESS', 'sub@issuer keys work beside Globus');

  const alone = context(`auth_method oidc\noidc_issuers ${A}\noidc_audience ssh\njwt_username_claim email\nmap_file ${map}\n`);
  t.is((await login(alone, { iss: A, sub: 'm2', preferred_username: 'kate', email: 'm2@a.example.org', email_verified: true }, 'kate')).result, 'USER_UNKNOWN', 'preferred_username is no key when it is not the username claim');
  t.is((await login(alone, { iss: A, sub: 'KATE', email_verified: false }, 'kate')).result, 'USER_UNKNOWN', 'sub is case-sensitive');
  t.is((await login(alone, { iss: A, sub: 'kate', email_verified: false }, 'kate')).result, 'SUCCESS', 'the bare sub, with one provider reading the map');
  t.throws(refuses(`auth_method oidc\noidc_issuers ${A} ${B}\noidc_audience ssh\njwt_username_claim sub\n`), { message: /2 OIDC issuers are listed .*a user of one could log in as a user of another/ });
});

test('an email names an account only when verified, through the username claim too', async (t) => {
  const ctx = context(`auth_method oidc\noidc_issuers ${A}\noidc_audience ssh\njwt_username_claim email\njwt_username_suffix @a.example.org\n`);
  t.is((await login(ctx, { iss: A, sub: 'm4', email: 'bob@a.example.org', email_verified: false }, 'bob')).result, 'USER_UNKNOWN');
  t.is((await login(ctx, { iss: A, sub: 'm4', email: 'bob@a.example.org', email_verified: 'true' }, 'bob')).result, 'USER_UNKNOWN', 'the string "true" is not true');
  t.is((await login(ctx, { iss: A, sub: 'm4', email: 'bob@a.example.org', email_verified: true }, 'bob')).result, 'SUCCESS');
});

test('case folding is ASCII only; an empty local part names nobody', async (t) => {
  const ctx = context(`auth_method oidc\noidc_issuers ${A}\noidc_audience ssh\njwt_username_claim preferred_username\njwt_username_suffix @keycloak.org\njwt_username_prefix x\n`);
  t.is((await login(ctx, { iss: A, sub: 'k', preferred_username: 'ate@\u212Aeycloak.org' }, 'xate')).result, 'USER_UNKNOWN', 'the Kelvin sign is not a K');
  t.is((await login(ctx, { iss: A, sub: 'k', preferred_username: '@keycloak.org' }, 'x')).result, 'USER_UNKNOWN', 'the prefix alone is no account');
});

test('userinfo_url serves the one issuer it lives under', (t) => {
  const config = parseServerConfig(`auth_method scitokens\nscitokens_issuers ${A} ${B}\njwt_uid_claim uidNumber\nuserinfo_url ${A}/admin/v1/Me\n`, 'c', () => {});
  t.is(config.claims.userinfoIssuer, A);
  t.throws(refuses(`auth_method scitokens\nscitokens_issuers ${A}/realms/x\njwt_uid_claim u\nuserinfo_url ${A}/realms/y/me\n`), { message: /under its URL/ });
});

test('groups: a string is one group, a /-path is read, an absent claim is named', async (t) => {
  const ctx = context(`auth_method oidc\noidc_issuers ${A}\noidc_audience ssh\njwt_username_claim preferred_username\ngroups_claim realm_access/roles\nallowed_groups Users\n`);
  const as = (groups: unknown) => login(ctx, { iss: A, sub: 's', preferred_username: 'alice', realm_access: groups === undefined ? {} : { roles: groups } }, 'alice');
  t.is((await as('Domain Users')).result, 'AUTH_ERR', '"Domain Users" is not "Users"');
  t.is((await as(['Users'])).result, 'SUCCESS');
  t.regex((await as(undefined)).reason, /needs the groups of your login, and tokens from https:\/\/a\.example\.org carry none/);
  t.regex((await as(42)).reason, /carry realm_access\/roles in a form this host cannot read/);
});

test('permitted_idps: an issuer URL admits that issuer only; a host admits all of its realms', async (t) => {
  const realm = context(`auth_method oidc\noidc_issuers ${A}/realms/staff\nscitokens_issuers ${A}/realms/public\noidc_audience ssh\nscitokens_audience ssh\njwt_username_claim preferred_username\npermitted_idps ${A}/realms/staff\n`);
  t.is((await login(realm, { iss: `${A}/realms/staff`, sub: 's', preferred_username: 'alice' }, 'alice')).result, 'SUCCESS');
  t.is((await login(realm, { iss: `${A}/realms/public`, sub: 's', scope: 'ssh:/alice' }, 'alice')).result, 'AUTH_ERR', 'another realm on the same host');
});

test('auth_time in the future proves nothing; nested or non-string amr entries count for nothing; wrong types are named', async (t) => {
  const ctx = (rule: string) => context(`auth_method oidc\noidc_issuers ${A}\noidc_audience ssh\njwt_username_claim preferred_username\n${rule}\n`);
  const claims = { iss: A, sub: 's', preferred_username: 'alice' };
  t.regex((await login(ctx('max_auth_age 60'), { ...claims, auth_time: now + 10 * 365 * 86400 }, 'alice')).reason, /auth_time\) is in the future/);
  t.is((await login(ctx('max_auth_age 60'), { ...claims, auth_time: now - 5 }, 'alice')).result, 'SUCCESS');
  t.regex((await login(ctx('max_auth_age 60'), { ...claims, auth_time: String(now) }, 'alice')).reason, /carry auth_time in a form this host cannot read/);
  t.is((await login(ctx('amr_values hwk'), { ...claims, amr: [['hwk']] }, 'alice')).result, 'AUTH_ERR');
  t.regex((await login(ctx('mfa true'), { ...claims, amr: 'mfa' }, 'alice')).reason, /carry amr in a form this host cannot read/);
});

test('routing: a JWT without a string iss is refused as such; a foreign iss is shown sanitized', async (t) => {
  const ctx = context(`auth_method oidc\noidc_issuers ${A}\noidc_audience ssh\njwt_username_claim preferred_username\n`);
  t.regex((await login(ctx, { iss: [A], sub: 's' }, 'alice')).reason, /a JWT that names no issuer \(iss\)/);
  const evil = await login(ctx, { iss: 'https://evil\u001b[31m.example', sub: 's' }, 'alice');
  t.is(evil.result, 'AUTH_ERR');
  t.false(evil.userMessage.includes('\u001b'));
});

test('a token without a usable sub is refused; no account from it', async (t) => {
  const ctx = context(`auth_method oidc\noidc_issuers ${A}\noidc_audience ssh\njwt_username_claim preferred_username\n`);
  for (const sub of [{}, '', 42, null]) t.regex((await login(ctx, { iss: A, sub, preferred_username: 'alice' }, 'alice')).reason, /names no subject/, JSON.stringify(sub));
});

test('configs whose rules no provider would read are refused, not silently ignored', (t) => {
  t.throws(refuses(`auth_method scitokens\nscitokens_issuers ${A}\njwt_username_claim preferred_username\n`), { message: /maps OIDC providers' claims, and this config lists none/ });
  t.throws(refuses(`auth_method scitokens\nscitokens_issuers ${A}\nmap_file ${file('m', 'a b\n')}\n`), { message: /map files apply to Globus identities and to OIDC claims/ });
  t.throws(refuses(`auth_method oidc\noidc_issuers ${A}\noidc_audience ssh\njwt_username_claim sub\ngroups_claim g\n`), { message: /groups_claim is read only for allowed_groups/ });
  t.throws(refuses(`auth_method oidc\noidc_issuers ${A}\noidc_audience ssh\njwt_username_suffix @x\n`), { message: /needs jwt_username_claim/ });
  t.throws(refuses(`auth_method globus_auth oidc\nclient_id ${ID}\nclient_secret x\nidp_suffix a.org\noidc_issuers https://auth.globus.org\n`), { message: /is Globus Auth itself/ });
  const legacy = parseServerConfig(`auth_method oidc\nissuers ${A}\nscitokens_audience https://wlcg.cern.ch/jwt/v1/any ssh\n`, 'c', () => {});
  t.is(legacy.jwtIssuers[0]!.kind, 'oidc', 'auth_method oidc makes the older "issuers" OIDC providers');
  t.deepEqual(legacy.jwtIssuers[0]!.audiences, ['ssh'], 'the "any" audiences never reach an OIDC provider');
});

test('an unexpected error\'s text never carries the token into the audit log', async (t) => {
  const ctx = context(`auth_method oidc\noidc_issuers ${A}\noidc_audience ssh\njwt_username_claim preferred_username\n`);
  const token = jwt({ iss: A, sub: 's', preferred_username: 'alice' });
  const leaky: DecisionContext = { ...ctx, lookup: async () => { throw new Error(`getent failed near ${token}`); } };
  const decision = await decideLogin(leaky, token, 'alice');
  t.is(decision.result, 'AUTHINFO_UNAVAIL');
  t.false(decision.reason.includes(token));
  t.regex(decision.reason, /<token [0-9a-f]{12}>/);
});

test('advice fits the path the user came by, and names no host the server cannot know', async (t) => {
  const { adviceFor, failure } = await import('../../server-pam/decide.js');
  const { InvalidTokenError, SessionViolationError } = await import('../../shared/errors.js');
  const device = adviceFor('device', 'ssh.example.org');
  t.regex(failure(new InvalidTokenError('the token has expired'), device).userMessage, /connect again to start a new login/);
  t.notRegex(`${device.newToken} ${device.freshLogin}`, /oauth-ssh login/, 'a plain-ssh user has no client to run');
  t.is(adviceFor('token', null).newToken, 'run `oauth-ssh login <host>` to get a new token');
  t.is(adviceFor('token', 'ssh.example.org').freshLogin, 'run `oauth-ssh login ssh.example.org --force-login`');
  const globus = { scopes: ['https://auth.globus.org/scopes/864f1f73-da90-4bcd-9a1c-30d9feb10907/ssh', 'https://auth.globus.org/scopes/login.example.org/ssh'] } as never;
  t.is(adviceFor('token', 'other.example.org', globus).freshLogin, 'run `oauth-ssh login login.example.org --force-login`', 'the host the verified token was asked for');
  t.regex(failure(new SessionViolationError('x'), device).userMessage, /^oauth-ssh: x\.$/);
});

test('the advice names this host only when it has one name (sshd does not say which the user typed)', async (t) => {
  const { knownHostName } = await import('../../server-pam/daemon.js');
  const globus = (fqdns: string[] | null) => ({ globus: { knownFqdns: () => fqdns } as never });
  const audiences = (...a: string[]) => ({ jwtIssuers: [{ audiences: a }] as never });
  t.is(knownHostName(audiences(), globus(['ssh.example.org']))(), 'ssh.example.org');
  t.is(knownHostName(audiences(), globus(['ssh.example.org', 'localhost']))(), null, 'two registered names: either may be the wrong one');
  t.is(knownHostName(audiences('https://login.example.org/ssh'), globus(null))(), 'login.example.org');
  t.is(knownHostName(audiences('https://a.example.org', 'b.example.org'), { globus: undefined } as never)(), null);
  t.is(knownHostName(audiences('https://a.example.org', 'https://a.example.org/x'), { globus: undefined } as never)(), 'a.example.org', 'one host, two audiences');
});

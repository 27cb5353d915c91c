/**
 * JWT access tokens verified locally, through the real bridge under
 * Linux-PAM, with the configuration keys sites already have (auth_method
 * scitokens, issuers, scitokens_audience, jwt_*): SciTokens issuers admit by
 * their ssh:/USER scope, OIDC providers by their claims; Globus tokens keep
 * going to introspection. The faults no real issuer produces (alg none, HS256
 * with the public key, foreign keys, rotation) come from a test issuer.
 */
import test from 'ava';
import { startTestIdp, tokenFor } from '../helpers/dev-idp.js';
import { JWKS_COOLDOWN_MS } from '../../shared/providers/jwt-verifier.js';
import { startJwtIssuer } from '../helpers/jwt-issuer.js';
import { PAM_TEXT, pamtester } from '../helpers/pam.js';
import { startServerWithLines, startTestServer } from '../helpers/server.js';
import { createTestUser } from '../helpers/users.js';
import type { Teardown } from '../helpers/teardown.js';

const AUD = 'https://ssh.example.org';

async function world(t: Teardown) {
  const idp = await startTestIdp(t);
  const issuer = await startJwtIssuer(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['auth_method globus_auth, scitokens', `issuers ${issuer.issuer}`, `scitokens_audience ${AUD}`] });
  const login = (who: string, token: string) => pamtester(server.service, who, ['authenticate'], `${token}\n`);
  return { idp, issuer, user, server, login };
}

test('a SciToken with ssh:/USER logs in as USER; a bare ssh scope as nobody; Globus tokens still work', async (t) => {
  const { idp, issuer, user, server, login } = await world(t);
  t.is((await login(user.name, await issuer.mint({ sub: 'jane', aud: AUD, scope: `read:/data ssh:/${user.name}` }))).code, 0);
  t.is((await login(user.name, await issuer.mint({ sub: 'jane', aud: AUD, scope: `ssh:${user.name}` }))).code, 0, 'ssh:USER without the slash');
  const bare = await login(user.name, await issuer.mint({ sub: 'ops', aud: [AUD, 'other'], scope: 'ssh' }));
  t.true(bare.stderr.includes(PAM_TEXT.USER_UNKNOWN), 'a bare ssh scope grants no account');
  t.is((await login(user.name, await tokenFor(idp, 'alice@example.org'))).code, 0, 'an opaque Globus token goes to introspection');
  t.like(server.audit[0], { decision: 'SUCCESS', identity: `jane@${issuer.issuer}`, issuer: issuer.issuer });
});

test('scope names match whole; the account rules still apply', async (t) => {
  const { issuer, user, login } = await world(t);
  const prefix = await login(user.name, await issuer.mint({ sub: 'x', aud: AUD, scope: `ssh:/${user.name.slice(0, -2)}` }));
  t.true(prefix.stderr.includes(PAM_TEXT.USER_UNKNOWN), 'ssh:/oast12 never grants oast1234');
  t.regex(prefix.messages, /x maps to no local account on this host/);
  t.true((await login('root', await issuer.mint({ sub: 'x', aud: AUD, scope: 'ssh:/root' }))).stderr.includes(PAM_TEXT.USER_UNKNOWN), 'root needs allow_accounts');
  t.true((await login(user.name, await issuer.mint({ sub: 'x', aud: AUD, scope: 'read:/data' }))).stderr.includes(PAM_TEXT.USER_UNKNOWN));
});

test('refused: wrong audience, expired, unknown issuer, foreign key, alg none, HS256 with the public key', async (t) => {
  const { issuer, user, login } = await world(t);
  const claims = { sub: 'x', aud: AUD, scope: `ssh:/${user.name}` };
  const cases: Array<[string, string, RegExp]> = [
    ["wrong aud", await issuer.mint({ ...claims, aud: "https://elsewhere.example.org" }), /issued for the audience "https:\/\/elsewhere\.example\.org", and this host accepts "https:\/\/ssh\.example\.org"/],
    ['expired', await issuer.mint(claims, { expiresIn: -120 }), /has expired/],
    ['unknown issuer', await issuer.mint({ ...claims, iss: 'https://evil.example.org' }), /tokens from https:\/\/evil\.example\.org are not accepted/],
    ['foreign key', await issuer.mint(claims, { key: 'foreign' }), /signature does not verify/],
    ['alg none', issuer.unsignedToken(claims), /not acceptable|signature does not verify|algorithm/],
    ['HS256 key confusion', await issuer.hs256WithPublicKey(claims), /algorithm this host does not accept/],
  ];
  for (const [name, token, message] of cases) {
    const result = await login(user.name, token);
    t.not(result.code, 0, name);
    t.regex(result.messages, message, name);
  }
});

test('key rotation: a token signed with a new key verifies after the JWKS is fetched again', async (t) => {
  const { issuer, user, login } = await world(t);
  t.is((await login(user.name, await issuer.mint({ sub: 'x', aud: AUD, scope: `ssh:/${user.name}` }))).code, 0);
  const before = issuer.jwksRequests();
  await issuer.rotate();
  await new Promise((r) => setTimeout(r, JWKS_COOLDOWN_MS + 200)); // past the verifier's refetch cool-down
  const rotated = await login(user.name, await issuer.mint({ sub: 'x', aud: AUD, scope: `ssh:/${user.name}` }));
  t.is(rotated.code, 0, rotated.output);
  t.true(issuer.jwksRequests() > before, 'an unknown kid made the verifier fetch the keys again');
});

test('long tokens travel in parts (askpass answers stop at 1023 characters); the bound is enforced', async (t) => {
  const { issuer, user, server } = await world(t);
  const { splitToken, MAX_TOKEN_LENGTH } = await import('../../shared/token-parts.js');
  const long = await issuer.mint({ sub: 'x', aud: AUD, scope: `ssh:/${user.name}`, groups: Array.from({ length: 120 }, (_, i) => `group-number-${i}-of-a-large-directory`) });
  t.true(long.length > 4000, `${long.length} characters`);
  const parts = splitToken(long);
  t.true(parts.length >= 5 && parts.every((p) => p.length <= 1023));
  const ok = await pamtester(server.service, user.name, ['authenticate'], parts.map((p) => `${p}\n`).join(''));
  t.is(ok.code, 0, ok.output);
  t.regex(ok.stderr, new RegExp(`Token part 2/${parts.length}: `));

  const tooMany = await pamtester(server.service, user.name, ['authenticate'], `OAUTHSSH-PART 1/99 abc\n`);
  t.true(tooMany.stderr.includes(PAM_TEXT.AUTH_ERR));
  t.regex(tooMany.messages, new RegExp(`the most this host takes is ${MAX_TOKEN_LENGTH} characters`));
  const broken = await pamtester(server.service, user.name, ['authenticate'], `${parts[0]}\nnot a part\n`);
  t.regex(broken.messages, /token part 2\/\d+ is missing or malformed/);
  t.throws(() => splitToken('x'.repeat(MAX_TOKEN_LENGTH + 1)), { message: /the most oauth-ssh carries is 16384/ });
});

test('an unreachable issuer is an outage (AUTHINFO_UNAVAIL), not a "no"', async (t) => {
  const { issuer, user, login } = await world(t);
  const token = await issuer.mint({ sub: 'x', aud: AUD, scope: 'ssh' });
  await issuer.stop();
  const result = await login(user.name, token);
  t.true(result.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL), result.output);
  t.regex(result.messages, /authorization server cannot be reached/);
});

/** A JWT-only server with the older keys (auth_method scitokens, issuers, scitokens_audience, jwt_*). */
async function oidcWorld(t: Teardown, lines: string[], mapFile = '') {
  const issuer = await startJwtIssuer(t);
  const user = await createTestUser(t);
  const server = await startServerWithLines(t, async (dir) => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${dir}/accounts.map`, mapFile.replace(/USER/g, user.name) || `nobody@example.org ${user.name}\n`, { mode: 0o644 });
    return ['auth_method scitokens', `issuers ${issuer.issuer}`, `scitokens_audience ${AUD}`, `map_file ${dir}/accounts.map`, ...lines];
  });
  const login = (who: string, token: string) => pamtester(server.service, who, ['authenticate'], `${token}\n`);
  return { issuer, user, server, login };
}

test('OIDC JWTs: username claim with suffix, map file by email, uid rule', async (t) => {
  const { issuer, user, login } = await oidcWorld(t, ['jwt_username_claim preferred_username', 'jwt_username_suffix @corp.example'], 'ops@corp.example USER\n');
  const now = Math.floor(Date.now() / 1000);
  t.is((await login(user.name, await issuer.mint({ sub: 's1', aud: AUD, preferred_username: `${user.name}@corp.example`, auth_time: now }))).code, 0);
  const wrongSuffix = await login(user.name, await issuer.mint({ sub: 's1', aud: AUD, preferred_username: `${user.name}@elsewhere.example` }));
  t.true(wrongSuffix.stderr.includes(PAM_TEXT.USER_UNKNOWN));
  t.is((await login(user.name, await issuer.mint({ sub: 's2', aud: AUD, preferred_username: 'someone', email: 'ops@corp.example', email_verified: true }))).code, 0, 'map file keyed by a verified email');
  const unverified = await login(user.name, await issuer.mint({ sub: 's3', aud: AUD, preferred_username: 'someone', email: 'ops@corp.example' }));
  t.true(unverified.stderr.includes(PAM_TEXT.USER_UNKNOWN), 'an unverified email is whatever the user typed: no key to an account');

  const withUid = await oidcWorld(t, ['jwt_username_claim preferred_username', 'jwt_uid_claim uidNumber']);
  const mint = (uid: unknown) => withUid.issuer.mint({ sub: 's', aud: AUD, preferred_username: withUid.user.name, uidNumber: uid });
  t.is((await withUid.login(withUid.user.name, await mint(withUid.user.uid))).code, 0, 'uidNumber equals the NSS uid');
  const otherUid = await withUid.login(withUid.user.name, await mint(withUid.user.uid + 1));
  t.true(otherUid.stderr.includes(PAM_TEXT.USER_UNKNOWN), 'the uid rule: another uid maps to no account');
});

test('OIDC JWTs: groups allow-list, authentication age from auth_time, acr and amr', async (t) => {
  const { issuer, user, login } = await oidcWorld(t, ['jwt_username_claim preferred_username', 'jwt_groups_claim groups', 'jwt_allowed_groups hpc-users', 'jwt_max_auth_age 3600', 'jwt_acr_values https://refeds.org/profile/mfa']);
  const now = Math.floor(Date.now() / 1000);
  const base = { sub: 's', aud: AUD, preferred_username: user.name, groups: ['staff', 'hpc-users'], auth_time: now - 60, acr: 'https://refeds.org/profile/mfa' };
  t.is((await login(user.name, await issuer.mint(base))).code, 0);
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['not in a group', { groups: ['staff'] }, /admits members of hpc-users only/],
    ['too old', { auth_time: now - 7200 }, /your last login at 127\.0\.0\.1 was 2 h ago; this host requires one within 60 min/],
    ['no auth_time (iat is not enough)', { auth_time: undefined }, /needs the authentication time \(auth_time\) of your login, and tokens from http:\/\/127\.0\.0\.1:\d+ carry none/],
    ['no MFA', { acr: 'https://refeds.org/profile/sfa' }, /requires an authentication of class https:\/\/refeds\.org\/profile\/mfa/],
  ];
  for (const [name, change, message] of cases) {
    const result = await login(user.name, await issuer.mint({ ...base, ...change }));
    t.true(result.stderr.includes(PAM_TEXT.AUTH_ERR), name);
    t.regex(result.messages, message, name);
  }
});

test('OIDC JWT claims name no account unless jwt_username_claim opts in: a map file nobody reads is refused', async (t) => {
  const error = await t.throwsAsync(oidcWorld(t, [], 'mapped@corp.example USER\n'));
  t.regex(error!.message, /map files apply to Globus identities and to OIDC claims with jwt_username_claim; this config has neither/);
});

test('userinfo_url is asked only with tokens of the issuer it lives under', async (t) => {
  const a = await startJwtIssuer(t);
  const b = await startJwtIssuer(t);
  const user = await createTestUser(t);
  const server = await startServerWithLines(t, ['auth_method scitokens', `scitokens_issuers ${a.issuer} ${b.issuer}`, `scitokens_audience ${AUD}`, 'jwt_uid_claim uidNumber', `userinfo_url ${a.issuer}/admin/v1/Me`]);
  a.setMe('b-user', { uidNumber: user.uid });
  const fromB = await pamtester(server.service, user.name, ['authenticate'], `${await b.mint({ sub: 'b-user', aud: AUD, scope: `ssh:/${user.name}` })}\n`);
  t.true(fromB.stderr.includes(PAM_TEXT.USER_UNKNOWN), 'no uid for B\'s token: A was not asked');
  t.is(a.meRequests(), 0, 'B\'s token never went to A');
  a.setMe('a-user', { uidNumber: user.uid });
  t.is((await pamtester(server.service, user.name, ['authenticate'], `${await a.mint({ sub: 'a-user', aud: AUD, scope: `ssh:/${user.name}` })}\n`)).code, 0);
  t.is(a.meRequests(), 1);
});

test('a JWT-only server (auth_method scitokens, no Globus): JWTs log in, opaque tokens are refused with a reason', async (t) => {
  const issuer = await startJwtIssuer(t);
  const user = await createTestUser(t);
  const { writeFile, chmod } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tempDir } = await import('../helpers/temp.js');
  const { loadServerConfig } = await import('../../server-pam/config.js');
  const { startDaemon } = await import('../../server-pam/daemon.js');
  const { installPamService, BRIDGE_SO } = await import('../helpers/pam.js');
  const dir = await tempDir(t);
  const file = join(dir, 'oauth-ssh.conf');
  await writeFile(file, `auth_method scitokens\nissuers ${issuer.issuer}\nscitokens_audience ${AUD}\njwt_username_claim preferred_username\nsocket ${join(dir, 'run/pam.sock')}\n`);
  await chmod(file, 0o644); // no secret in it: may be world-readable
  const config = loadServerConfig(file);
  t.false(config.globus);
  const daemon = await startDaemon(config, { audit: async () => {}, log: () => {} });
  t.teardown(() => daemon.close());
  const service = await installPamService(t, `auth required ${BRIDGE_SO} socket=${daemon.socketPath}`);
  t.is((await pamtester(service, user.name, ['authenticate'], `${await issuer.mint({ sub: 's', aud: AUD, preferred_username: user.name })}\n`)).code, 0);
  const opaque = await pamtester(service, user.name, ['authenticate'], 'AgOpaqueGlobusStyleToken\n');
  t.true(opaque.stderr.includes(PAM_TEXT.AUTH_ERR));
  t.regex(opaque.messages, new RegExp(`the token is not a JWT, and this host checks no opaque tokens: it accepts JWT access tokens from ${issuer.issuer} only`));
});

test('escape sequences and newlines in claims never reach the terminal raw', async (t) => {
  const { issuer, user, login } = await world(t);
  const hostile = await issuer.mint({ sub: 'evil\u001b[2J\u001b]0;pwned\u0007\nline', aud: AUD, scope: 'ssh:/nobody' });
  const result = await login(user.name, hostile);
  t.not(result.code, 0);
  t.false(/[\u001b\u0007]/.test(result.messages), 'no ESC or BEL in what the user sees');
  t.regex(result.messages, /evil\?\[2J\?\]0;pwned\?\?line/);
});

test('IDCS style: the POSIX uid comes from the userinfo ("Me") endpoint when the token lacks it', async (t) => {
  const POSIX = 'urn:ietf:params:scim:schemas:oracle:idcs:extension:posix:User';
  const issuer = await startJwtIssuer(t);
  const user = await createTestUser(t);
  const server = await startServerWithLines(t, ['auth_method scitokens', `issuers ${issuer.issuer}`, `scitokens_audience ${AUD}`, 'jwt_username_claim user_name', `jwt_uid_claim ${POSIX}/uidNumber`, `userinfo_url ${issuer.issuer}/admin/v1/Me`]);
  const login = async (uid: number) => {
    issuer.setMe('idcs-user', { userName: user.name, [POSIX]: { uidNumber: uid, gidNumber: uid } });
    return pamtester(server.service, user.name, ['authenticate'], `${await issuer.mint({ sub: 'idcs-user', aud: AUD, user_name: user.name })}\n`);
  };
  t.is((await login(user.uid)).code, 0);
  t.true(issuer.meRequests() >= 1, 'asked the Me endpoint');
  const wrong = await login(user.uid + 7);
  t.true(wrong.stderr.includes(PAM_TEXT.USER_UNKNOWN));
  t.regex(wrong.messages, /maps to no local account/);
});

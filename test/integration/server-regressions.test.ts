/**
 * The defects measured against the first wave, as regression tests through
 * real PAM (pamtester, the real bridge, the daemon), with a real OIDC
 * provider (oidc-provider) and the dev IdP for Globus:
 *   1. carol's Keycloak-style JWT with a scope named `ssh` logged in as dave;
 *   2. mfa/authentication_timeout were ignored for JWTs while the policy
 *      reply said `mfa: true`;
 *   3. get_account_map and explain refused every non-Globus token.
 * And the Globus/XSEDE drop-in points: GO's environment= module argument,
 * SESSION_VIOLATION from get_account_map.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeCommand } from '../../server-pam/commands.js';
import { startTestIdp, tokenFor } from '../helpers/dev-idp.js';
import { SSH_AUDIENCE, startOidcTokenSource } from '../helpers/oidc-tokens.js';
import { PAM_TEXT, pamtester } from '../helpers/pam.js';
import { inBandReplies, startServerWithLines, startTestServer } from '../helpers/server.js';
import { createTestUser } from '../helpers/users.js';

test('measured 1: a Keycloak-style config never lets carol in as dave, whatever her token\'s scope says', async (t) => {
  const carol = await createTestUser(t);
  const dave = await createTestUser(t);
  const source = await startOidcTokenSource(t, 'jwt', ['carol']);
  // As server-pam/examples/keycloak.conf, with the older key names a site has today.
  const server = await startServerWithLines(t, ['auth_method scitokens', `issuers ${source.issuer}`, `scitokens_audience ${SSH_AUDIENCE}`, 'jwt_username_claim preferred_username', 'jwt_groups_claim groups', 'jwt_allowed_groups ssh-users', 'jwt_uid_claim uidNumber']);
  const claims = { preferred_username: carol.name, uidNumber: carol.uid, groups: ['ssh-users'] };
  for (const scope of ['profile', 'profile ssh', `profile ssh ssh:/${dave.name}`]) {
    const token = await source.token({ accountId: 'carol', claims, scope });
    const asDave = await pamtester(server.service, dave.name, ['authenticate'], `${token}\n`);
    t.true(asDave.stderr.includes(PAM_TEXT.USER_UNKNOWN), `scope "${scope}": ${asDave.output}`);
    t.regex(asDave.messages, new RegExp(`${carol.name} may not log in as ${dave.name} on this host`), 'named by preferred_username, not by sub');
    t.is((await pamtester(server.service, carol.name, ['authenticate'], `${token}\n`)).code, 0, `scope "${scope}": carol as herself`);
  }
  t.false(server.audit.some((e) => e.decision === 'SUCCESS' && e.user === dave.name));
  t.true(server.audit.every((e) => e.identity === undefined || e.identity === `carol@${source.issuer}`), 'the audit keeps the sub');
});

test('measured 2: mfa and authentication_timeout apply to JWTs, and the policy reply says what is enforced', async (t) => {
  const idp = await startTestIdp(t);
  const carol = await createTestUser(t);
  const query = await createTestUser(t, { system: true });
  const source = await startOidcTokenSource(t, 'jwt', ['carol']);
  const server = await startTestServer(t, {
    authUrl: idp.url,
    mapFile: `alice@example.org ${carol.name}\n`,
    lines: ['auth_method globus_auth, scitokens', `issuers ${source.issuer}`, `scitokens_audience ${SSH_AUDIENCE}`, 'mfa true', 'authentication_timeout 60', `query_account ${query.name}`],
  });
  const scope = `ssh:/${carol.name}`;
  const stale = await pamtester(server.service, carol.name, ['authenticate'], `${await source.token({ accountId: 'carol', mfa: false, authAge: 86400, scope })}\n`);
  t.true(stale.stderr.includes(PAM_TEXT.AUTH_ERR), stale.output);
  t.regex(stale.messages, /was 24 h ago; this host requires one within 60 min/);
  const noMfa = await pamtester(server.service, carol.name, ['authenticate'], `${await source.token({ accountId: 'carol', mfa: false, authAge: 60, scope })}\n`);
  t.true(noMfa.stderr.includes(PAM_TEXT.AUTH_ERR));
  t.regex(noMfa.messages, /requires multi-factor authentication/);
  t.is((await pamtester(server.service, carol.name, ['authenticate'], `${await source.token({ accountId: 'carol', mfa: true, authAge: 60, scope })}\n`)).code, 0);
  const globusStale = await pamtester(server.service, carol.name, ['authenticate'], `${await tokenFor(idp, 'alice@example.org', { mfa: true, authAge: 7200 })}\n`);
  t.true(globusStale.stderr.includes(PAM_TEXT.AUTH_ERR), 'the same policy for Globus tokens');

  const policy = await pamtester(server.service, query.name, ['authenticate'], `${encodeCommand('get_security_policy')}\n`);
  t.like(inBandReplies(policy.stdout)[0], { policy: { mfa: true, authentication_timeout: 60, max_auth_age: 3600 } });
});

test('measured 3: get_account_map and explain work for a JWT from an OIDC provider', async (t) => {
  const carol = await createTestUser(t);
  const query = await createTestUser(t, { system: true });
  const source = await startOidcTokenSource(t, 'jwt', ['carol']);
  const lines = ['auth_method oidc', `oidc_issuers ${source.issuer}`, `oidc_audience ${SSH_AUDIENCE}`, 'jwt_username_claim preferred_username', `query_account ${query.name}`, 'audit_log stderr'];
  const server = await startServerWithLines(t, lines);
  const token = await source.token({ accountId: 'carol', claims: { preferred_username: carol.name } });
  const map = await pamtester(server.service, query.name, ['authenticate'], `${encodeCommand('get_account_map', token)}\n`);
  t.true(map.stderr.includes(PAM_TEXT.MAXTRIES), map.output);
  t.deepEqual(inBandReplies(map.stdout), [{ account_map: { permitted_accounts: [carol.name] } }]);

  const tokenFile = join(server.dir, 'token');
  await writeFile(tokenFile, token, { mode: 0o600 });
  const explain = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server-pam/bin.ts', 'explain', '--config', server.configFile, '--user', carol.name, '--token-file', tokenFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('close', (code) => resolve({ code, stdout }));
  });
  t.is(explain.code, 0, explain.stdout);
  t.regex(explain.stdout, new RegExp(`ok {4}route +judged by ${source.issuer.replace(/[.]/g, '\\.')} \\(oidc\\)`));
  t.regex(explain.stdout, new RegExp(`ok {4}accounts +may log in as ${carol.name} \\(username claim\\)`));
  t.regex(explain.stdout, /session  carol at 127\.0\.0\.1, \d+ s ago, amr pwd, acr https:\/\/refeds\.org\/profile\/sfa/);
  t.false(explain.stdout.includes(token));
});

test('GO drop-in: get_account_map answers SESSION_VIOLATION while the session breaks the policy', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const query = await createTestUser(t, { system: true });
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['authentication_timeout 10', `query_account ${query.name}`] });
  const stale = await pamtester(server.service, query.name, ['authenticate'], `${encodeCommand('get_account_map', await tokenFor(idp, 'alice@example.org', { authAge: 3600 }))}\n`);
  t.true(stale.stderr.includes(PAM_TEXT.AUTH_ERR));
  t.like(inBandReplies(stale.stdout)[0], { error: { code: 'SESSION_VIOLATION' } });
  const fresh = await pamtester(server.service, query.name, ['authenticate'], `${encodeCommand('get_account_map', await tokenFor(idp, 'alice@example.org'))}\n`);
  t.deepEqual(inBandReplies(fresh.stdout), [{ account_map: { permitted_accounts: [user.name] } }]);
});

test('GO drop-in: a PAM line with environment= works when it names the daemon\'s environment, and fails closed otherwise', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const token = await tokenFor(idp, 'alice@example.org');
  const login = async (moduleArgs: string, lines: string[] = []) => {
    const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, moduleArgs, lines });
    return { server, result: await pamtester(server.service, user.name, ['authenticate'], `${token}\n`) };
  };
  t.is((await login('environment=production')).result.code, 0, 'GO\'s line as it is (the default environment)');
  t.is((await login('environment=sandbox timeout=10', ['environment sandbox'])).result.code, 0, 'the config names the same environment');
  const mismatch = await login('environment=preview');
  t.true(mismatch.result.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL), mismatch.result.output);
  t.regex(mismatch.result.messages, /PAM and oauth-ssh-server configurations disagree \(environment=\)/);
  t.regex(mismatch.server.audit[0]!.reason, /names environment=preview, but this oauth-ssh-server serves the production environment/);
  t.false(mismatch.result.stderr.includes('Enter your OAuth token'), 'refused before asking for a token');
  t.true((await login('environment=Pre-view')).result.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL), 'a malformed argument fails closed in the bridge');
});

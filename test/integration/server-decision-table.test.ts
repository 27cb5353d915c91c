/**
 * One table of decision cases, run against every provider through the real
 * daemon and the real bridge under Linux-PAM (pamtester):
 *   - Globus introspection at the dev IdP;
 *   - JWT access tokens from a real OIDC provider (oidc-provider);
 *   - opaque tokens of that provider, by RFC 7662 introspection;
 *   - the SciTokens profile (the provider issuing ssh:/USER scopes).
 * Each rule has a case that admits and one that refuses. Where a rule cannot
 * apply to a provider (Globus reports no acr, groups or uid), the daemon
 * refuses to start, and the table says so.
 */
import test, { type ExecutionContext } from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../shared/errors.js';
import { startTestIdp, tokenFor, type TestIdp } from '../helpers/dev-idp.js';
import { SERVER_CLIENT, SERVER_SECRET, SSH_AUDIENCE, CLI_CLIENT, startOidcTokenSource, type OidcTokenSource } from '../helpers/oidc-tokens.js';
import { PAM_TEXT, pamtester } from '../helpers/pam.js';
import { startServerWithLines, startTestServer } from '../helpers/server.js';
import type { Teardown } from '../helpers/teardown.js';
import { createTestUser, type TestUser } from '../helpers/users.js';

type Rule = 'mapping' | 'permitted_idps' | 'authentication_timeout' | 'mfa' | 'amr_values' | 'acr_values' | 'groups' | 'uid';
type Outcome = 'SUCCESS' | 'AUTH_ERR' | 'USER_UNKNOWN';

/** One login: who, how, and what the provider says about it. */
interface Facts {
  mfa?: boolean;
  authAge?: number;
  groups?: string[];
  /** The uid the provider vouches for: carol's own, or dave's. */
  uid?: 'own' | 'other';
}

interface Case {
  rule: Rule;
  lines: (w: World) => string[];
  facts: Facts;
  /** carol's token asks for carol's account or dave's. */
  as: 'carol' | 'dave';
  expect: Outcome;
  message?: RegExp;
}

interface World {
  /** The permitted_idps entry that carol's login satisfies. */
  homeIdp: string;
  /** Rules this provider cannot satisfy: the daemon must refuse them at start. */
  refusedAtStart: Rule[];
  /** A daemon with the provider's mapping plus `lines`; login(token for carol with facts, as account). */
  start(lines: string[]): Promise<(facts: Facts, as: 'carol' | 'dave') => Promise<{ outcome: string; messages: string }>>;
}

const CASES: Case[] = [
  { rule: 'mapping', lines: () => [], facts: {}, as: 'carol', expect: 'SUCCESS' },
  { rule: 'mapping', lines: () => [], facts: {}, as: 'dave', expect: 'USER_UNKNOWN', message: /may not log in as oast\w+ on this host \(no such account for your identity, or not permitted\)/ },
  { rule: 'permitted_idps', lines: (w) => [`permitted_idps ${w.homeIdp}`], facts: {}, as: 'carol', expect: 'SUCCESS' },
  { rule: 'permitted_idps', lines: () => ['permitted_idps lab.example.net'], facts: {}, as: 'carol', expect: 'AUTH_ERR', message: /accepts logins only from lab\.example\.net/ },
  { rule: 'authentication_timeout', lines: () => ['authentication_timeout 30'], facts: { authAge: 60 }, as: 'carol', expect: 'SUCCESS' },
  { rule: 'authentication_timeout', lines: () => ['authentication_timeout 30'], facts: { authAge: 7200 }, as: 'carol', expect: 'AUTH_ERR', message: /was 2 h ago; this host requires one within 30 min/ },
  { rule: 'mfa', lines: () => ['mfa true'], facts: { mfa: true }, as: 'carol', expect: 'SUCCESS' },
  { rule: 'mfa', lines: () => ['mfa true'], facts: { mfa: false }, as: 'carol', expect: 'AUTH_ERR', message: /requires multi-factor authentication/ },
  { rule: 'amr_values', lines: () => ['amr_values mfa'], facts: { mfa: true }, as: 'carol', expect: 'SUCCESS' },
  { rule: 'amr_values', lines: () => ['amr_values mfa'], facts: { mfa: false }, as: 'carol', expect: 'AUTH_ERR', message: /requires authentication by mfa/ },
  { rule: 'acr_values', lines: () => ['acr_values https://refeds.org/profile/mfa'], facts: { mfa: true }, as: 'carol', expect: 'SUCCESS' },
  { rule: 'acr_values', lines: () => ['acr_values https://refeds.org/profile/mfa'], facts: { mfa: false }, as: 'carol', expect: 'AUTH_ERR', message: /class https:\/\/refeds\.org\/profile\/mfa/ },
  { rule: 'groups', lines: () => ['groups_claim groups', 'allowed_groups hpc-users'], facts: { groups: ['staff', 'hpc-users'] }, as: 'carol', expect: 'SUCCESS' },
  { rule: 'groups', lines: () => ['groups_claim groups', 'allowed_groups hpc-users'], facts: { groups: ['staff'] }, as: 'carol', expect: 'AUTH_ERR', message: /admits members of hpc-users only/ },
  { rule: 'uid', lines: () => ['jwt_uid_claim uidNumber'], facts: { uid: 'own' }, as: 'carol', expect: 'SUCCESS' },
  { rule: 'uid', lines: () => ['jwt_uid_claim uidNumber'], facts: { uid: 'other' }, as: 'carol', expect: 'USER_UNKNOWN' },
];

const outcomeOf = (output: string): string => (Object.entries(PAM_TEXT).find(([, text]) => output.includes(text))?.[0] ?? 'unknown');

async function people(t: Teardown): Promise<{ carol: TestUser; dave: TestUser }> {
  return { carol: await createTestUser(t), dave: await createTestUser(t) };
}

function globusWorld(t: Teardown, idp: TestIdp, users: { carol: TestUser; dave: TestUser }): World {
  return {
    homeIdp: 'example.org',
    refusedAtStart: ['acr_values', 'groups', 'uid'],
    async start(lines) {
      const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${users.carol.name}\nbob@example.org ${users.dave.name}\n`, lines });
      return async (facts, as) => {
        const token = await tokenFor(idp, 'alice@example.org', { mfa: facts.mfa ?? false, authAge: facts.authAge ?? 0 });
        const r = await pamtester(server.service, users[as].name, ['authenticate'], `${token}\n`);
        return { outcome: outcomeOf(r.output), messages: r.messages };
      };
    },
  };
}

/** carol's token from the OIDC provider: her claims as the admin's mappers put them, her login's facts, the `ssh` scope admins create. */
function oidcWorld(t: Teardown, source: OidcTokenSource, users: { carol: TestUser; dave: TestUser }, profile: (dir: string) => Promise<string[]>, scope: string): World {
  return {
    homeIdp: '127.0.0.1',
    refusedAtStart: [],
    async start(lines) {
      const server = await startServerWithLines(t, async (dir) => [...(await profile(dir)), ...lines]);
      return async (facts, as) => {
        const uid = facts.uid === 'other' ? users.dave.uid : users.carol.uid;
        const claims = { preferred_username: users.carol.name, groups: facts.groups ?? [], uidNumber: uid };
        const token = await source.token({ accountId: 'carol', claims, mfa: facts.mfa ?? false, authAge: facts.authAge ?? 0, scope });
        const r = await pamtester(server.service, users[as].name, ['authenticate'], `${token}\n`);
        return { outcome: outcomeOf(r.output), messages: r.messages };
      };
    },
  };
}

async function runTable(t: ExecutionContext, world: World): Promise<void> {
  for (const c of CASES) {
    const name = `${c.rule}: carol as ${c.as} (${JSON.stringify(c.facts)}) -> ${c.expect}`;
    if (world.refusedAtStart.includes(c.rule)) {
      const error = await t.throwsAsync(world.start(c.lines(world)), { instanceOf: ConfigError }, name);
      t.regex(error!.message, /cannot apply to Globus Auth tokens|applies to JWT access tokens/, name);
      continue;
    }
    const login = await world.start(c.lines(world));
    const result = await login(c.facts, c.as);
    t.is(result.outcome, c.expect, `${name}: ${result.messages}`);
    if (c.message) t.regex(result.messages, c.message, name);
  }
}

test('Globus introspection (dev IdP): the decision table', async (t) => {
  const idp = await startTestIdp(t);
  await runTable(t, globusWorld(t, idp, await people(t)));
});

test('JWTs from an OIDC provider: the decision table; its `ssh` scope grants no account', async (t) => {
  const users = await people(t);
  const source = await startOidcTokenSource(t, 'jwt', ['carol']);
  await runTable(t, oidcWorld(t, source, users, async () => ['auth_method oidc', `oidc_issuers ${source.issuer}`, `oidc_audience ${SSH_AUDIENCE}`, 'jwt_username_claim preferred_username'], 'openid ssh'));
});

test('opaque tokens by RFC 7662 introspection at the OIDC provider: the decision table', async (t) => {
  const users = await people(t);
  const source = await startOidcTokenSource(t, 'opaque', ['carol']);
  const profile = async (dir: string) => {
    await writeFile(join(dir, 'secret'), SERVER_SECRET, { mode: 0o600 });
    return ['auth_method oidc', `oidc_issuers ${source.issuer}`, `oidc_audience ${SSH_AUDIENCE}`, 'jwt_username_claim preferred_username', `introspection_issuer ${source.issuer}`, `introspection_client_id ${SERVER_CLIENT}`, `introspection_client_secret_file ${join(dir, 'secret')}`, `introspection_allowed_clients ${CLI_CLIENT}`];
  };
  await runTable(t, oidcWorld(t, source, users, profile, 'ssh'));
});

test('the SciTokens profile: the decision table; ssh:/USER grants USER only, a bare ssh nobody', async (t) => {
  const users = await people(t);
  const source = await startOidcTokenSource(t, 'jwt', ['carol']);
  await runTable(t, oidcWorld(t, source, users, async () => ['auth_method scitokens', `scitokens_issuers ${source.issuer}`, `scitokens_audience ${SSH_AUDIENCE}`], `ssh ssh:/${users.carol.name}`));
});

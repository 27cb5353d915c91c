/**
 * "In no configuration may one identity's token log in as an account that no
 * mapping rule gives that identity", as a test over the configuration space
 * the server supports: every combination of providers (Globus, OIDC and
 * SciTokens issuers, old and new key names), mapping rules (idp_suffix, map
 * files, username claim with suffix/prefix, the uid rule) and account rules
 * (allow_accounts, min_uid), against carol's tokens carrying every scope an
 * administrator might create (a bare `ssh`, `ssh:/dave`, ...). Each config is
 * parsed by the real parser, tokens are routed by the real router and judged
 * by the real policy and mapper; only the signature check is skipped (the
 * principal comes from the real claims-to-principal code). The oracle below
 * states the mapping rules from CONFIG.md, independently of the code.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServerConfig, type ServerConfig } from '../../server-pam/config.js';
import { decideLogin, type DecisionContext } from '../../server-pam/decide.js';
import type { LocalAccount } from '../../server-pam/passwd.js';
import { buildProviders } from '../../server-pam/providers.js';
import { createHttpStack } from '../../shared/providers/http-stack.js';
import { OidcIssuer } from '../../shared/providers/oidc-issuer.js';
import type { Principal } from '../../shared/providers/provider.js';

const ISSUER = 'https://idp.example.org';
const ID = '864f1f73-da90-4bcd-9a1c-30d9feb10907';
const ACCOUNTS: Record<string, LocalAccount> = Object.fromEntries(
  [['carol', 2001], ['dave', 2002], ['ext_carol', 2003], ['root', 0], ['oauth-ssh', 999], ['daemon', 1]].map(([name, uid]) => [name, { name: name as string, uid: uid as number, gid: uid as number, home: '/', shell: '/bin/sh' }]),
);
const lookup = async (name: string) => ACCOUNTS[name] ?? null;

const dir = mkdtempSync(join(tmpdir(), 'oauth-ssh-space-'));
/** carol's keys map to carol, dave's to dave: nothing maps carol to dave. */
const MAP = join(dir, 'accounts.map');
writeFileSync(MAP, ['carol@example.org carol', 'g-carol carol', 's-carol carol', 'carol carol', 'carol@corp.example carol', `s-carol@${ISSUER} carol`, 'dave@example.org dave', 's-dave dave', 'dave dave', 'dave@corp.example dave', `s-dave@${ISSUER} dave`, ''].join('\n'), { mode: 0o644 });

interface Case {
  text: string;
}

function* configs(): Generator<Case> {
  const setups = [
    ['globus'],
    ['globus', 'oidc_issuers'],
    ['globus', 'scitokens_issuers'],
    ['legacy_issuers'],
    ['oidc_issuers'],
    ['scitokens_issuers'],
  ];
  for (const setup of setups) {
    const globus = setup.includes('globus');
    const jwt = setup.some((s) => s !== 'globus');
    for (const idpSuffix of globus ? [null, 'example.org'] : [null]) {
      for (const map of [false, true]) {
        for (const usernameClaim of jwt ? [null, 'preferred_username', 'email', 'sub'] : [null]) {
          for (const suffix of usernameClaim ? [null, '@corp.example'] : [null]) {
            for (const prefix of usernameClaim ? [null, 'ext_'] : [null]) {
              for (const uid of jwt && !globus ? [false, true] : [false]) {
                for (const allow of [false, true]) {
                  for (const minUid of [null, 0]) {
                    const lines = [
                      `auth_method ${[globus && 'globus_auth', jwt && (setup.includes('legacy_issuers') ? 'scitokens' : 'oidc')].filter(Boolean).join(', ')}`,
                      ...(globus ? [`client_id ${ID}`, 'client_secret x'] : []),
                      ...(idpSuffix ? [`idp_suffix ${idpSuffix}`] : []),
                      ...(globus && !idpSuffix && !map ? ['idp_suffix nowhere.invalid'] : []),
                      ...(setup.includes('legacy_issuers') ? [`issuers ${ISSUER}`] : []),
                      ...(setup.includes('oidc_issuers') ? [`oidc_issuers ${ISSUER}`, 'oidc_audience https://ssh.example.org'] : []),
                      ...(setup.includes('scitokens_issuers') ? [`scitokens_issuers ${ISSUER}`] : []),
                      ...(jwt ? ['scitokens_audience https://ssh.example.org'] : []),
                      ...(map ? [`map_file ${MAP}`] : []),
                      ...(usernameClaim ? [`jwt_username_claim ${usernameClaim}`] : []),
                      ...(suffix ? [`jwt_username_suffix ${suffix}`] : []),
                      ...(prefix ? [`jwt_username_prefix ${prefix}`] : []),
                      ...(uid ? ['jwt_uid_claim uidNumber'] : []),
                      ...(allow ? ['allow_accounts root, dave, daemon'] : []),
                      ...(minUid !== null ? [`min_uid ${minUid}`] : []),
                    ];
                    yield { text: lines.join('\n') + '\n' };
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

/** carol's tokens: everything she or her provider's admin could put into them, including what names someone else. */
function* carolClaims(): Generator<Record<string, unknown>> {
  const base = { iss: ISSUER, aud: 'https://ssh.example.org', exp: 4_000_000_000 };
  // dave's Globus username and a Kelvin-sign look-alike of dave's: user-editable profile fields.
  for (const preferred of ['carol', 'carol@corp.example', 'dave@example.org', '\u212Aave@corp.example']) {
    // An unverified email is whatever carol typed into her profile: dave's, say (nOAuth).
    for (const [email, verified] of [['carol@corp.example', true], ['carol@corp.example', false], ['dave@corp.example', false]] as const) {
      for (const uidNumber of [2001, 2002]) {
        for (const scope of ['openid', 'openid profile ssh', 'ssh:/dave', 'ssh:dave ssh:/root']) {
          yield { ...base, sub: 's-carol', preferred_username: preferred, email, email_verified: verified, uidNumber, scope };
        }
      }
    }
  }
  // A sub that differs from dave's only in case names someone else.
  yield { ...base, sub: 'S-DAVE', preferred_username: 'carol', scope: 'openid', uidNumber: 2001 };
  yield { ...base, sub: 'DAVE', preferred_username: 'carol', scope: 'openid', uidNumber: 2001 };
}

const globusCarol = (scope: string): Principal => ({
  tokenHash: 'h', provider: { kind: 'globus', issuer: 'https://auth.globus.org', name: 'Globus Auth' }, subject: 'g-carol', displayName: 'carol@example.org', auditIdentity: 'carol@example.org',
  clientId: 'c', scopes: [scope], expiresAt: 4_000_000_000, groups: null, posixUid: null, unreadableClaims: [], claims: {},
  identities: [{ id: 'g-carol', username: 'carol@example.org', idp: null }, { id: 'g-carol-lab', username: 'carol@lab.example.net', idp: null }],
  authentications: [],
});

/** The mapping rules of CONFIG.md, stated independently: the accounts some rule gives carol. */
function givenByRules(config: ServerConfig, p: Principal): Set<string> {
  const given = new Set<string>();
  const lowerAscii = (v: string) => v.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const mapped = (key: string, foldCase: boolean) => {
    for (const [k, accounts] of config.accountMap) if (foldCase ? lowerAscii(k) === lowerAscii(key) : k === key) accounts.forEach((a) => given.add(a));
  };
  if (p.provider.kind === 'globus') {
    for (const i of p.identities) {
      if (config.idpSuffix && lowerAscii(i.username).endsWith(`@${config.idpSuffix}`) && i.username.indexOf('@') === i.username.lastIndexOf('@')) given.add(i.username.split('@')[0]!);
      mapped(i.username, true);
      mapped(i.id, true);
    }
    return given;
  }
  if (p.provider.kind === 'scitokens') {
    for (const s of p.scopes) {
      const m = /^ssh:\/?([a-z_][a-z0-9_.-]*)$/.exec(s);
      if (m) given.add(m[1]!);
    }
  } else if (config.claims.usernameClaim) {
    const c = p.claims;
    const claim = config.claims.usernameClaim;
    const value = claim === 'email' && c.email_verified !== true ? '' : String(c[claim] ?? '');
    const suffix = config.claims.usernameSuffix ?? '';
    if (value && lowerAscii(value).endsWith(lowerAscii(suffix)) && value.length > suffix.length) given.add((config.claims.usernamePrefix ?? '') + value.slice(0, value.length - suffix.length));
    mapped(`${c.sub}@${p.provider.issuer}`, false);
    // Bare keys only where one provider reads the map files.
    const readers = (config.globus ? 1 : 0) + config.jwtIssuers.filter((i) => i.kind === 'oidc').length;
    if (readers === 1) {
      mapped(String(c.sub), false);
      if (value) mapped(value, false);
      if (c.email_verified === true) mapped(String(c.email), true);
    }
  }
  if (config.claims.uidClaim) for (const a of [...given]) if (ACCOUNTS[a]?.uid !== p.posixUid) given.delete(a);
  return given;
}

const unsignedJwt = (claims: Record<string, unknown>) => `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

test('no configuration lets carol\'s token log in as an account that no mapping rule gives her', async (t) => {
  let configsTried = 0;
  let decisions = 0;
  const admitted = new Map<string, number>();
  for (const { text } of configs()) {
    let config: ServerConfig;
    try {
      config = parseServerConfig(text, 'space.conf', () => {});
    } catch {
      continue; // a refused config logs nobody in
    }
    configsTried++;
    const set = buildProviders(config);
    const oidc = new OidcIssuer({ issuer: ISSUER, kind: config.jwtIssuers[0]?.kind ?? 'oidc', audiences: [], groupsClaim: null, uidClaim: config.claims.uidClaim, userinfoUrl: null, http: createHttpStack({ timeoutSeconds: 1 }) });
    const tokens: Array<{ token: string; principal: Principal }> = [];
    for (const scope of ['https://auth.globus.org/scopes/ssh.example.org/ssh', 'ssh']) tokens.push({ token: 'opaque-globus-token', principal: globusCarol(scope) });
    for (const claims of carolClaims()) tokens.push({ token: unsignedJwt(claims), principal: await oidc.principal(claims as Record<string, unknown> & { sub: string }, 'x') });
    for (const { token, principal } of tokens) {
      // The real router picks the provider; its verifier is replaced by the already-verified principal.
      const providers = set.providers.map((p) => ({ ...p, verifier: { verify: async () => ({ ...principal, provider: { ...principal.provider, kind: p.kind } }) } }));
      const ctx: DecisionContext = { providers, policy: config.policy, rules: { accountMap: config.accountMap, minUid: config.minUid, allowAccounts: config.allowAccounts, queryAccount: config.queryAccount }, lookup, hostName: () => null };
      for (const user of ['dave', 'root', 'carol', 'ext_carol']) {
        decisions++;
        const decision = await decideLogin(ctx, token, user);
        if (decision.result !== 'SUCCESS') continue;
        const given = givenByRules(config, decision.principal!);
        if (!given.has(user)) t.fail(`carol logged in as ${user}, which no rule gives her:\n${text}token scope: ${principal.scopes.join(' ')}\nclaims: ${JSON.stringify(principal.claims)}\nreason: ${decision.reason}`);
        admitted.set(decision.principal!.provider.kind, (admitted.get(decision.principal!.provider.kind) ?? 0) + 1);
      }
    }
    await set.close();
  }
  // Not vacuous: every provider kind admitted carol somewhere, through the rules.
  t.true(configsTried > 500, `${configsTried} configurations`);
  for (const kind of ['globus', 'oidc', 'scitokens']) t.true((admitted.get(kind) ?? 0) > 0, `${kind} admitted someone`);
  t.log(`${configsTried} configurations, ${decisions} decisions, admitted: ${JSON.stringify(Object.fromEntries(admitted))}`);
});

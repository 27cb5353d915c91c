import test from 'ava';
import { SessionViolationError } from '../../shared/errors.js';
import type { Authentication, LinkedIdentity, Principal } from '../../shared/providers/provider.js';
import { candidateAccounts, permittedAccounts, scopeGrantedAccounts, type AccountRules, type MappingProfile } from '../../server-pam/accounts.js';
import type { LocalAccount } from '../../server-pam/passwd.js';
import { checkSessionPolicy, policyDescription, type SessionPolicy } from '../../server-pam/policy.js';

const NOW = 1_800_000_000;
const uni = { id: 'f081479c-26e7-43a1-8731-0b7d90e9e808', name: 'Example University', domains: ['example.org'] };
const lab = { id: 'e602e893-228d-42ef-afd0-0c68428e4f8b', name: 'Example Lab', domains: ['lab.example.net'] };
const advice = { freshLogin: 'run `oauth-ssh login host.example --force-login`' };

function principal(authentications: Array<Partial<Authentication>>, extra: Partial<Principal> = {}): Principal {
  return {
    tokenHash: 'abc', provider: { kind: 'globus', issuer: 'https://auth.globus.org', name: 'Globus Auth' }, subject: 's', displayName: 'alice@example.org', auditIdentity: 'alice@example.org',
    clientId: 'c', scopes: [], expiresAt: NOW + 100, identities: [], groups: null, posixUid: null, unreadableClaims: [], claims: {},
    authentications: authentications.map((a, i) => ({ identityId: `id${i}`, idp: uni, authTime: NOW, amr: [], acr: null, ...a })),
    ...extra,
  };
}
const policy = (p: Partial<SessionPolicy>): SessionPolicy => ({ permittedIdps: [], maxAuthAge: null, mfa: false, acrValues: [], amrValues: [], allowedGroups: [], ...p });
const check = (p: Principal, pol: SessionPolicy) => checkSessionPolicy(p, pol, advice, NOW);

test('no policy: anything passes, even a session without authentications', (t) => {
  t.is(check(principal([]), policy({})), undefined);
});

test('one authentication must satisfy every condition at once', (t) => {
  // A fresh login without MFA and an old one with MFA: neither alone satisfies both.
  const split = principal([{ authTime: NOW - 60 }, { authTime: NOW - 7200, amr: ['mfa'] }]);
  t.throws(() => check(split, policy({ maxAuthAge: 1800, mfa: true })), { instanceOf: SessionViolationError });
  const both = principal([{ authTime: NOW - 60 }, { authTime: NOW - 120, amr: ['pwd', 'mfa'], idp: lab }]);
  t.is(check(both, policy({ maxAuthAge: 1800, mfa: true, permittedIdps: ['lab.example.net'] }))?.idp, lab);
});

test('the age limit is inclusive, from auth_time', (t) => {
  t.truthy(check(principal([{ authTime: NOW - 3600 }]), policy({ maxAuthAge: 3600 })));
  const err = t.throws(() => check(principal([{ authTime: NOW - 3601 }]), policy({ maxAuthAge: 3600 })));
  t.is(err!.message, 'your last login at Example University was 60 min ago; this host requires one within 60 min: run `oauth-ssh login host.example --force-login`');
});

test('permitted_idps by UUID or domain; unknown IdPs never match', (t) => {
  t.truthy(check(principal([{ idp: lab }]), policy({ permittedIdps: [lab.id] })));
  t.truthy(check(principal([{ idp: lab }]), policy({ permittedIdps: ['lab.example.net'] })));
  t.throws(() => check(principal([{ idp: null }]), policy({ permittedIdps: ['lab.example.net'] })), { message: /accepts logins only from lab\.example\.net; your session is from an unknown identity provider/ });
});

test('MFA: "mfa" in amr, or an MFA acr; acr and amr rules', (t) => {
  t.truthy(check(principal([{ amr: ['pwd', 'mfa'] }]), policy({ mfa: true })));
  t.truthy(check(principal([{ amr: null, acr: 'https://refeds.org/profile/mfa' }]), policy({ mfa: true })));
  t.throws(() => check(principal([{ amr: ['pwd'] }]), policy({ mfa: true })), { message: /requires multi-factor authentication/ });
  t.truthy(check(principal([{ acr: 'gold' }]), policy({ acrValues: ['silver', 'gold'] })));
  t.throws(() => check(principal([{ acr: 'bronze' }]), policy({ acrValues: ['gold'] })), { message: /class gold/ });
  t.truthy(check(principal([{ amr: ['hwk'] }]), policy({ amrValues: ['hwk', 'otp'] })));
  t.throws(() => check(principal([{ amr: ['pwd'] }]), policy({ amrValues: ['hwk'] })), { message: /authentication by hwk/ });
});

test('a fact the provider does not send is refused, naming the claim (never waved through)', (t) => {
  const glewlwyd = (a: Partial<Authentication>) => principal([{ authTime: null, amr: null, acr: null, ...a }], { provider: { kind: 'oidc', issuer: 'https://glewlwyd.example', name: 'https://glewlwyd.example' } });
  t.throws(() => check(glewlwyd({}), policy({ maxAuthAge: 60 })), { message: /needs the authentication time \(auth_time\) of your login, and tokens from https:\/\/glewlwyd\.example carry none \(the provider does not send it\)/ });
  t.throws(() => check(glewlwyd({}), policy({ mfa: true })), { message: /amr or acr/ });
  t.throws(() => check(glewlwyd({}), policy({ acrValues: ['gold'] })), { message: /\(acr\)/ });
  t.throws(() => check(glewlwyd({}), policy({ amrValues: ['hwk'] })), { message: /\(amr\)/ });
  t.throws(() => check(principal([], { groups: null }), policy({ allowedGroups: ['hpc'] })), { message: /needs the groups/ });
  t.throws(() => check(principal([], { groups: ['staff'] }), policy({ allowedGroups: ['hpc'] })), { message: /admits members of hpc only/ });
  t.is(check(principal([], { groups: ['staff', 'hpc'] }), policy({ allowedGroups: ['hpc'] })), undefined, 'the group rule needs no authentication');
  t.throws(() => check(principal([]), policy({ mfa: true })), { message: /carries no record of your login/ });
});

test('IdP names are sanitized before they reach a terminal', (t) => {
  const evil = { ...uni, name: 'Evil\u001b[2J\u001b]0;pwned\u0007 IdP' };
  const err = t.throws(() => check(principal([{ idp: evil, authTime: NOW - 9999 }]), policy({ maxAuthAge: 60 })));
  t.false(/[\u001b\u0007]/.test(err!.message));
  t.true(err!.message.includes('Evil?[2J?]0;pwned? IdP'));
});

test('the policy reply describes what is enforced: minutes rounded down, never 0 for a set limit', (t) => {
  t.like(policyDescription(policy({ maxAuthAge: 5400, mfa: true }), []), { authentication_timeout: 90, max_auth_age: 5400, mfa: true, permitted_idps: null });
  t.like(policyDescription(policy({ maxAuthAge: 30 }), []), { authentication_timeout: 1 });
  t.like(policyDescription(policy({}), ['https://i']), { authentication_timeout: null, issuers: ['https://i'] });
});

const identity = (username: string, id = `id-${username}`): LinkedIdentity => ({ id, username, idp: null });
const NONE: MappingProfile = { idpSuffix: null, mapFileKeys: 'none', usernameClaim: null, usernameSuffix: null, usernamePrefix: null, scopeGrants: false, uidRule: false };
const globus = (p: Partial<MappingProfile> = {}): MappingProfile => ({ ...NONE, mapFileKeys: 'identity', ...p });
const rules = (r: Partial<AccountRules> = {}): AccountRules => ({ accountMap: new Map(), minUid: 1000, allowAccounts: [], queryAccount: 'oauth-ssh', ...r });
const names = (p: Principal, profile: MappingProfile, map = new Map<string, string[]>()) => candidateAccounts(p, profile, map).map((a) => a.name);

test('candidates: idp_suffix splits at the first @; map files by username or UUID; no duplicates', (t) => {
  const ids = [identity('doe@abc.com@accounts.google.com'), identity('jd@example.org', 'UUID-1'), identity('other@else.org')];
  const map = new Map([['jd@example.org', ['jd', 'ops']], ['uuid-1', ['ops', 'svc']]]);
  t.deepEqual(names(principal([], { identities: ids }), globus({ idpSuffix: 'abc.com@accounts.google.com' }), map), ['doe', 'jd', 'ops', 'svc']);
  t.deepEqual(names(principal([], { identities: [identity('doe@accounts.google.com')] }), globus({ idpSuffix: 'abc.com@accounts.google.com' })), []);
});

test('OIDC claims: username claim with suffix and prefix; map files by sub, username and only a verified email', (t) => {
  const oidc = (claims: Record<string, unknown>) => principal([], { subject: String(claims.sub), claims, identities: [identity(`${claims.sub}@https://i`, String(claims.sub))] });
  const profile = { ...NONE, mapFileKeys: 'claims' as const, usernameClaim: 'preferred_username', usernameSuffix: '@corp.example', usernamePrefix: 'ext_' };
  t.deepEqual(names(oidc({ sub: 's1', preferred_username: 'jo@corp.example' }), profile), ['ext_jo']);
  t.deepEqual(names(oidc({ sub: 's1', preferred_username: 'jo@elsewhere.example' }), profile), []);
  const map = new Map([['ops@corp.example', ['ops']], ['s9', ['svc']]]);
  t.deepEqual(names(oidc({ sub: 's2', email: 'ops@corp.example', email_verified: true }), profile, map), ['ops']);
  t.deepEqual(names(oidc({ sub: 's2', email: 'ops@corp.example' }), profile, map), [], 'an unverified email names no account');
  t.deepEqual(names(oidc({ sub: 's9' }), profile, map), ['svc']);
  t.deepEqual(names(oidc({ sub: 's9', preferred_username: 'x' }), { ...profile, mapFileKeys: 'none' }, map), [], 'map files only where the profile applies them');
});

test('scope grants: ssh:/USER and ssh:USER for the SciTokens profile only; a bare ssh grants nothing', (t) => {
  t.deepEqual(scopeGrantedAccounts(['read:/data', 'ssh:/alice', 'ssh:bob', 'ssh', 'ssh:', 'ssh:/', 'ssh:/../etc', 'sshx:/carol']), ['alice', 'bob']);
  const p = principal([], { scopes: ['ssh:/alice', 'ssh'], identities: [identity('x@i')] });
  t.deepEqual(names(p, { ...NONE, scopeGrants: true }), ['alice']);
  t.deepEqual(names(p, { ...NONE, mapFileKeys: 'claims', usernameClaim: 'preferred_username' }), [], 'an OIDC issuer\'s scope grants nothing');
});

test('permitted: existing, not the query account, not root or below the floor unless allowed; the uid rule', async (t) => {
  const accounts: Record<string, LocalAccount> = {
    alice: { name: 'alice', uid: 1001, gid: 1001, home: '/home/alice', shell: '/bin/sh' },
    daemon: { name: 'daemon', uid: 1, gid: 1, home: '/', shell: '/usr/sbin/nologin' },
    root: { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/sh' },
    'oauth-ssh': { name: 'oauth-ssh', uid: 999, gid: 999, home: '/', shell: '/usr/sbin/nologin' },
  };
  const lookup = async (name: string) => accounts[name] ?? null;
  const map = new Map([['a@example.org', ['alice', 'ghost', 'daemon', 'root', 'oauth-ssh']]]);
  const p = principal([], { identities: [identity('a@example.org')] });
  const permitted = async (r: Partial<AccountRules>, profile = globus(), who = p) => (await permittedAccounts(who, profile, rules({ accountMap: map, ...r }), lookup)).map((a) => a.name);
  t.deepEqual(await permitted({}), ['alice']);
  t.deepEqual(await permitted({ allowAccounts: ['daemon', 'root'] }), ['alice', 'daemon', 'root']);
  t.deepEqual(await permitted({ minUid: 0 }), ['alice', 'daemon'], 'root needs its name in allow_accounts even with min_uid 0');
  t.deepEqual(await permitted({ minUid: 0, allowAccounts: ['oauth-ssh'] }), ['alice', 'daemon'], 'the query account never');
  t.deepEqual(await permitted({}, globus({ uidRule: true }), { ...p, posixUid: 1001 }), ['alice']);
  t.deepEqual(await permitted({}, globus({ uidRule: true }), { ...p, posixUid: 1002 }), [], 'another uid');
  t.deepEqual(await permitted({}, globus({ uidRule: true }), { ...p, posixUid: null }), [], 'no uid vouched for');
});

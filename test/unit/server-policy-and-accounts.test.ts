import test from 'ava';
import { SessionViolationError } from '../../shared/errors.js';
import type { LinkedIdentity, SessionAuthentication, VerifiedToken } from '../../shared/providers/provider.js';
import { candidateAccounts, permittedAccounts, type MappingRules } from '../../server-pam/accounts.js';
import type { LocalAccount } from '../../server-pam/passwd.js';
import { checkSessionPolicy } from '../../server-pam/policy.js';

const NOW = 1_800_000_000;
const uni = { id: 'f081479c-26e7-43a1-8731-0b7d90e9e808', name: 'Example University', domains: ['example.org'] };
const lab = { id: 'e602e893-228d-42ef-afd0-0c68428e4f8b', name: 'Example Lab', domains: ['lab.example.net'] };

function token(authentications: Array<Partial<SessionAuthentication>>): VerifiedToken {
  return {
    tokenHash: 'abc', subject: 's', username: 'alice@example.org', clientId: 'c', scopes: [], expiresAt: NOW + 100, identities: [],
    authentications: authentications.map((a, i) => ({ identityId: `id${i}`, idp: uni, authTime: NOW, amr: [], ...a })),
  };
}
const policy = (p: Partial<Parameters<typeof checkSessionPolicy>[1]>) => ({ permittedIdps: [], authenticationTimeout: null, mfa: false, ...p });

test('no policy: anything passes, even a session without authentications', (t) => {
  t.is(checkSessionPolicy(token([]), policy({}), 'h', NOW), undefined);
});

test('one authentication must satisfy every condition at once', (t) => {
  // A fresh login without MFA and an old one with MFA: neither alone satisfies both.
  const split = token([{ authTime: NOW - 60 }, { authTime: NOW - 7200, amr: ['mfa'] }]);
  t.throws(() => checkSessionPolicy(split, policy({ authenticationTimeout: 30, mfa: true }), 'h', NOW), { instanceOf: SessionViolationError });
  const both = token([{ authTime: NOW - 60 }, { authTime: NOW - 120, amr: ['pwd', 'mfa'], idp: lab }]);
  t.is(checkSessionPolicy(both, policy({ authenticationTimeout: 30, mfa: true, permittedIdps: ['lab.example.net'] }), 'h', NOW)?.idp, lab);
});

test('authentication_timeout is inclusive, in minutes from auth_time', (t) => {
  t.truthy(checkSessionPolicy(token([{ authTime: NOW - 3600 }]), policy({ authenticationTimeout: 60 }), 'h', NOW));
  const err = t.throws(() => checkSessionPolicy(token([{ authTime: NOW - 3601 }]), policy({ authenticationTimeout: 60 }), 'host.example', NOW));
  t.is(err!.message, 'your last login at Example University was 60 min ago; this host requires one within 60 min: run `oauth-ssh login host.example --force-login`');
});

test('permitted_idps by UUID or domain; unknown IdPs never match', (t) => {
  t.truthy(checkSessionPolicy(token([{ idp: lab }]), policy({ permittedIdps: [lab.id] }), 'h', NOW));
  t.truthy(checkSessionPolicy(token([{ idp: lab }]), policy({ permittedIdps: ['lab.example.net'] }), 'h', NOW));
  t.throws(() => checkSessionPolicy(token([{ idp: null }]), policy({ permittedIdps: ['lab.example.net'] }), 'h', NOW), { message: /accepts logins only from lab\.example\.net; your session is from an unknown identity provider/ });
});

test('IdP names are sanitized before they reach a terminal', (t) => {
  const evil = { ...uni, name: 'Evil\u001b[2J\u001b]0;pwned\u0007 IdP' };
  const err = t.throws(() => checkSessionPolicy(token([{ idp: evil, authTime: NOW - 9999 }]), policy({ authenticationTimeout: 1 }), 'h', NOW));
  t.false(/[\u001b\u0007]/.test(err!.message));
  t.true(err!.message.includes('Evil?[2J?]0;pwned? IdP'));
});

const identity = (username: string, id = `id-${username}`): LinkedIdentity => ({ id, username, idp: null });
const rules = (r: Partial<MappingRules>): MappingRules => ({ idpSuffix: null, accountMap: new Map(), minUid: 1000, allowAccounts: [], queryAccount: 'oauth-ssh', ...r });

test('candidates: idp_suffix splits at the first @; map files by username or UUID; no duplicates', (t) => {
  const ids = [identity('doe@abc.com@accounts.google.com'), identity('jd@example.org', 'UUID-1'), identity('other@else.org')];
  const map = new Map([['jd@example.org', ['jd', 'ops']], ['uuid-1', ['ops', 'svc']]]);
  t.deepEqual(candidateAccounts(ids, rules({ idpSuffix: 'abc.com@accounts.google.com', accountMap: map })).map((a) => a.name), ['doe', 'jd', 'ops', 'svc']);
  t.deepEqual(candidateAccounts([identity('doe@accounts.google.com')], rules({ idpSuffix: 'abc.com@accounts.google.com' })), []);
});

test('permitted: existing, not the query account, not root or below the floor unless allowed', async (t) => {
  const accounts: Record<string, LocalAccount> = {
    alice: { name: 'alice', uid: 1001, gid: 1001, home: '/home/alice', shell: '/bin/sh' },
    daemon: { name: 'daemon', uid: 1, gid: 1, home: '/', shell: '/usr/sbin/nologin' },
    root: { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/sh' },
    'oauth-ssh': { name: 'oauth-ssh', uid: 999, gid: 999, home: '/', shell: '/usr/sbin/nologin' },
  };
  const lookup = async (name: string) => accounts[name] ?? null;
  const map = new Map([['a@example.org', ['alice', 'ghost', 'daemon', 'root', 'oauth-ssh']]]);
  const names = async (r: Partial<MappingRules>) => (await permittedAccounts([identity('a@example.org')], rules({ accountMap: map, ...r }), lookup)).map((a) => a.name);
  t.deepEqual(await names({}), ['alice']);
  t.deepEqual(await names({ allowAccounts: ['daemon', 'root'] }), ['alice', 'daemon', 'root']);
  t.deepEqual(await names({ minUid: 0 }), ['alice', 'daemon'], 'root needs its name in allow_accounts even with min_uid 0');
  t.deepEqual(await names({ minUid: 0, allowAccounts: ['oauth-ssh'] }), ['alice', 'daemon'], 'the query account never');
});

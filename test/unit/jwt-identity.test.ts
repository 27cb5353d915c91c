import test from 'ava';
import { accountsFromClaims, claimAt, type JwtIdentityRules } from '../../server-pam/jwt-identity.js';

const rules = (r: Partial<JwtIdentityRules>): JwtIdentityRules => ({ userinfoUrl: null, usernameClaim: 'preferred_username', usernameSuffix: null, usernamePrefix: null, groupsClaim: null, allowedGroups: [], uidClaim: null, maxAuthAge: null, acrValues: [], amrValues: [], ...r });

test('username claim with suffix stripping and a prefix; map files by sub, username or email', (t) => {
  const map = new Map([['s-123', ['svc']], ['ann@corp.example', ['ann2']]]);
  t.deepEqual(accountsFromClaims({ preferred_username: 'ann@corp.example', sub: 's-123' }, rules({ usernameSuffix: '@corp.example', usernamePrefix: 'ext_' }), map), ['ext_ann', 'svc', 'ann2']);
  t.deepEqual(accountsFromClaims({ preferred_username: 'ann@other.example' }, rules({ usernameSuffix: '@corp.example' }), new Map()), [], 'a username without the suffix maps to nothing');
  t.deepEqual(accountsFromClaims({ email: 'ann@corp.example' }, rules({}), map), ['ann2']);
});

test('claim paths reach into SCIM extensions', (t) => {
  const claims = { 'urn:ietf:params:scim:schemas:oracle:idcs:extension:posix:User': { uidNumber: 2001 } };
  t.is(claimAt(claims, 'urn:ietf:params:scim:schemas:oracle:idcs:extension:posix:User/uidNumber'), 2001);
  t.is(claimAt(claims, 'missing/uidNumber'), undefined);
  t.is(claimAt({ a: [1] }, 'a/0'), undefined, 'no indexing into arrays');
});

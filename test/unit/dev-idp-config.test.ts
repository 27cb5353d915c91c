import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../shared/errors.js';
import { loadDevIdpConfig, parseDevIdpConfig } from '../../shared/dev-idp/config.js';
import { testIdpDocument } from '../helpers/dev-idp.js';
import { tempDir } from '../helpers/temp.js';

test('the example config in the repository parses', (t) => {
  const config = loadDevIdpConfig('shared/dev-idp/example.yaml');
  t.is(config.users.length, 2);
  t.is(config.users[0]!.identities[1]!.idp, 'e602e893-228d-42ef-afd0-0c68428e4f8b', 'idp given by domain resolves to its id');
  t.is(config.clients.find((c) => c.secret === null)!.name, 'oauth-ssh command line');
});

test('defaults fill what the file leaves out', (t) => {
  const config = parseDevIdpConfig({});
  t.is(config.lifetimes.accessToken, 3600);
  t.true(config.rotateRefreshTokens);
  t.is(config.scopePrefix, 'https://auth.globus.org/scopes/');
  t.is(config.issuer, null);
});

const identity = (over: Record<string, unknown>) => ({ users: [{ identities: [{ id: '45290100-050a-4fed-ac7f-36a3eb655210', username: 'x@example.org', idp: 'example.org', ...over }] }] });
const client = (over: Record<string, unknown>) => ({ clients: [{ id: '864f1f73-da90-4bcd-9a1c-30d9feb10907', ...over }] });

/** Each case: what is wrong, the keys that replace the valid test document's, the message expected. */
const bad: Array<[string, Record<string, unknown>, RegExp]> = [
  ['unknown top-level key', { colour: 'blue' }, /unknown key "colour"/],
  ['identity with unknown idp', identity({ idp: 'nowhere.org' }), /users\[0\]\.identities\[0\]\.idp: expected the id or a domain/],
  ['username without @', identity({ username: 'alice' }), /user@idp\.domain/],
  ['client id not a UUID', { clients: [{ id: 'abc' }] }, /clients\[0\]\.id: expected a UUID/],
  ['unknown grant type', client({ grant_types: ['password'] }), /grant_types\[0\]: expected one of/],
  ['relative redirect URI', client({ redirect_uris: ['/cb'] }), /expected an absolute URL/],
  ['negative lifetime', { lifetimes: { access_token: -1 } }, /lifetimes\.access_token: expected a positive integer/],
  ['user without identities', { users: [{ identities: [] }] }, /at least one identity/],
];

for (const [name, override, message] of bad) {
  test(`refused with a message naming the place: ${name}`, (t) => {
    const err = t.throws(() => parseDevIdpConfig(testIdpDocument(override), 'idp.yaml'), { instanceOf: ConfigError });
    t.regex(err!.message, /^idp\.yaml: /);
    t.regex(err!.message, message);
  });
}

test('duplicate identities are refused', (t) => {
  const doc = testIdpDocument();
  const users = doc.users as Array<{ identities: unknown[] }>;
  users[1]!.identities.push(users[0]!.identities[0]);
  t.throws(() => parseDevIdpConfig(doc), { message: /listed twice/ });
});

test('unreadable and unparsable files are named with the fix', async (t) => {
  const dir = await tempDir(t);
  t.throws(() => loadDevIdpConfig(join(dir, 'missing.yaml')), { message: /missing\.yaml: cannot read: ENOENT; pass an existing file with --config/ });
  const broken = join(dir, 'broken.yaml');
  await writeFile(broken, 'users: [\n  - a: b\n  c');
  t.throws(() => loadDevIdpConfig(broken), { message: /broken\.yaml:\d+: not valid JSON or YAML/ });
  const json = join(dir, 'ok.json');
  await writeFile(json, JSON.stringify(testIdpDocument()));
  t.is(loadDevIdpConfig(json).clients.length, 3, 'JSON works as well as YAML');
});

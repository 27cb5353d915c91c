import test from 'ava';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../shared/errors.js';
import { loadServerConfig, parseServerConfig } from '../../server-pam/config.js';
import { parseMapFile } from '../../server-pam/map-file.js';
import { tempDir } from '../helpers/temp.js';

const ID = '864f1f73-da90-4bcd-9a1c-30d9feb10907';

async function configFile(t: Parameters<typeof tempDir>[0], text: string, mode = 0o600): Promise<string> {
  const dir = await tempDir(t);
  const file = join(dir, 'oauth-ssh.conf');
  await writeFile(file, text);
  await chmod(file, mode);
  return file;
}

test('the Globus/XSEDE grammar: comments anywhere, commas and spaces, merged multi-value keys', async (t) => {
  const file = await configFile(t, `# server\nclient_id ${ID}   # the SSH service\nclient_secret s3cret\nidp_suffix Example.ORG\npermitted_idps example.org, ${ID.toUpperCase()}\npermitted_idps lab.example.net\nauthentication_timeout 0\nmfa TRUE\nenvironment preview\n`);
  const config = loadServerConfig(file);
  t.is(config.clientSecret, 's3cret');
  t.is(config.idpSuffix, 'example.org');
  t.deepEqual(config.policy.permittedIdps, ['example.org', ID, 'lab.example.net']);
  t.is(config.policy.maxAuthAge, null, '0 means no limit');
  t.true(config.policy.mfa);
  t.is(config.environment, 'preview');
  t.is(config.authUrl, 'https://auth.preview.globus.org');
  t.is(config.minUid, 1000);
  t.is(config.queryAccount, 'oauth-ssh');
  t.deepEqual(config.audit, { kind: 'syslog' });
  t.is(config.socketPath, '/run/oauth-ssh/pam.sock');
});

test('map files merge; keys are kept as written (Globus usernames are looked up ignoring ASCII case)', async (t) => {
  const dir = await tempDir(t);
  const a = join(dir, 'a.map');
  const b = join(dir, 'b.map');
  await writeFile(a, '# people\n  Alice@Example.org alice, ops\n\nalice@example.org alice2\n');
  await writeFile(b, `${ID} svc # service identity\n`);
  const file = await configFile(t, `client_id ${ID}\nclient_secret x\nmap_file ${a}\nmap_file ${b}\n`);
  const config = loadServerConfig(file);
  const { mappedAccounts } = await import('../../server-pam/map-file.js');
  t.deepEqual(mappedAccounts(config.accountMap, 'ALICE@example.org', true), ['alice', 'ops', 'alice2']);
  t.deepEqual(mappedAccounts(config.accountMap, 'alice@example.org', false), ['alice2'], 'exactly as written, for case-sensitive keys (an OIDC sub)');
  t.deepEqual(mappedAccounts(config.accountMap, ID, true), ['svc']);
  t.throws(() => parseMapFile('alice@example.org\n', 'm'), { message: /m:1: "alice@example.org" maps to no account/ });
  t.throws(() => parseMapFile('x@y.org ../etc\n', 'm'), { message: /not a valid account name/ });
});

const refusals: Array<[string, string, RegExp]> = [
  ['unknown key', `client_id ${ID}\nclient_secret x\nidp_suffix a.org\ncolour blue\n`, /:4: unknown key "colour"/],
  ['repeated single key', `client_id ${ID}\nclient_secret x\nidp_suffix a.org\nidp_suffix b.org\n`, /:4: "idp_suffix" is set twice \(first on line 3\)/],
  ['missing client_id', 'client_secret x\nidp_suffix a.org\n', /client_id is required/],
  ['Globus key in a JWT-only config', 'auth_method scitokens\nissuers https://t.example.org\nidp_suffix a.org\n', /"idp_suffix" belongs to auth_method globus_auth/],
  ['acr rule with Globus', `auth_method globus_auth oidc\noidc_issuers https://t.example.org\nclient_id ${ID}\nclient_secret x\nidp_suffix a.org\njwt_acr_values gold\n`, /:6: "jwt_acr_values" cannot apply to Globus Auth tokens \(Globus Auth reports no acr/],
  ['group rule with Globus', `auth_method globus_auth oidc\noidc_issuers https://t.example.org\nclient_id ${ID}\nclient_secret x\nidp_suffix a.org\ngroups_claim g\nallowed_groups x\n`, /"allowed_groups" cannot apply to Globus Auth tokens \(Globus introspection reports no groups/],
  ['uid rule with Globus', `auth_method globus_auth oidc\noidc_issuers https://t.example.org\nclient_id ${ID}\nclient_secret x\nidp_suffix a.org\njwt_uid_claim uidNumber\n`, /"jwt_uid_claim" cannot apply to Globus Auth tokens/],
  ['an issuer with two profiles', 'auth_method oidc\noidc_issuers https://t.example.org\nscitokens_issuers https://t.example.org/\n', /:3: issuer https:\/\/t\.example\.org is listed twice \(as oidc and as scitokens\): an issuer has one profile/],
  ['old and new name of one key', 'auth_method oidc\noidc_issuers https://t.example.org\njwt_max_auth_age 60\nmax_auth_age 60\n', /:4: "max_auth_age" is set twice \(first on line 3 as jwt_max_auth_age\)/],
  ['an unclosed quote', 'auth_method oidc\noidc_issuers https://t.example.org\noidc_audience "openid ssh\n', /:3: a double quote is not closed/],
  ['userinfo_url without the uid claim', 'auth_method oidc\noidc_issuers https://t.example.org\nuserinfo_url https://t.example.org/me\n', /userinfo_url is asked for the uid claim only/],
  ['missing secret', `client_id ${ID}\nidp_suffix a.org\n`, /client_secret \(or client_secret_file\) is required/],
  ['no mapping', `client_id ${ID}\nclient_secret x\n`, /set idp_suffix or at least one map_file/],
  ['bad timeout', `client_id ${ID}\nclient_secret x\nidp_suffix a.org\nauthentication_timeout soon\n`, /:4: "authentication_timeout" must be a whole number/],
  ['bad mfa', `client_id ${ID}\nclient_secret x\nidp_suffix a.org\nmfa maybe\n`, /mfa must be true or false/],
  ['scitokens without issuers', `auth_method globus_auth, scitokens\nclient_id ${ID}\nclient_secret x\nidp_suffix a.org\n`, /:1: auth_method scitokens needs "issuers"/],
  ['issuers without scitokens', `client_id ${ID}\nclient_secret x\nidp_suffix a.org\nissuers https://tokens.example.org\n`, /:4: "issuers" and "scitokens_audience" need auth_method oidc \(or scitokens\)/],
  ['jwt key without scitokens', `client_id ${ID}\nclient_secret x\nidp_suffix a.org\njwt_username_claim email\n`, /:4: "jwt_username_claim" applies to JWT access tokens: add oidc \(or scitokens\)/],
  ['allowed groups without the claim', `auth_method scitokens\nissuers https://t.example.org\njwt_allowed_groups x\n`, /jwt_allowed_groups needs groups_claim/],
  ['device_issuer not among issuers', 'auth_method scitokens\nissuers https://t.example.org\ndevice_issuer https://other.example.org\ndevice_client_id c\n', /device_issuer https:\/\/other\.example\.org must also be listed in "issuers"/],
  ['device_issuer without client', 'auth_method scitokens\nissuers https://t.example.org\ndevice_issuer https://t.example.org\n', /device_issuer needs device_client_id/],
  ['device key without device_issuer', 'auth_method scitokens\nissuers https://t.example.org\ndevice_client_id c\n', /"device_client_id" goes with device_issuer/],
  ['device_flow with nothing to run it', 'auth_method scitokens\nissuers https://t.example.org\ndevice_flow true\n', /device_flow needs auth_method globus_auth or a device_issuer/],
  ['odd QR margin', `client_id ${ID}\nclient_secret x\nidp_suffix a.org\ndevice_qr_margin 3\n`, /device_qr_margin must be 2 \(compact\) or 4/],
  ['plain-http issuer', `auth_method globus_auth scitokens\nissuers http://tokens.example.org\nclient_id ${ID}\nclient_secret x\nidp_suffix a.org\n`, /issuer "http:\/\/tokens\.example\.org" must be an https URL/],
  ['plain http off loopback', `client_id ${ID}\nclient_secret x\nidp_suffix a.org\nauth_url http://auth.example.org\n`, /must use https/],
  ['unknown environment', `client_id ${ID}\nclient_secret x\nidp_suffix a.org\nenvironment moon\n`, /unknown environment "moon"/],
  ['query account allowed to log in', `client_id ${ID}\nclient_secret x\nidp_suffix a.org\nallow_accounts oauth-ssh\n`, /can never log in/],
  ['bad audit target', `client_id ${ID}\nclient_secret x\nidp_suffix a.org\naudit_log somewhere\n`, /audit_log must be syslog, stderr or file:/],
  ['key without value', `client_id\n`, /:1: "client_id" needs a value/],
];
for (const [name, text, message] of refusals) {
  test(`refused, naming the line: ${name}`, (t) => {
    const err = t.throws(() => parseServerConfig(text, '/etc/oauth_ssh/oauth-ssh.conf', () => {}), { instanceOf: ConfigError });
    t.regex(err!.message, message);
  });
}

test('a secret readable by group or others, or a writable map file, refuses to start', async (t) => {
  const readable = await configFile(t, `client_id ${ID}\nclient_secret x\nidp_suffix a.org\n`, 0o640);
  t.throws(() => loadServerConfig(readable), { message: /readable or writable by group\/others \(mode 640\); run: chmod 600/ });

  const dir = await tempDir(t);
  const secret = join(dir, 'secret');
  await writeFile(secret, 'from-file\n', { mode: 0o644 });
  const viaFile = await configFile(t, `client_id ${ID}\nclient_secret_file ${secret}\nidp_suffix a.org\n`, 0o644);
  t.throws(() => loadServerConfig(viaFile), { message: /client_secret_file is readable/ });
  await chmod(secret, 0o600);
  t.is(loadServerConfig(viaFile).clientSecret, 'from-file', 'a config without a secret in it may be world-readable');

  const map = join(dir, 'open.map');
  await writeFile(map, 'a@b.org x\n');
  await chmod(map, 0o666);
  const withMap = await configFile(t, `client_id ${ID}\nclient_secret x\nmap_file ${map}\n`);
  t.throws(() => loadServerConfig(withMap), { message: /writable by group\/others \(mode 666\); run: chmod go-w/ });
});

test('files that decide who logs in are safe along their whole path, as sshd StrictModes wants', async (t) => {
  const { chown, mkdir } = await import('node:fs/promises');
  const dir = await tempDir(t);
  const config = (text: string) => configFile(t, text);
  // A map file owned by an ordinary user: they could add "theirname@example.org otheraccount".
  const map = join(dir, 'user.map');
  await writeFile(map, 'a@b.org x\n', { mode: 0o644 });
  await chown(map, 4242, 4242);
  const withUserMap = await config(`client_id ${ID}\nclient_secret x\nmap_file ${map}\n`);
  t.throws(() => loadServerConfig(withUserMap), { message: /map_file .* is owned by uid 4242; whoever owns it decides who logs in: chown root/ });
  // A config with mode 0666 (its secret in client_secret_file, so 0644 would be fine).
  const secret = join(dir, 'secret');
  await writeFile(secret, 's\n', { mode: 0o600 });
  const open = await configFile(t, `client_id ${ID}\nclient_secret_file ${secret}\nidp_suffix a.org\n`, 0o666);
  t.throws(() => loadServerConfig(open), { message: /the config file is writable by group\/others \(mode 666\)/ });
  // A directory above that others can write (and no sticky bit): they could swap the file.
  const shared = join(dir, 'shared');
  await mkdir(shared, { mode: 0o777 });
  await chmod(shared, 0o777);
  const inShared = join(shared, 'oauth-ssh.conf');
  await writeFile(inShared, `client_id ${ID}\nclient_secret_file ${secret}\nidp_suffix a.org\n`, { mode: 0o644 });
  t.throws(() => loadServerConfig(inShared), { message: /the directory .*shared above the config file is writable by group\/others \(mode 777\)/ });
  await chmod(shared, 0o1777);
  t.notThrows(() => loadServerConfig(inShared), 'a root-owned sticky directory (like /tmp) is safe to pass through');
  // The device prompt template: what people are told to open.
  const template = join(dir, 'prompt.txt');
  await writeFile(template, '{url} {code}', { mode: 0o664 });
  await chmod(template, 0o664);
  const withTemplate = await config(`client_id ${ID}\nclient_secret x\nidp_suffix a.org\ndevice_flow true\ndevice_prompt_file ${template}\n`);
  t.throws(() => loadServerConfig(withTemplate), { message: /device_prompt_file is writable by group\/others/ });
});

test('the example config parses (with its placeholders) and documents every key we accept', async (t) => {
  const text = await readFile('server-pam/oauth-ssh.conf.example', 'utf8');
  const config = parseServerConfig(text, 'server-pam/oauth-ssh.conf.example', () => {});
  t.is(config.authUrl, 'https://auth.globus.org');
  const documented = new Set([...text.matchAll(/^#?\s*([a-z_]+)\s/gm)].map((m) => m[1]));
  for (const key of ['client_id', 'client_secret', 'environment', 'idp_suffix', 'map_file', 'permitted_idps', 'authentication_timeout', 'mfa', 'socket', 'min_uid', 'allow_accounts', 'query_account', 'introspection_cache_ttl', 'http_timeout', 'audit_log', 'device_flow', 'device_flow_deadline', 'device_qr', 'auth_method', 'issuers', 'oidc_issuers', 'scitokens_issuers', 'oidc_audience', 'scitokens_audience', 'jwt_username_claim', 'jwt_username_suffix', 'groups_claim', 'allowed_groups', 'jwt_uid_claim', 'max_auth_age', 'acr_values', 'amr_values', 'jwt_required_scope', 'device_issuer', 'device_client_id', 'device_client_secret_file', 'device_scope', 'device_resource', 'userinfo_url', 'device_extra_param', 'introspection_issuer', 'introspection_client_id', 'introspection_client_secret_file', 'introspection_allowed_clients', 'jwt_username_prefix', 'device_prompt_file', 'device_qr_margin']) {
    t.true(documented.has(key), key);
  }
});

test('userinfo_url must be on an issuer\'s origin: the token is sent there', (t) => {
  const base = 'auth_method scitokens\nissuers https://idcs.example.org\njwt_username_claim sub\n';
  t.throws(() => parseServerConfig(`${base}userinfo_url https://elsewhere.example.net/me\n`, 'c', () => {}), { message: /userinfo_url must be on the origin of one of the issuers/ });
  t.is(parseServerConfig(`${base}jwt_uid_claim uidNumber\nuserinfo_url https://idcs.example.org/admin/v1/Me\n`, 'c', () => {}).claims.userinfoUrl, 'https://idcs.example.org/admin/v1/Me');
  t.throws(() => parseServerConfig(`${base}device_issuer https://idcs.example.org\ndevice_client_id c\ndevice_extra_param nonsense\n`, 'c', () => {}), { message: /device_extra_param takes key=value/ });
  t.deepEqual(parseServerConfig(`${base}device_issuer https://idcs.example.org\ndevice_client_id c\ndevice_extra_param response_type=device_code\n`, 'c', () => {}).deviceOidc?.extraParams, { response_type: 'device_code' });
});

test('device_prompt_file must show the code and the URL', async (t) => {
  const dir = await tempDir(t);
  const bad = join(dir, 'bad.txt');
  await writeFile(bad, 'Open {url} and press Enter');
  const good = join(dir, 'good.txt');
  await writeFile(good, '{qr}Open {url}\nCode {code}\nEnter: \n');
  const base = `client_id ${ID}\nclient_secret x\nidp_suffix a.org\ndevice_flow true\n`;
  t.throws(() => parseServerConfig(`${base}device_prompt_file ${bad}\n`, 'c', () => {}), { message: /must contain \{code\}/ });
  t.is(parseServerConfig(`${base}device_prompt_file ${good}\n`, 'c', () => {}).devicePromptTemplate, '{qr}Open {url}\nCode {code}\nEnter: ');
});

test('issuer profiles: explicit lists, and the older "issuers" judged by whether claim mapping is on', (t) => {
  const parse = (text: string) => parseServerConfig(text, 'c', () => {});
  const explicit = parse('auth_method oidc\noidc_issuers https://kc.example.org/realms/x/\nscitokens_issuers https://sci.example.org\noidc_audience https://ssh.example.org "openid ssh"\n');
  t.deepEqual(explicit.jwtIssuers.map((i) => [i.issuer, i.kind]), [['https://kc.example.org/realms/x', 'oidc'], ['https://sci.example.org', 'scitokens']]);
  t.deepEqual(explicit.jwtIssuers[0]!.audiences, ['https://ssh.example.org', 'openid ssh'], 'a quoted audience keeps its space');
  t.true(explicit.jwtIssuers[1]!.audiences.includes('ANY'), 'the SciTokens "any" audiences for the SciTokens profile');
  t.false(explicit.jwtIssuers[0]!.audiences.includes('ANY'), '... and never for an OIDC provider');

  const legacySci = parse('auth_method scitokens\nissuers https://sci.example.org\n');
  t.is(legacySci.jwtIssuers[0]!.kind, 'scitokens');
  t.regex(legacySci.notes.join('\n'), /"issuers" are judged as SciTokens issuers .* write scitokens_issuers/);
  const legacyOidc = parse('auth_method scitokens\nissuers https://kc.example.org\nscitokens_audience https://ssh.example.org\njwt_username_claim preferred_username\njwt_max_auth_age 600\nauthentication_timeout 5\n');
  t.is(legacyOidc.jwtIssuers[0]!.kind, 'oidc', 'claim mapping on: an OIDC provider, whose scope grants nothing');
  t.deepEqual(legacyOidc.jwtIssuers[0]!.audiences, ['https://ssh.example.org'], 'scitokens_audience still applies when oidc_audience is not set');
  t.is(legacyOidc.policy.maxAuthAge, 300, 'authentication_timeout and jwt_max_auth_age: the stricter');
  t.regex(legacyOidc.notes.join('\n'), /"jwt_max_auth_age" is now called "max_auth_age"/);
  t.deepEqual(parse('auth_method oidc\noidc_issuers https://kc.example.org\noidc_audience a\nmfa true\npermitted_idps kc.example.org\n').policy, { permittedIdps: ['kc.example.org'], maxAuthAge: null, mfa: true, acrValues: [], amrValues: [], allowedGroups: [] }, 'the Globus policy keys apply to OIDC providers too');
});

test('check describes each provider: where its accounts come from, and what cannot work', async (t) => {
  const { describeConfig } = await import('../../server-pam/cli/check.js');
  const lines = (text: string) => describeConfig(parseServerConfig(text, 'c', () => {})).map((l) => `${l.level} ${l.text}`).join('\n');
  const unmapped = lines('auth_method oidc\noidc_issuers https://kc.example.org\n');
  t.regex(unmapped, /FAIL https:\/\/kc\.example\.org \[oidc\]: no rule gives its tokens an account: set jwt_username_claim/);
  t.regex(unmapped, /FAIL https:\/\/kc\.example\.org: no accepted audience: set oidc_audience/);
  const good = lines(`auth_method globus_auth oidc\nclient_id ${ID}\nclient_secret x\nidp_suffix example.org\noidc_issuers https://kc.example.org\noidc_audience "openid ssh"\njwt_username_claim preferred_username\nmfa true\npermitted_idps example.org\n`);
  t.regex(good, /ok Globus Auth \(production, client [0-9a-f-]+\) \[globus\]: accounts from idp_suffix example\.org/);
  t.regex(good, /ok https:\/\/kc\.example\.org \[oidc\]: accounts from the preferred_username claim; audience "openid ssh"/);
  t.regex(good, /FAIL permitted_idps admits no login from https:\/\/kc\.example\.org: add kc\.example\.org/);
  t.regex(good, /note https:\/\/kc\.example\.org: the policy reads amr, acr from its tokens/);
  t.regex(lines('auth_method scitokens\nissuers https://sci.example.org\n'), /ok https:\/\/sci\.example\.org \[scitokens\]: accounts from scope grants ssh:\/USER \(a bare ssh grants nothing\)/);
});

test('a symlink to a safe file, placed in a directory others can write, is refused (it could be swapped between check and read)', async (t) => {
  const { mkdir, symlink } = await import('node:fs/promises');
  const dir = await tempDir(t);
  const map = join(dir, 'accounts.map');
  await writeFile(map, 'a@b.org x\n', { mode: 0o644 });
  const open = join(dir, 'open');
  await mkdir(open);
  await chmod(open, 0o777);
  await symlink(map, join(open, 'map'));
  const viaOpen = await configFile(t, `client_id ${ID}\nclient_secret x\nmap_file ${join(open, 'map')}\n`);
  t.throws(() => loadServerConfig(viaOpen), { message: /the directory .*open above map_file .* is writable by group\/others \(mode 777\)/ });
  // A symlink owned by someone else, in a safe directory: refused too.
  const safe = join(dir, 'safe');
  await mkdir(safe, { mode: 0o755 });
  await symlink(map, join(safe, 'map'));
  const { lchown } = await import('node:fs/promises');
  await lchown(join(safe, 'map'), 4242, 4242);
  const viaForeignLink = await configFile(t, `client_id ${ID}\nclient_secret x\nmap_file ${join(safe, 'map')}\n`);
  t.throws(() => loadServerConfig(viaForeignLink), { message: /is a symlink owned by uid 4242/ });
  await lchown(join(safe, 'map'), 0, 0);
  t.notThrows(() => loadServerConfig(viaForeignLink), 'root\'s symlink in a safe directory is fine');
});

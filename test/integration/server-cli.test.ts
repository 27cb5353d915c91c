/** oauth-ssh-server's command line: serve, check, explain. */
import test from 'ava';
import { spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IDS, startTestIdp, tokenFor } from '../helpers/dev-idp.js';
import { BRIDGE_SO, installPamService, pamtester } from '../helpers/pam.js';
import { run, stopProcess, waitForOutput } from '../helpers/processes.js';
import { writeServerConfig } from '../helpers/server.js';
import { createTestUser } from '../helpers/users.js';
import { startJwtIssuer } from '../helpers/jwt-issuer.js';

const SERVER = [process.execPath, '--import', 'tsx', 'server-pam/bin.ts'] as const;
const server = (args: string[], input?: string) => run(SERVER[0], [...SERVER.slice(1), ...args], { input, timeoutMs: 30_000 });

test('serve: listens on a 0600 socket and admits a login; SIGTERM stops it', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const { file, socketPath } = await writeServerConfig(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['audit_log stderr'] });
  const child = spawn(SERVER[0], [...SERVER.slice(1), 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  t.teardown(() => stopProcess(child));
  await waitForOutput(child, () => out, /listening on/, 20_000);
  t.is((await run('stat', ['-c', '%a', socketPath])).stdout.trim(), '600');
  const service = await installPamService(t, `auth required ${BRIDGE_SO} socket=${socketPath}`);
  const token = await tokenFor(idp, 'alice@example.org');
  t.is((await pamtester(service, user.name, ['authenticate'], `${token}\n`)).code, 0);
  await waitForOutput(child, () => out, /"decision":"SUCCESS"/, 5000);
  t.false(out.includes(token), 'the audit log on stderr carries no token');

  const second = await server(['serve', '--config', file]);
  t.is(second.code, 2);
  t.regex(second.stderr, /another oauth-ssh-server is already listening/);
  await stopProcess(child);
  t.is(child.exitCode, 0);
});

test('serve refuses a config whose secret others can read, naming the fix', async (t) => {
  const { file } = await writeServerConfig(t, { authUrl: 'http://127.0.0.1:9' });
  await chmod(file, 0o644);
  const result = await server(['serve', '--config', file]);
  t.is(result.code, 2);
  t.regex(result.stderr, /readable or writable by group\/others \(mode 644\); run: chmod 600 /);
  t.false(result.stderr.includes('test-ssh-service-secret'));
});

test('check: config, credentials, FQDNs and the query account', async (t) => {
  const idp = await startTestIdp(t);
  const query = await createTestUser(t, { system: true });
  const good = await writeServerConfig(t, { authUrl: idp.url, lines: [`query_account ${query.name}`] });
  const ok = await server(['check', '--config', good.file]);
  t.is(ok.code, 0, ok.stdout + ok.stderr);
  t.regex(ok.stdout, /ok {4}registered FQDNs: ssh\.example\.org; tokens need scope https:\/\/auth\.globus\.org\/scopes\/ssh\.example\.org\/ssh/);
  t.regex(ok.stdout, new RegExp(`ok {4}query account ${query.name} exists`));

  const wrongSecret = await writeServerConfig(t, { authUrl: idp.url, lines: [`query_account ${query.name}`] });
  await writeFile(wrongSecret.file, (await run('cat', [wrongSecret.file])).stdout.replace(/client_secret .*/, 'client_secret wrong'), { mode: 0o600 });
  const rejected = await server(['check', '--config', wrongSecret.file]);
  t.is(rejected.code, 1);
  t.regex(rejected.stdout, /FAIL {2}Globus Auth rejected this server's client credentials .*check client_id and client_secret/);

  const noQuery = await server(['check', '--config', (await writeServerConfig(t, { authUrl: idp.url, lines: ['query_account oastnosuchuser'] })).file]);
  t.is(noQuery.code, 1);
  t.regex(noQuery.stdout, /FAIL {2}the query account oastnosuchuser does not exist; create it: useradd -r/);
});

test('explain: the decision path, step by step, for a token from a file or stdin', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const { file, dir } = await writeServerConfig(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['authentication_timeout 60'] });
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${await tokenFor(idp, 'alice@example.org', { authAge: 600 })}\n`, { mode: 0o600 });
  const ok = await server(['explain', '--config', file, '--user', user.name, '--token-file', tokenFile]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /ok {4}verify +active token of alice@example\.org \(alice@example\.org; 2 linked identities\)/);
  t.regex(ok.stdout, new RegExp(`ok {4}accounts +may log in as ${user.name} \\(map file\\)`));
  t.regex(ok.stdout, new RegExp(`session  ${IDS.alice} at Example University, 10 min ago, amr pwd, acr -`));
  t.regex(ok.stdout, /=> SUCCESS/);

  const denied = await server(['explain', '--config', file, '--user', 'root', '--json'], `${await tokenFor(idp, 'bob@example.org')}\n`);
  t.is(denied.code, 1, denied.stderr);
  const json = JSON.parse(denied.stdout);
  t.is(json.result, 'USER_UNKNOWN');
  t.regex(json.token, /^[0-9a-f]{12}$/);
  t.deepEqual(json.trace.map((s: { step: string; ok: boolean }) => [s.step, s.ok]), [['route', true], ['verify', true], ['policy', true], ['accounts', false], ['user', false]]);
});

test('usage errors exit 2', async (t) => {
  const result = await server(['frobnicate']);
  t.is(result.code, 2);
  t.regex(result.stderr, /Unknown argument|name a command/);
});

test('check: SciTokens issuers must publish their keys', async (t) => {
  const idp = await startTestIdp(t);
  const query = await createTestUser(t, { system: true });
  const issuer = await startJwtIssuer(t);
  const good = await writeServerConfig(t, { authUrl: idp.url, lines: [`query_account ${query.name}`, 'auth_method globus_auth scitokens', `issuers ${issuer.issuer}`] });
  const ok = await server(['check', '--config', good.file]);
  t.is(ok.code, 0, ok.stdout);
  t.regex(ok.stdout, new RegExp(`ok {4}issuer ${issuer.issuer} publishes its keys at ${issuer.issuer}/jwks`));
  await issuer.stop();
  const down = await server(['check', '--config', good.file]);
  t.is(down.code, 1);
  t.regex(down.stdout, /FAIL {2}issuer .* cannot be reached/);
});

test('the provider examples in server-pam/examples pass `check --offline`', async (t) => {
  const { readdir } = await import('node:fs/promises');
  const examples = (await readdir('server-pam/examples')).filter((f) => f.endsWith('.conf'));
  t.true(examples.length >= 4);
  for (const example of examples) {
    const path = `server-pam/examples/${example}`;
    // client_secret_file must exist (0600) for the Globus example; point it at a private temp copy.
    const { tempDir } = await import('../helpers/temp.js');
    const dir = await tempDir(t);
    const secret = `${dir}/client_secret`;
    await writeFile(secret, 'example-secret', { mode: 0o600 });
    const config = `${dir}/${example}`;
    await writeFile(config, (await run('cat', [path])).stdout.replace('/etc/oauth_ssh/client_secret', secret), { mode: 0o644 });
    const result = await server(['check', '--offline', '--config', config]);
    t.is(result.code, 0, `${example}: ${result.stdout}${result.stderr}`);
    t.regex(result.stdout, /^ok {4}config .* is valid/m, example);
  }
});

test('serve as a non-root account of its own: files owned by it, the bridge told daemon_user=', async (t) => {
  const { chown } = await import('node:fs/promises');
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const daemon = await createTestUser(t, { system: true });
  const gid = Number((await run('id', ['-g', daemon.name])).stdout.trim());
  const { file, dir, socketPath } = await writeServerConfig(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['audit_log stderr'] });
  // What the package does: the config and its files belong to the daemon's account, not readable by others.
  for (const path of [dir, file, `${dir}/accounts.map`]) await chown(path, daemon.uid, gid);
  const child = spawn(SERVER[0], [...SERVER.slice(1), 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'], uid: daemon.uid, gid, cwd: process.cwd() });
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  t.teardown(() => stopProcess(child));
  await waitForOutput(child, () => out, /listening on/, 20_000);
  t.is((await run('stat', ['-c', '%U %a', socketPath])).stdout.trim(), `${daemon.name} 600`);
  const service = await installPamService(t, [`auth required ${BRIDGE_SO} socket=${socketPath} daemon_user=${daemon.name}`, `account required ${BRIDGE_SO} socket=${socketPath} daemon_user=${daemon.name}`].join('\n'));
  const token = await tokenFor(idp, 'alice@example.org');
  const login = await pamtester(service, user.name, ['authenticate', 'acct_mgmt'], `${token}\n`);
  t.is(login.code, 0, `${login.output}\n${out}`);
  const asRoot = await installPamService(t, `auth required ${BRIDGE_SO} socket=${socketPath}`);
  t.not((await pamtester(asRoot, user.name, ['authenticate'], `${token}\n`)).code, 0, 'a bridge expecting root refuses it');
});

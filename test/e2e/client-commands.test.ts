/** The client's commands against the real sshd + server + dev IdP: accounts, status, logout, token show, and the policy preflight. */
import test from 'ava';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestIdp } from '../helpers/dev-idp.js';
import { approveWhenShown, clientCommand, clientEnv, inTerminal, runClient, type ClientEnv } from '../helpers/client.js';
import { BRIDGE_SO } from '../helpers/pam.js';
import { run } from '../helpers/processes.js';
import { startTestServer } from '../helpers/server.js';
import { startSshd } from '../helpers/sshd.js';
import { createTestUser } from '../helpers/users.js';
import type { Teardown } from '../helpers/teardown.js';

async function world(t: Teardown, serverLines: string[] = []) {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const second = await createTestUser(t);
  const query = await createTestUser(t, { system: true });
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}, ${second.name}\n`, lines: [`query_account ${query.name}`, ...serverLines] });
  const sshd = await startSshd(t, {
    pamStack: [`auth [success=done maxtries=die default=die] ${BRIDGE_SO} socket=${server.socketPath}`, `account required ${BRIDGE_SO} socket=${server.socketPath}`, 'session required pam_permit.so', ''].join('\n'),
  });
  const client = await clientEnv(t, idp.url, sshd, user.name, `query_account: ${query.name}\n`);
  return { idp, user, second, server, sshd, client };
}

const login = (client: ClientEnv, idp: Parameters<typeof approveWhenShown>[0], identity = 'alice@example.org', extra: Record<string, unknown> = {}) =>
  runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, identity, extra) });

test('accounts: the in-band get_account_map, through the query account', async (t) => {
  const { idp, user, second, client } = await world(t);
  t.is((await login(client, idp)).code, 0);
  const result = await runClient(client, ['accounts', '--json', '--', ...client.sshArgs, client.hostAlias]);
  t.is(result.code, 0, result.stderr);
  t.deepEqual(JSON.parse(result.stdout), [user.name, second.name]);
});

test('status: token, login and the host policy side by side', async (t) => {
  const { idp, client } = await world(t, ['authentication_timeout 30', 'permitted_idps example.org']);
  t.is((await login(client, idp, 'alice@example.org', { auth_age: 3600 })).code, 0);
  const result = await runClient(client, ['status', '--', ...client.sshArgs, client.hostAlias]);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /token: {3}valid for 60 min, refreshable \(file\)/);
  t.regex(result.stdout, /login: {3}alice@example\.org at Example University, 60 min ago/);
  t.regex(result.stdout, /policy: {2}IdPs example\.org; login within 30 min/);
  t.regex(result.stdout, /verdict: the host requires a login within the last 30 min: run `oauth-ssh login testhost --force-login`/);
  const json = await runClient(client, ['status', '--json', '--', ...client.sshArgs, client.hostAlias]);
  t.is(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
  t.like(parsed, { host: 'testhost', policy: { permitted_idps: ['example.org'], authentication_timeout: 30, mfa: false }, meets_policy: false, token: { identity: 'alice@example.org', refresh: true, backend: 'file' } });
  const keys = (v: unknown): string[] => (v && typeof v === 'object' ? Object.entries(v).flatMap(([k, inner]) => (Array.isArray(inner) ? [k] : [k, ...keys(inner)])) : []);
  t.deepEqual(keys(parsed).filter((k) => !/^[a-z0-9_]+$/.test(k)), [], 'every key is snake_case');
});

test('a new host\'s key: the policy query asks the person (yes: remembered, policy known), and a refused key is never cached as the host\'s policy', async (t) => {
  const { idp, client } = await world(t, ['permitted_idps example.org']);
  t.is((await login(client, idp)).code, 0);
  const knownHosts = join(client.home, 'known_hosts');
  await writeFile(knownHosts, '');
  await writeFile(client.sshConfig, (await readFile(client.sshConfig, 'utf8')).replace(/UserKnownHostsFile \S+/, `UserKnownHostsFile ${knownHosts}`).replace('StrictHostKeyChecking yes', 'StrictHostKeyChecking ask'));
  const status = (answer: string) =>
    inTerminal(clientCommand(['status', '--', ...client.sshArgs, client.hostAlias]), client.env, {
      onOutput: (out, terminal) => {
        if (/continue connecting \(yes\/no[^)]*\)\? $/.test(out)) terminal.type(`${answer}\r`);
      },
    });
  const refused = status('no');
  t.is(await refused.done, 0, refused.output());
  t.regex(refused.output(), /could not ask 127\.0\.0\.1 for its login policy \(127\.0\.0\.1 was not asked \(Host key verification failed\)\)/);
  t.regex(refused.output(), /policy: {2}unknown/);
  const policies = join(client.home, '.local/share/oauth-ssh/policies.json');
  t.false(existsSync(policies) && (await readFile(policies, 'utf8')).includes('ssh.example.org@'), 'nothing cached for the host');
  const accepted = status('yes');
  t.is(await accepted.done, 0, accepted.output());
  t.regex(accepted.output(), /policy: {2}IdPs example\.org/);
  t.regex(await readFile(knownHosts, 'utf8'), /ssh-ed25519/, 'the accepted key is in known_hosts, for the connection too');

  // A connection to a new host, with a terminal and a policy to ask: the key question comes once, not from both ssh's.
  await writeFile(knownHosts, '');
  await writeFile(join(client.home, '.local/share/oauth-ssh/policies.json'), '');
  const connection = inTerminal(clientCommand([...client.sshArgs, client.hostAlias, 'true']), client.env, {
    onOutput: (out, terminal) => {
      if (/continue connecting \(yes\/no[^)]*\)\? $/.test(out)) terminal.type('yes\r');
    },
  });
  t.is(await connection.done, 0, connection.output());
  t.is((connection.output().match(/continue connecting/g) ?? []).length, 1, connection.output());
});

test('preflight: a login the host would refuse is renewed before connecting (with a terminal)', async (t) => {
  const { idp, user, client, server } = await world(t, ['authentication_timeout 30']);
  t.is((await login(client, idp, 'alice@example.org', { auth_age: 3600 })).code, 0);
  await idp.control('PUT', 'auto-approve', { identity: 'alice@example.org' });
  const browser = join(client.home, 'browser');
  await writeFile(browser, '#!/bin/sh\nexec curl -fsSL -o /dev/null "$1"\n', { mode: 0o755 });
  // `script` gives the client a terminal, so it may log in again.
  const cmd = [process.execPath, '--import', import.meta.resolve('tsx'), join(process.cwd(), 'client/bin.ts'), ...client.sshArgs, client.hostAlias, 'id', '-un'].map((a) => `'${a}'`).join(' ');
  const result = await run('script', ['-qefc', cmd, '/dev/null'], { env: { ...client.env, BROWSER: browser }, timeoutMs: 60_000 });
  t.is(result.code, 0, result.stdout);
  t.regex(result.stdout, /the host requires a login within the last 30 min; logging in again/);
  t.regex(result.stdout, new RegExp(user.name));
  t.deepEqual(server.audit.filter((e) => e.event === 'login').map((e) => e.decision), ['SUCCESS'], 'no doomed attempt reached the server');
});

test('logout revokes at the authorization server and forgets locally; token show prints the token', async (t) => {
  const { idp, client } = await world(t);
  t.is((await login(client, idp)).code, 0);
  const shown = await runClient(client, ['token', 'show', client.hostAlias]);
  t.is(shown.code, 0);
  const token = shown.stdout.trim();
  t.regex(token, /^[A-Za-z0-9_-]{40,}$/);
  const validate = async () => ((await (await fetch(`${idp.url}/v2/oauth2/token/validate`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, client_id: '5d5bdb54-44c4-4a2f-8ec9-46effb994ff3' }) })).json()) as { active: boolean }).active;
  t.true(await validate());
  const out = await runClient(client, ['logout', client.hostAlias]);
  t.is(out.code, 0, out.stderr);
  t.regex(out.stderr, /Logged out of ssh\.example\.org/);
  t.false(await validate(), 'revoked at the authorization server');
  t.regex((await runClient(client, ['token', 'list'])).stdout, /No tokens/);
  t.is((await runClient(client, ['logout'])).code, 2, 'no host and no --all is a usage error');
});

test('logout where the provider refuses to revoke (Glewlwyd wants client authentication): removed here, and token list says the refresh token may live on', async (t) => {
  const { idp, client } = await world(t);
  t.is((await login(client, idp)).code, 0);
  await idp.control('POST', 'faults', { path: '/v2/oauth2/token/revoke', status: 401, content_type: 'application/json', body: '{"error":"invalid_client","error_description":"client authentication required\\u001b[31m"}' });
  const out = await runClient(client, ['logout', client.hostAlias]);
  t.is(out.code, 0, out.stderr);
  t.regex(out.stderr, /could not revoke the token for ssh\.example\.org \(.*refused the revocation: client authentication required/);
  t.false(out.stderr.includes('\u001b'), 'the provider\'s text is sanitized');
  t.regex(out.stderr, /the refresh token may still be valid at http:\/\/127\.0\.0\.1:\d+/);
  t.regex(out.stderr, /Logged out of ssh\.example\.org/);
  const list = await runClient(client, ['token', 'list']);
  t.regex(list.stdout, /No tokens/);
  t.regex(list.stderr, /not revoked at the provider .*\n {2}ssh\.example\.org at http:\/\/127\.0\.0\.1:\d+, \d{4}-\d\d-\d\d: .*client authentication required/);
  const json = await runClient(client, ['token', 'list', '--json']);
  t.deepEqual(JSON.parse(json.stdout), [], '--json stays the same array');
  const dropped = await runClient(client, ['logout', client.hostAlias]);
  t.regex(dropped.stderr, /dropped the note about its unrevoked refresh token/);
  t.notRegex((await runClient(client, ['token', 'list'])).stderr, /not revoked/);
  const dataDir = join(client.home, '.local/share/oauth-ssh');
  for (const f of (await readdir(dataDir)).filter((name) => name.endsWith('.json') && name !== 'tokens.json')) t.notRegex(await readFile(join(dataDir, f), 'utf8'), /"(accessToken|refreshToken)"/, `${f} keeps no secret`);
});

test('setup: plain ssh gets the token through Match exec + the standalone askpass; idempotent; --remove restores the file, and the last one takes the helper and askpass away', async (t) => {
  const { idp, user, client } = await world(t);
  t.is((await login(client, idp)).code, 0);
  const original = await readFile(client.sshConfig, 'utf8');
  const setup = await runClient(client, ['setup', '127.0.0.1', '--ssh-config', client.sshConfig]);
  t.is(setup.code, 0, setup.stderr);
  const exportLine = /^export SSH_ASKPASS='([^']+)' SSH_ASKPASS_REQUIRE=force$/m.exec(setup.stdout);
  t.truthy(exportLine, setup.stdout);
  const edited = await readFile(client.sshConfig, 'utf8');
  t.true(edited.startsWith(original.trimEnd()), 'the rest of the file is kept as it was');
  t.regex(edited, /Match host "127\.0\.0\.1" exec "'[^']+oauth-ssh-helper' ensure %h"\n {2}KbdInteractiveAuthentication yes/);
  const doctor = await runClient(client, ['doctor'], { env: { SSH_ASKPASS: exportLine![1], SSH_ASKPASS_REQUIRE: 'force' } });
  t.is(doctor.code, 0, doctor.stdout);
  t.regex(doctor.stdout, /ok {3}ssh_config: .*ssh_config: "127\.0\.0\.1" -> .*oauth-ssh-helper/);
  t.regex(doctor.stdout, /ok {3}askpass: SSH_ASKPASS=/);
  t.regex(doctor.stdout, /ok {3}clock: /);
  const unset = await runClient(client, ['doctor']);
  t.is(unset.code, 1, 'a failed check fails the command');
  t.regex(unset.stdout, /FAIL askpass: SSH_ASKPASS is not set/);

  // A refresh margin longer than the token's life: `ensure` must refresh before ssh connects.
  await writeFile(client.env.OAUTH_SSH_CONFIG!, `${await readFile(client.env.OAUTH_SSH_CONFIG!, 'utf8')}refresh_margin: 7200\n`);
  const plain = await run('ssh', [...client.sshArgs, client.hostAlias, 'id', '-un'], { env: { ...client.env, SSH_ASKPASS: exportLine![1], SSH_ASKPASS_REQUIRE: 'force' }, detached: true, timeoutMs: 60_000 });
  t.is(plain.code, 0, plain.stderr);
  t.is(plain.stdout.trim(), user.name);

  const again = await runClient(client, ['setup', '127.0.0.1', '--ssh-config', client.sshConfig]);
  t.regex(again.stdout, /already has the oauth-ssh entry/);
  t.is(await readFile(client.sshConfig, 'utf8'), edited);
  const second = join(client.home, 'second-ssh-config');
  t.is((await runClient(client, ['setup', '*.other.example', '--ssh-config', second])).code, 0);
  const removed = await runClient(client, ['setup', '127.0.0.1', '--remove', '--ssh-config', client.sshConfig]);
  t.is(removed.code, 0);
  t.is((await readFile(client.sshConfig, 'utf8')).trimEnd(), original.trimEnd());
  t.regex(removed.stdout, /The helper and askpass stay: oauth-ssh entries remain in .*second-ssh-config/);
  t.true(existsSync(exportLine![1]!), 'the askpass stays while another file uses it');
  const last = await runClient(client, ['setup', '*.other.example', '--remove', '--ssh-config', second]);
  t.is(last.code, 0, last.stderr);
  t.regex(last.stdout, /the helper and askpass in .* are gone too/);
  t.regex(last.stdout, /Take this line out of your shell profile/);
  t.true(last.stdout.includes(exportLine![0]), 'the exact profile line to take out');
  t.false(existsSync(exportLine![1]!), 'askpass removed');
  t.false(existsSync(join(exportLine![1]!, '..', 'oauth-ssh-helper')), 'helper removed');
  t.is((await runClient(client, ['setup', 'bad pattern;rm', '--ssh-config', client.sshConfig])).code, 2);
});

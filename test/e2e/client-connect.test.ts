/**
 * The oauth-ssh client against the real sshd + our server + the dev IdP.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestIdp } from '../helpers/dev-idp.js';
import { run } from '../helpers/processes.js';
import { approveWhenShown, clientEnv, runClient } from '../helpers/client.js';
import { BRIDGE_SO } from '../helpers/pam.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSshd } from '../helpers/sshd.js';
import { createTestUser } from '../helpers/users.js';
import type { Teardown } from '../helpers/teardown.js';

const stack = (server: TestServer) =>
  [`auth [success=done maxtries=die new_authtok_reqd=done default=die] ${BRIDGE_SO} socket=${server.socketPath}`, `account required ${BRIDGE_SO} socket=${server.socketPath}`, 'session required pam_permit.so', ''].join('\n');

async function world(t: Teardown, serverLines: string[] = []) {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: serverLines });
  const sshd = await startSshd(t, { pamStack: stack(server) });
  const client = await clientEnv(t, idp.url, sshd, user.name);
  return { idp, user, server, sshd, client };
}

test('device login, then ssh runs a command with the cached token and no flow', async (t) => {
  const { idp, user, client, server } = await world(t);
  const login = await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@lab.example.net') });
  t.is(login.code, 0, login.stderr);
  t.regex(login.stderr, /Logged in for ssh\.example\.org as alice@lab\.example\.net \(Example Lab\)/);
  const run = await runClient(client, [...client.sshArgs, client.hostAlias, 'id', '-un']);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout.trim(), user.name);
  t.is(server.audit.at(-1)?.decision, 'SUCCESS');
  const tokens = join(client.home, '.local/share/oauth-ssh/tokens.json');
  t.is((await stat(tokens)).mode & 0o777, 0o600);
  t.is((await stat(join(client.home, '.local/share/oauth-ssh'))).mode & 0o777, 0o700);
  t.true((await readFile(tokens, 'utf8')).length > 0);
});

test('browser flow: PKCE + loopback redirect driven by a real HTTP client, then ssh', async (t) => {
  const { idp, user, client } = await world(t);
  await idp.control('PUT', 'auto-approve', { identity: 'alice@example.org' });
  // The "browser" follows the redirects with curl: authorize -> loopback callback.
  const browser = join(client.home, 'browser');
  await writeFile(browser, '#!/bin/sh\nexec curl -fsSL -o /dev/null "$1"\n', { mode: 0o755 });
  const login = await runClient(client, ['login', client.hostAlias], { env: { BROWSER: browser } });
  t.is(login.code, 0, login.stderr);
  t.regex(login.stderr, /Logged in for ssh\.example\.org as alice@example\.org/);
  const run = await runClient(client, [...client.sshArgs, client.hostAlias, 'id', '-un']);
  t.is(run.stdout.trim(), user.name, run.stderr);
});

test('without a terminal and without a token, connecting fails fast with what to run (exit 3)', async (t) => {
  const { client } = await world(t);
  const run = await runClient(client, [...client.sshArgs, client.hostAlias, 'true']);
  t.is(run.code, 3);
  t.true(run.stderr.includes(`no valid token for testhost and no terminal to log in on: run \`oauth-ssh login -- -F ${client.sshConfig} testhost\` first`), run.stderr);
});

test('expiring tokens are refreshed silently; the refresh token rotates', async (t) => {
  const { idp, user, client } = await world(t);
  t.is((await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@example.org') })).code, 0);
  const tokens = join(client.home, '.local/share/oauth-ssh/tokens.json');
  const before = await readFile(tokens, 'utf8');
  // A margin longer than the token's life makes every use refresh first.
  await writeFile(client.env.OAUTH_SSH_CONFIG!, `${await readFile(client.env.OAUTH_SSH_CONFIG!, 'utf8')}refresh_margin: 7200\n`);
  const run = await runClient(client, [...client.sshArgs, client.hostAlias, 'id', '-un']);
  t.is(run.stdout.trim(), user.name, run.stderr);
  const after = await readFile(tokens, 'utf8');
  t.not(after, before);
  t.not(JSON.parse(after).data['ssh.example.org@' + new URL(idp.url).host].refreshToken, JSON.parse(before).data['ssh.example.org@' + new URL(idp.url).host].refreshToken);
  t.notRegex(run.stderr, /enter the code|log in/i, 'no login flow');
});

test('scp, sftp, rsync and git work through oauth-ssh', async (t) => {
  const { idp, client } = await world(t);
  t.is((await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@example.org') })).code, 0);
  const self = `${process.execPath} --import ${import.meta.resolve('tsx')} ${join(process.cwd(), 'client/bin.ts')}`;
  const wrapper = join(client.home, 'oauth-ssh');
  await writeFile(wrapper, `#!/bin/sh\nexec ${self} "$@"\n`, { mode: 0o755 });
  const local = join(client.home, 'payload.txt');
  await writeFile(local, 'hello over oauth-ssh\n');
  const sh = (cmd: string) => run('sh', ['-c', cmd], { env: client.env, detached: true, timeoutMs: 60_000 });

  const scp = await sh(`scp -F ${client.sshConfig} -S ${wrapper} ${local} ${client.hostAlias}:copied.txt && scp -F ${client.sshConfig} -S ${wrapper} ${client.hostAlias}:copied.txt ${local}.back && cat ${local}.back`);
  t.is(scp.stdout, 'hello over oauth-ssh\n', scp.stderr);
  const sftp = await sh(`printf 'ls -1\\n' | sftp -F ${client.sshConfig} -S ${wrapper} -b - ${client.hostAlias}`);
  t.regex(sftp.stdout, /copied\.txt/, sftp.stderr);
  const rsync = await sh(`rsync -e '${wrapper} -F ${client.sshConfig}' ${local} ${client.hostAlias}:rsynced.txt && ${wrapper} -F ${client.sshConfig} ${client.hostAlias} cat rsynced.txt`);
  t.is(rsync.stdout, 'hello over oauth-ssh\n', rsync.stderr);
  const git = await sh(
    `cd ${client.home} && ${wrapper} -F ${client.sshConfig} ${client.hostAlias} 'git init -q --bare repo.git' && git init -q work && cd work && git -c user.email=a@b -c user.name=a commit -q --allow-empty -m first && ` +
      `GIT_SSH_COMMAND='${wrapper} -F ${client.sshConfig}' git push -q ${client.hostAlias}:repo.git HEAD:main && GIT_SSH_COMMAND='${wrapper} -F ${client.sshConfig}' git ls-remote ${client.hostAlias}:repo.git`,
  );
  t.regex(git.stdout, /refs\/heads\/main/, git.stderr);
});

test('a revoked token: told so, then renewed (refresh) without a new login', async (t) => {
  const { idp, user, client, server } = await world(t);
  t.is((await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@example.org') })).code, 0);
  const token = (await runClient(client, ['token', 'show', client.hostAlias])).stdout.trim();
  await fetch(`${idp.url}/v2/oauth2/token/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, client_id: '5d5bdb54-44c4-4a2f-8ec9-46effb994ff3' }) });
  const denied = await runClient(client, [...client.sshArgs, client.hostAlias, 'id', '-un']);
  t.is(denied.code, 255);
  t.regex(denied.stderr, /the token is not active/, 'the server\'s reason');
  t.true(denied.stderr.includes(`oauth-ssh: the token for testhost is no longer valid at the authorization server; run \`oauth-ssh login -- -F ${client.sshConfig} testhost\``), denied.stderr);
  const renewed = await runClient(client, [...client.sshArgs, client.hostAlias, 'id', '-un']);
  t.is(renewed.code, 0, renewed.stderr);
  t.is(renewed.stdout.trim(), user.name);
  t.notRegex(renewed.stderr, /enter the code/, 'refreshed, no login flow');
  t.deepEqual(server.audit.map((e) => e.decision), ['AUTH_ERR', 'SUCCESS']);
});

test('a revoked token with a terminal at hand: renewed and the connection retried at once', async (t) => {
  const { idp, user, client } = await world(t);
  t.is((await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@example.org') })).code, 0);
  const token = (await runClient(client, ['token', 'show', client.hostAlias])).stdout.trim();
  await fetch(`${idp.url}/v2/oauth2/token/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, client_id: '5d5bdb54-44c4-4a2f-8ec9-46effb994ff3' }) });
  await writeFile(client.env.OAUTH_SSH_CONFIG!, `${await readFile(client.env.OAUTH_SSH_CONFIG!, 'utf8')}policy_cache_ttl: 0\n`);
  const cmd = [process.execPath, '--import', import.meta.resolve('tsx'), join(process.cwd(), 'client/bin.ts'), ...client.sshArgs, client.hostAlias, 'id', '-un'].map((a) => `'${a}'`).join(' ');
  const result = await run('script', ['-qefc', cmd, '/dev/null'], { env: client.env, timeoutMs: 60_000 });
  t.is(result.code, 0, result.stdout);
  t.regex(result.stdout, /the token for testhost is no longer valid at the authorization server; getting a new one/);
  t.regex(result.stdout, new RegExp(`${user.name}\\r?\\n`));
});

for (const [how, flags, env] of [
  ['--no-browser', ['--no-browser'], {}],
  ['no flag, headless (no DISPLAY, in an SSH session)', [], { SSH_CONNECTION: '192.0.2.1 50000 192.0.2.2 22' }],
] as const) {
test(`copy-paste flow (${how}): the URL is shown, the code pasted at the terminal`, async (t) => {
  const { idp, user, client } = await world(t);
  await idp.control('PUT', 'auto-approve', { identity: 'alice@example.org' });
  const cmd = [process.execPath, '--import', import.meta.resolve('tsx'), join(process.cwd(), 'client/bin.ts'), 'login', client.hostAlias, ...flags].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qefc', cmd, '/dev/null'], { env: { ...client.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let pasted = false;
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const url = /(http:\/\/127\.0\.0\.1:\d+\/v2\/oauth2\/authorize\?\S+)/.exec(out)?.[1];
    if (url && /Authorization code: /.test(out) && !pasted) {
      pasted = true;
      void (async () => {
        // The person's browser: sign in (auto-approved) and read the code off the copy-paste page.
        const res = await fetch(url, { redirect: 'manual' });
        const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
        child.stdin.write(`${code}\r`);
      })();
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await done;
  clearTimeout(timer);
  t.is(code, 0, out);
  t.regex(out, /Open this URL in a browser on any device, log in, and paste the code it shows/);
  if (flags.length === 0) t.regex(out, /no browser can be shown here \(no DISPLAY or WAYLAND_DISPLAY, in an SSH session\); using a code to paste instead/);
  t.regex(out, /Logged in for ssh\.example\.org as alice@example\.org/);
  t.notRegex(out.split('Authorization code: ')[1] ?? '', /[A-Za-z0-9_-]{40}/, 'the pasted code is not echoed');
  const ssh = await runClient(client, [...client.sshArgs, client.hostAlias, 'id', '-un']);
  t.is(ssh.stdout.trim(), user.name);
});
}

test('10 parallel connections that all need a refresh: rotation stays safe, all log in', async (t) => {
  const { idp, client, server } = await world(t);
  t.is((await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@example.org') })).code, 0);
  await writeFile(client.env.OAUTH_SSH_CONFIG!, `${await readFile(client.env.OAUTH_SSH_CONFIG!, 'utf8')}refresh_margin: 7200\n`);
  const runs = await Promise.all(Array.from({ length: 10 }, () => runClient(client, [...client.sshArgs, client.hostAlias, 'true'], { timeoutMs: 90_000 })));
  t.deepEqual(runs.map((r) => r.code), Array(10).fill(0), runs.map((r) => r.stderr).join('\n'));
  t.is(server.audit.filter((e) => e.decision === 'SUCCESS').length, 10);
  t.notRegex(runs.map((r) => r.stderr).join(''), /can no longer be refreshed/, 'no refresh token was spent twice');
});

test('an unregistered host is a clear error before any login', async (t) => {
  const { client } = await world(t);
  await writeFile(client.env.OAUTH_SSH_CONFIG!, (await readFile(client.env.OAUTH_SSH_CONFIG!, 'utf8')).replace(/fqdn: ssh\.example\.org/g, 'fqdn: unknown.example.org'));
  const result = await runClient(client, ['login', client.hostAlias, '--device']);
  t.is(result.code, 1);
  t.regex(result.stderr, /unknown\.example\.org is not registered as an oauth-ssh host at http:\/\/127\.0\.0\.1:\d+\. .*`oauth-ssh-server register unknown\.example\.org`/);
  t.notRegex(result.stderr, /enter the code/);
});

test('service_client_id: a host the authorization server cannot look up by FQDN still works', async (t) => {
  const { idp, user, client } = await world(t);
  await idp.control('POST', 'faults', { path: '/v2/api/clients', status: 404 });
  await writeFile(client.env.OAUTH_SSH_CONFIG!, (await readFile(client.env.OAUTH_SSH_CONFIG!, 'utf8')).replace(/fqdn: ssh\.example\.org/g, 'fqdn: ssh.example.org\n    service_client_id: 864f1f73-da90-4bcd-9a1c-30d9feb10907'));
  t.is((await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@example.org') })).code, 0);
  const ssh = await runClient(client, [...client.sshArgs, client.hostAlias, 'id', '-un']);
  t.is(ssh.stdout.trim(), user.name, ssh.stderr);
});

test('the browser flow refuses a redirect that names another issuer (RFC 9207 iss), and takes the right one', async (t) => {
  const { idp, client } = await world(t);
  await idp.control('PUT', 'auto-approve', { identity: 'alice@example.org' });
  // The person's browser, but the redirect back to oauth-ssh carries a mix-up attacker's iss.
  const browser = join(client.home, 'browser');
  await writeFile(browser, '#!/bin/sh\nback=$(curl -fsS -o /dev/null -w "%{redirect_url}" "$1")\nexec curl -fsS -o /dev/null "$back&iss=https%3A%2F%2Fevil.example"\n', { mode: 0o755 });
  const mixedUp = await runClient(client, ['login', client.hostAlias], { env: { BROWSER: browser } });
  t.is(mixedUp.code, 1, mixedUp.stderr);
  t.regex(mixedUp.stderr, /"iss"/);
  t.notRegex(mixedUp.stderr, /Logged in/);
  await writeFile(browser, `#!/bin/sh\nback=$(curl -fsS -o /dev/null -w "%{redirect_url}" "$1")\nexec curl -fsS -o /dev/null "$back&iss=${encodeURIComponent(idp.url)}"\n`, { mode: 0o755 });
  const right = await runClient(client, ['login', client.hostAlias], { env: { BROWSER: browser } });
  t.is(right.code, 0, right.stderr);
});

test('--force-login with --identity authenticates afresh as the chosen linked identity', async (t) => {
  const { idp, client } = await world(t);
  const browser = join(client.home, 'browser');
  await writeFile(browser, '#!/bin/sh\nexec curl -fsSL -o /dev/null "$1"\n', { mode: 0o755 });
  await idp.control('PUT', 'auto-approve', { identity: 'alice@example.org' });
  t.is((await runClient(client, ['login', client.hostAlias], { env: { BROWSER: browser } })).code, 0);
  // Reusing the cached login needs no flow at all, even with the auto-approval gone.
  await idp.control('DELETE', 'auto-approve');
  t.regex((await runClient(client, ['login', client.hostAlias], { env: { BROWSER: '/bin/false' } })).stderr, /Logged in for ssh\.example\.org as alice@example\.org/);
  await idp.control('PUT', 'auto-approve', { identity: 'alice@lab.example.net', mfa: true });
  const forced = await runClient(client, ['login', client.hostAlias, '--force-login', '--identity', 'ea8003d5-abb8-43b4-b980-d71c535b3eb9'], { env: { BROWSER: browser } });
  t.is(forced.code, 0, forced.stderr);
  t.regex(forced.stderr, /Logged in for ssh\.example\.org as alice@lab\.example\.net \(Example Lab\)/);
  const list = JSON.parse((await runClient(client, ['token', 'list', '--json'])).stdout);
  t.like(list[0], { identity: 'alice@lab.example.net', idp: 'Example Lab' });
});

test('a host that does not answer policy queries is asked once per policy_cache_ttl, not on every connection', async (t) => {
  const { idp, client } = await world(t); // no query account on this server
  t.is((await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@example.org') })).code, 0);
  const first = await runClient(client, ['status', '--', ...client.sshArgs, client.hostAlias]);
  t.regex(first.stderr, /could not ask 127\.0\.0\.1 for its login policy/);
  t.regex(first.stdout, /policy: {2}unknown/);
  const second = await runClient(client, ['status', '--', ...client.sshArgs, client.hostAlias]);
  t.notRegex(second.stderr, /could not ask/, 'remembered');
  t.regex(second.stdout, /policy: {2}unknown/);
});

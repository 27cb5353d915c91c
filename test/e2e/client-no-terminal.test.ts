/**
 * Where nobody can see a login: the client's own `ssh -G` under a setup
 * block, hooks whose stderr is not a terminal, callers without a terminal at
 * a server that offers the device flow, and one Ctrl-C at a device prompt.
 * The server's device flow is on in every test: an empty answer anywhere
 * would start it, and the dev IdP lists every device authorization.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { startTestIdp } from '../helpers/dev-idp.js';
import { approveWhenShown, clientCommand, clientEnv, inTerminal, runClient, type ClientEnv } from '../helpers/client.js';
import { BRIDGE_SO } from '../helpers/pam.js';
import { run } from '../helpers/processes.js';
import { startTestServer } from '../helpers/server.js';
import { startSshd } from '../helpers/sshd.js';
import { createTestUser } from '../helpers/users.js';
import type { Teardown } from '../helpers/teardown.js';

async function world(t: Teardown) {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['device_flow true', 'device_flow_deadline 20', 'device_qr false'] });
  const sshd = await startSshd(t, {
    pamStack: [`auth [success=done maxtries=die default=die] ${BRIDGE_SO} socket=${server.socketPath}`, `account required ${BRIDGE_SO} socket=${server.socketPath}`, 'session required pam_permit.so', ''].join('\n'),
  });
  const client = await clientEnv(t, idp.url, sshd, user.name, 'policy_cache_ttl: 0\n');
  // ssh's own default of three tries: the harness's one try would hide a second, empty answer.
  await writeFile(client.sshConfig, (await readFile(client.sshConfig, 'utf8')).replace(/^ {2}NumberOfPasswordPrompts 1\n/m, ''));
  // A browser that only records that a login was started.
  const browserRan = join(client.home, 'browser-ran');
  await writeFile(join(client.home, 'browser'), `#!/bin/sh\necho "$1" >> '${browserRan}'\n`, { mode: 0o755 });
  client.env.BROWSER = join(client.home, 'browser');
  return { idp, user, server, sshd, client, browserRan };
}

const deviceAuthorizations = async (idp: { control(m: string, p: string): Promise<unknown> }) => ((await idp.control('GET', 'devices')) as { pending: unknown[] }).pending;

const setup = async (client: ClientEnv, file = client.sshConfig) => {
  const result = await runClient(client, ['setup', '127.0.0.1', '--ssh-config', file]);
  return /^export SSH_ASKPASS='([^']+)'/m.exec(result.stdout)![1]!;
};

const ensureLeft = async (client: ClientEnv) => (await run('pgrep', ['-f', `${client.home}.* ensure `])).stdout.trim();

test('a setup block does not run for the client\'s own ssh: login with a terminal starts one login, connecting starts no hook, none is left behind', async (t) => {
  const { idp, user, client, browserRan } = await world(t);
  await setup(client);
  // Every Node process started from here on writes down its arguments: a hook that ran would show.
  const started = join(client.home, 'node-started');
  await writeFile(join(client.home, 'record.cjs'), `require('fs').appendFileSync(${JSON.stringify(started)}, JSON.stringify(process.argv) + '\\n');\n`);
  const env = { ...client.env, NODE_OPTIONS: `--require ${join(client.home, 'record.cjs')}` };
  const approve = approveWhenShown(idp, 'alice@example.org');
  const login = inTerminal(clientCommand(['login', '--device', '--', ...client.sshArgs, client.hostAlias]), env, { onOutput: (out) => approve(out) });
  t.is(await login.done, 0, login.output());
  t.regex(login.output(), /Logged in for ssh\.example\.org/);
  t.notRegex(login.output(), /Another oauth-ssh is logging in/);
  const connection = inTerminal(clientCommand([...client.sshArgs, client.hostAlias, 'id', '-un']), env);
  t.is(await connection.done, 0, connection.output());
  t.regex(connection.output(), new RegExp(user.name));
  const hooks = (await readFile(started, 'utf8')).split('\n').filter((l) => l.includes('"ensure"'));
  t.deepEqual(hooks, [], 'the hook answered in sh, without starting Node');
  t.false(existsSync(browserRan), 'no hidden browser login was started');
  t.is(await ensureLeft(client), '', 'no ensure process left waiting');
});

test('a hook whose stderr is not a terminal starts no login (ssh -G from an IDE or a script)', async (t) => {
  const { client, browserRan } = await world(t);
  await setup(client);
  const resolve = inTerminal(`ssh -G ${client.sshArgs.join(' ')} ${client.hostAlias} >/dev/null 2>&1; echo "resolved $?"`, client.env);
  t.is(await resolve.done, 0, resolve.output());
  t.regex(resolve.output(), /resolved 0/);
  t.false(existsSync(browserRan), 'no login nobody would see');
  t.is(await ensureLeft(client), '');
});

test('no terminal: a refused user or a token dead at the server fails at once with the reason, and no device flow starts', async (t) => {
  const { idp, client } = await world(t);
  t.is((await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@example.org') })).code, 0);
  for (const who of ['root', 'nosuchuser-oauthssh']) {
    const result = await runClient(client, [...client.sshArgs, `${who}@${client.hostAlias}`, 'true']);
    t.is(result.code, 255, result.stderr);
    t.regex(result.stderr, new RegExp(`no local account ${who} for your identity`));
    t.deepEqual(await deviceAuthorizations(idp), [], `${who}: no device login at the server`);
  }
  const token = (await runClient(client, ['token', 'show', client.hostAlias])).stdout.trim();
  await fetch(`${idp.url}/v2/oauth2/token/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, client_id: '5d5bdb54-44c4-4a2f-8ec9-46effb994ff3' }) });
  const dead = await runClient(client, [...client.sshArgs, client.hostAlias, 'true']);
  t.is(dead.code, 255, dead.stderr);
  t.true(dead.stderr.includes(`the token for ${client.hostAlias} is no longer valid at the authorization server; run \`oauth-ssh login -- -F ${client.sshConfig} ${client.hostAlias}\``), dead.stderr);
  t.deepEqual(await deviceAuthorizations(idp), []);
});

test('no terminal while another process is logging in: fail at once with its URL, rather than wait unseen for minutes', async (t) => {
  const { idp, client } = await world(t);
  const holder = spawn('sleep', ['600']);
  t.teardown(() => holder.kill());
  const locks = join(client.home, '.local/share/oauth-ssh/locks');
  await mkdir(locks, { recursive: true, mode: 0o700 });
  const url = 'http://127.0.0.1:1/v2/web/device?user_code=ABCD-EFGH';
  await writeFile(join(locks, `ssh.example.org@${new URL(idp.url).host.replace(":", "_")}.lock`), JSON.stringify({ pid: holder.pid, host: hostname(), started: Date.now(), note: url }));
  const result = await runClient(client, [...client.sshArgs, client.hostAlias, 'true']);
  t.is(result.code, 3, result.stderr);
  t.true(result.stderr.includes(`another oauth-ssh is logging in to ${client.hostAlias}; finish that login (${url}), then try again`), result.stderr);
});

test('after a killed login, the next one starts afresh: it never shows the dead one\'s code', async (t) => {
  const { idp, client } = await world(t);
  let firstCode: string | undefined;
  const killed = await runClient(client, ['login', client.hostAlias, '--device'], {
    onStderr: (out) => {
      firstCode ??= /enter the code:\s+([A-Z]{4}-[A-Z]{4})/.exec(out)?.[1];
    },
    timeoutMs: 8000, // killed (SIGKILL) while it waits for approval
  });
  t.is(killed.signal, 'SIGKILL');
  t.truthy(firstCode, killed.stderr);
  const next = await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@example.org') });
  t.is(next.code, 0, next.stderr);
  t.false(next.stderr.includes(firstCode!), next.stderr);
  t.notRegex(next.stderr, /Another oauth-ssh is logging in/);
});

test('headless, with a terminal: the setup hook logs in with the copy-paste code, not a browser, and plain ssh gets in', async (t) => {
  const { idp, user, client, browserRan } = await world(t);
  const askpass = await setup(client);
  await idp.control('PUT', 'auto-approve', { identity: 'alice@example.org' });
  // An SSH session on a server: no DISPLAY, no BROWSER.
  const env: NodeJS.ProcessEnv = { ...client.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', SSH_CONNECTION: '192.0.2.1 50000 192.0.2.2 22' };
  delete env.BROWSER;
  let pasted = false;
  const session = inTerminal(`ssh ${client.sshArgs.join(' ')} ${client.hostAlias} id -un`, env, {
    onOutput: (out, terminal) => {
      const url = /(http:\/\/127\.0\.0\.1:\d+\/v2\/oauth2\/authorize\?\S+)/.exec(out)?.[1];
      if (url && /Authorization code: $/.test(out) && !pasted) {
        pasted = true;
        void (async () => {
          // The person opens the URL on another device and reads the code off the page.
          const res = await fetch(url, { redirect: 'manual' });
          terminal.type(`${new URL(res.headers.get('location')!).searchParams.get('code')}\r`);
        })();
      }
    },
  });
  t.is(await session.done, 0, session.output());
  t.regex(session.output(), /no browser can be shown here \(no DISPLAY or WAYLAND_DISPLAY, in an SSH session\); using a code to paste instead/);
  t.regex(session.output(), new RegExp(`${user.name}\\r?\\n`));
  t.false(existsSync(browserRan));
});

test('no terminal, plain ssh after setup and no token: ssh ends at once with what to run, and no device flow starts', async (t) => {
  const { idp, client, server } = await world(t);
  const askpass = await setup(client);
  const plain = await run('ssh', [...client.sshArgs, client.hostAlias, 'true'], { env: { ...client.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' }, detached: true, timeoutMs: 60_000 });
  t.not(plain.code, 0);
  t.regex(plain.stderr, /no valid token for 127\.0\.0\.1: run `oauth-ssh login 127\.0\.0\.1`/);
  t.deepEqual(await deviceAuthorizations(idp), []);
  t.false(server.audit.some((e) => e.op === 'device'), 'the server never started its device flow');
});

test('with a terminal, one Ctrl-C at the server\'s device prompt ends ssh', async (t) => {
  const { client, server } = await world(t);
  // The askpass only, no Match block: the token prompt reaches the person.
  const askpass = await setup(client, join(client.home, 'unused-ssh-config'));
  const env = { ...client.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' };
  let stage = 0;
  const session = inTerminal(`ssh ${client.sshArgs.join(' ')} ${client.hostAlias} true`, env, {
    onOutput: (out, terminal) => {
      if (stage === 0 && /Enter your OAuth token: $/.test(out)) {
        stage = 1;
        terminal.type('\r'); // Enter: the server's device flow, as for any plain ssh user
      } else if (stage === 1 && /Press Enter once you have approved: $/.test(out)) {
        stage = 2;
        terminal.type('\u0003');
      }
    },
  });
  const code = await session.done;
  t.is(stage, 2, session.output());
  t.not(code, 0);
  // The daemon saw ssh hang up at the prompt; it did not wait out its deadline.
  const device = server.audit.filter((e) => e.op === 'device');
  t.is(device.length, 1);
  t.regex(device[0]!.reason ?? '', /bridge closed the connection|abandoned/, JSON.stringify(device));
});

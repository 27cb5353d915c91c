/**
 * Where the token may and may not go: never to another prompt, never to
 * another host, never into argv, environments or logs; one login for many
 * parallel invocations.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestIdp } from '../helpers/dev-idp.js';
import { approveWhenShown, clientEnv, inTerminal, runClient } from '../helpers/client.js';
import { BRIDGE_SO } from '../helpers/pam.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSshd } from '../helpers/sshd.js';
import { tempDir } from '../helpers/temp.js';
import { createTestUser } from '../helpers/users.js';
import type { Teardown } from '../helpers/teardown.js';

const oauthStack = (server: TestServer, before: string[] = []) =>
  [...before, `auth [success=done maxtries=die new_authtok_reqd=done default=die] ${BRIDGE_SO} socket=${server.socketPath}`, `account required ${BRIDGE_SO} socket=${server.socketPath}`, 'session required pam_permit.so', ''].join('\n');

async function world(t: Teardown, pamBefore: (dir: string) => Promise<string[]> = async () => []) {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n` });
  const dir = await tempDir(t);
  const sshd = await startSshd(t, { pamStack: oauthStack(server, await pamBefore(dir)) });
  const client = await clientEnv(t, idp.url, sshd, user.name);
  return { idp, user, server, sshd, client, dir };
}

test('a password prompt never receives the token', async (t) => {
  // pam_exec asks "Password:" before our module and records whatever it was given.
  const { idp, client, dir } = await world(t, async (d) => {
    await writeFile(join(d, 'record'), `#!/bin/sh\ncat > ${d}/received\nexit 0\n`, { mode: 0o755 });
    return [`auth required pam_exec.so expose_authtok ${d}/record`];
  });
  t.is((await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@example.org') })).code, 0);
  const token = JSON.parse(await readFile(join(client.home, '.local/share/oauth-ssh/tokens.json'), 'utf8')).data[`ssh.example.org@${new URL(idp.url).host}`].accessToken as string;
  const result = await runClient(client, [...client.sshArgs, client.hostAlias, 'true']);
  // Without a terminal the password prompt is answered with nothing; our prompt then gets the token.
  const received = await readFile(join(dir, 'received'), 'utf8');
  t.false(received.includes(token), 'the password prompt got no token');
  t.is(received.replace(/\0/g, '').trim(), '');
  t.is(result.code, 0, result.stderr);
});

test('a token for host A is never sent to host B', async (t) => {
  const a = await world(t);
  t.is((await runClient(a.client, ['login', a.client.hostAlias, '--device'], { onStderr: approveWhenShown(a.idp, 'alice@example.org') })).code, 0);
  // Host B: another sshd registered as other.example.org, same client config and token store.
  const otherUser = await createTestUser(t);
  const otherServer = await startTestServer(t, { authUrl: a.idp.url, mapFile: `alice@example.org ${otherUser.name}\n` });
  const sshdB = await startSshd(t, { pamStack: oauthStack(otherServer) });
  await writeFile(a.client.sshConfig, `Host hostb\n  HostName localhost\n  Port ${sshdB.port}\n  User ${otherUser.name}\n  HostKeyAlias 127.0.0.1\n  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n\n${await readFile(a.client.sshConfig, 'utf8')}`);
  await writeFile(a.client.env.OAUTH_SSH_CONFIG!, `${await readFile(a.client.env.OAUTH_SSH_CONFIG!, 'utf8')}  - match: localhost\n    fqdn: other.example.org\n`);
  const result = await runClient(a.client, [...a.client.sshArgs, 'hostb', 'true']);
  t.is(result.code, 3, result.stderr);
  t.regex(result.stderr, /no valid token for hostb and no terminal/);
  t.is(otherServer.audit.length, 0, 'host B never saw an attempt');
});

test('no token appears in any argv, environment or log during a login and a connection', async (t) => {
  const { idp, client, sshd, server, dir } = await world(t);
  // First check: every process the client starts, as the spawning code reports it (cannot miss one).
  const spawnLog = join(dir, 'spawns.jsonl');
  const recorded = { NODE_OPTIONS: `--import=${join(process.cwd(), 'test/helpers/spawn-recorder.mjs')}`, OAUTH_SSH_TEST_SPAWN_LOG: spawnLog };
  // Second check: everything every process shows in /proc while we work (ssh's own children too), kept unique.
  const seen = new Set<string>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        for (const file of ['cmdline', 'environ']) {
          try {
            seen.add(readFileSync(`/proc/${pid}/${file}`, 'latin1'));
          } catch {
            // process gone
          }
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const login = await runClient(client, ['login', client.hostAlias, '--device'], { onStderr: approveWhenShown(idp, 'alice@example.org'), env: recorded });
  const result = await runClient(client, [...client.sshArgs, '-v', client.hostAlias, 'sleep', '1'], { env: recorded });
  sampling = false;
  await sampler;
  t.is(login.code, 0, login.stderr);
  t.is(result.code, 0, result.stderr);
  const stored = JSON.parse(await readFile(join(client.home, '.local/share/oauth-ssh/tokens.json'), 'utf8')).data[`ssh.example.org@${new URL(idp.url).host}`];
  const secrets = [stored.accessToken as string, stored.refreshToken as string];
  t.true(seen.size > 10, `sampled ${seen.size} distinct argv/environments`);
  const spawned = (await readFile(spawnLog, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { file: string; argv: string[]; env: Record<string, string> });
  t.true(spawned.some((s) => /(^|\/)ssh$/.test(s.file) && s.argv.includes(client.hostAlias)), 'the recorder saw the client start ssh');
  for (const secret of secrets) {
    for (const s of spawned) {
      t.false([s.file, ...s.argv].some((a) => a.includes(secret)), `not in the argv of ${s.file}`);
      t.false(Object.values(s.env).some((v) => String(v).includes(secret)), `not in the environment of ${s.file}`);
    }
    t.false([...seen].some((text) => text.includes(secret)), 'in no process argv or environment');
    t.false(login.stderr.includes(secret) || login.stdout.includes(secret), 'in no login output');
    t.false(result.stderr.includes(secret), 'in no ssh -v output');
    t.false(sshd.log().includes(secret), 'in no sshd log');
    t.false(JSON.stringify(server.audit).includes(secret), 'in no audit event');
  }
});

// Alone: its hundred processes would starve the IdP and daemon of tests running beside it.
test.serial('100 parallel first connections from one terminal: exactly one login flow, 100 successes', async (t) => {
  const idp = await startTestIdp(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n` });
  // sshd's default MaxStartups drops connections beyond 10 unauthenticated ones; 100 arrive at once here.
  const sshd = await startSshd(t, { pamStack: oauthStack(server), config: ['MaxStartups 200:30:300'] });
  const client = await clientEnv(t, idp.url, sshd, user.name, 'policy_cache_ttl: 0\n');
  await idp.control('PUT', 'auto-approve', { identity: 'alice@example.org' });
  // The browser: records each login it is shown, and signs in only once the test lets it (all 100 waiting).
  const shown = join(client.home, 'logins-shown');
  const go = join(client.home, 'go');
  await writeFile(join(client.home, 'browser'), `#!/bin/sh\necho "$1" >> '${shown}'\nwhile [ ! -e '${go}' ]; do sleep 0.1; done\nexec curl -fsSL -o /dev/null "$1"\n`, { mode: 0o755 });
  const N = 100;
  let scanned = 0;
  let partial = '';
  let waiting = 0;
  let ended = 0;
  // The built entry point: 100 tsx start-ups would cost a minute of CPU for nothing under test.
  const one = `node '${join(process.cwd(), 'dist/client/bin.js')}' ${client.sshArgs.join(' ')} ${client.hostAlias} true; echo "rc=$?"`;
  const terminal = inTerminal(`for i in $(seq ${N}); do (${one}) & done; wait`, { ...client.env, BROWSER: join(client.home, 'browser') }, {
    timeoutMs: 240_000,
    onOutput: (out) => {
      // Counted a whole line at a time, on the new output only: the whole of it grows to megabytes.
      const lines = (partial + out.slice(scanned)).split('\n');
      scanned = out.length;
      partial = lines.pop()!;
      for (const line of lines) {
        if (line.includes('Another oauth-ssh is logging in to testhost; finish that login:')) waiting++;
        if (/rc=\d+/.test(line)) ended++;
      }
      // All but the one login waiting on it; or a second login shown, which fails the test below without the wait.
      const twoLogins = existsSync(shown) && readFileSync(shown, 'utf8').trim().split('\n').length > 1;
      // A process that ended before waiting (it failed) would never come: release then too, and fail below with its output.
      if ((waiting + ended >= N - 1 || twoLogins) && !existsSync(go)) writeFileSync(go, '');
    },
  });
  t.is(await terminal.done, 0, terminal.output().slice(-3000));
  const out = terminal.output();
  const summary = () => {
    const counts = new Map<string, number>();
    for (const m of out.matchAll(/rc=\d+|oauth-ssh: [^\r\n]{0,100}|ssh: [^\r\n]{0,100}|kex_[^\r\n]{0,100}|Connection [^\r\n]{0,80}/g)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
    return JSON.stringify([...counts], null, 1);
  };
  t.is((out.match(/rc=0/g) ?? []).length, N, summary());
  t.is(readFileSync(shown, 'utf8').trim().split('\n').length, 1, 'one login flow');
  t.is((out.match(/Another oauth-ssh is logging in to testhost; finish that login:\r?\nhttp:\/\/127\.0\.0\.1:\d+\/v2\/oauth2\/authorize\?/g) ?? []).length, N - 1, 'every other connection showed that one URL');
  t.is(server.audit.filter((e) => e.decision === 'SUCCESS').length, N);
});

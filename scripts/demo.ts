/**
 * The demo, end to end on this machine, with real parts: the dev IdP, the
 * oauth-ssh-server daemon, a real sshd (its own PAM service) loading
 * pam_oauth_ssh.so, a demo account, the oauth-ssh client running the stock
 * ssh, and plain ssh with no client at all (the server's device flow).
 * Tokens are never printed. Its names are its own (oauth-ssh-demo-*, the
 * account oauthdemo), so it never meets a test run; one demo at a time (a
 * lock), and what a killed one left behind is removed first. Everything it
 * sets up is removed when it ends, also on Ctrl-C (exit 130).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { loadDevIdpConfig } from '../shared/dev-idp/config.js';
import { startDevIdp } from '../shared/dev-idp/server.js';
import { loadServerConfig } from '../server-pam/config.js';
import { startDaemon } from '../server-pam/daemon.js';
import type { AuditEvent } from '../server-pam/audit.js';
import { clientEnv, runClient, type ClientRun } from '../test/helpers/client.js';
import { useNamespace } from '../test/helpers/namespace.js';
import { BRIDGE_SO } from '../test/helpers/pam.js';
import { runSsh } from '../test/helpers/ssh.js';
import { startSshd } from '../test/helpers/sshd.js';
import { scriptTeardown } from '../test/helpers/teardown.js';
import { tempDir } from '../test/helpers/temp.js';
import { createTestUser } from '../test/helpers/users.js';

const SSH_SERVICE = '864f1f73-da90-4bcd-9a1c-30d9feb10907';
const DEMO_USER = 'oauthdemo';
const ALIAS = 'demo-host';
const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
const step = (text: string) => console.log(`\n== ${text}`);
const indent = (text: string) => text.trimEnd().split('\n').map((l) => `   ${l}`).join('\n');
const control = (url: string, path: string, body: unknown) => fetch(`${url}/_dev/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

useNamespace('demo');
const LOCK = '/run/lock/oauth-ssh-demo.pid';

/** One demo at a time (a pid file: a stale one, of a demo that was killed, is taken over); then what that one left behind can go. */
function takeLockAndTidy(): void {
  try {
    writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
  } catch {
    const holder = Number(readFileSync(LOCK, 'utf8'));
    let alive = false;
    try {
      process.kill(holder, 0);
      alive = holder !== process.pid;
    } catch {
      // gone: a killed demo's lock
    }
    if (alive) {
      console.error(`demo: another demo (pid ${holder}) is running; wait for it to finish`);
      process.exit(1);
    }
    writeFileSync(LOCK, String(process.pid));
  }
  sweep();
}

/** Everything with the demo's names: what a killed demo left, and at the end (last) whatever a Ctrl-C caught half made. */
function sweep(): void {
  execFileSync('sh', ['-c', `pkill -f -- '[/]oauth-ssh-demo-sshd-'; pkill -KILL -u ${DEMO_USER}; userdel --remove --force ${DEMO_USER}; true`], { stdio: 'ignore' });
  for (const f of readdirSync('/etc/pam.d')) if (f.startsWith('oauth-ssh-demo-')) rmSync(`/etc/pam.d/${f}`, { force: true });
  for (const f of readdirSync('/tmp')) if (f.startsWith('oauth-ssh-demo-')) rmSync(`/tmp/${f}`, { recursive: true, force: true });
}

const t = scriptTeardown();
const results: Record<string, boolean> = {};
let idpUrl = '';

/**
 * Approves a device login once its code shows up: at a terminal the person may
 * approve in the browser, or press Enter to let the demo do it; the question
 * goes away when the login is done either way, and Ctrl-C there stops the demo.
 */
function approveWhenAsked(codeIn: RegExp): (text: string) => void {
  let asked = false;
  return (text) => {
    const code = codeIn.exec(text)?.[1];
    if (!code || asked) return;
    asked = true;
    void (async () => {
      if (interactive) {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        rl.on('SIGINT', () => void process.emit('SIGINT'));
        const done = new AbortController();
        const poll = setInterval(async () => {
          const pending = (await (await fetch(`${idpUrl}/_dev/devices`).catch(() => null))?.json().catch(() => null)) as { pending?: Array<{ user_code: string }> } | null;
          if (pending && !pending.pending?.some((d) => d.user_code === code)) done.abort(); // approved in the browser
        }, 500);
        try {
          await rl.question('   Approve it in your browser as alice@example.org, or press Enter to let the demo approve: ', { signal: done.signal });
        } catch {
          // approved in the browser, or stopped: nothing to ask any more
        } finally {
          clearInterval(poll);
          rl.close();
        }
        if (done.signal.aborted) return;
      }
      await control(idpUrl, `devices/${code}/approve`, { identity: 'alice@example.org' }).catch(() => undefined);
    })();
  };
}
try {
  takeLockAndTidy();
  t.teardown(() => rmSync(LOCK, { force: true }));
  t.teardown(sweep); // runs after every other clean-up (they run in reverse order)
  step('1. Authorization server: oauth-ssh-dev-idp (users alice and bob, shared/dev-idp/example.yaml)');
  const idp = await startDevIdp({ config: loadDevIdpConfig('shared/dev-idp/example.yaml'), port: Number(process.env.OAUTH_SSH_DEMO_PORT ?? 0), control: true });
  t.teardown(() => idp.close());
  idpUrl = idp.url;
  console.log(`   listening on ${idp.url}`);

  step('2. SSH server: oauth-ssh-server + a real sshd loading pam_oauth_ssh.so');
  const dir = await tempDir(t, 'oauth-ssh-demo-');
  const user = await createTestUser(t, { name: DEMO_USER });
  await writeFile(join(dir, 'accounts.map'), `alice@example.org ${user.name}\n`, { mode: 0o644 });
  const configFile = join(dir, 'oauth-ssh.conf');
  await writeFile(
    configFile,
    [`client_id ${SSH_SERVICE}`, 'client_secret dev-only-secret-change-me', `auth_url ${idp.url}`, `map_file ${join(dir, 'accounts.map')}`, 'authentication_timeout 60', 'introspection_cache_ttl 0', 'device_flow true', 'device_flow_deadline 60', `socket ${join(dir, 'run/pam.sock')}`, ''].join('\n'),
    { mode: 0o600 },
  );
  const audit: AuditEvent[] = [];
  const daemon = await startDaemon(loadServerConfig(configFile), { audit: async (e) => void audit.push(e), log: () => {} });
  t.teardown(() => daemon.close());
  const sshd = await startSshd(t, {
    pamStack: [`auth [success=done maxtries=die new_authtok_reqd=done default=die] ${BRIDGE_SO} socket=${daemon.socketPath}`, `account required ${BRIDGE_SO} socket=${daemon.socketPath}`, 'session required pam_permit.so', ''].join('\n'),
  });
  console.log(indent(`sshd on 127.0.0.1:${sshd.port}, PAM service /etc/pam.d/${sshd.serviceName}\naccount ${user.name} <- alice@example.org (map file); policy: a login within the last 60 min`));

  const client = await clientEnv(t, idp.url, sshd, user.name, '', ALIAS);
  const oauthSsh = async (args: string[], watch?: (stderr: string) => void): Promise<ClientRun> => {
    console.log(indent(`$ oauth-ssh ${args.join(' ')}`));
    let shown = 0;
    const result = await runClient(client, args, {
      onStderr: (all) => {
        process.stdout.write(indent(all.slice(shown)) + '\n');
        shown = all.length;
        watch?.(all);
      },
    });
    if (result.stdout) console.log(indent(result.stdout));
    console.log(indent(`(exit ${result.code})`));
    return result;
  };

  step(`3. oauth-ssh login (device flow; the client's ssh config calls the server "${ALIAS}")`);
  const login = await oauthSsh(['login', ALIAS, '--device'], approveWhenAsked(/enter the code:\s+([A-Z]{4}-[A-Z]{4})/));
  results.login = login.code === 0;

  step(`4. oauth-ssh ${ALIAS} 'id -un; uptime' — the real ssh, the token answered at the prompt`);
  const ok = await oauthSsh([...client.sshArgs, ALIAS, 'id -un; uptime']);
  results.connect = ok.code === 0 && ok.stdout.startsWith(user.name);
  console.log(indent(`server audit: ${JSON.stringify(audit.at(-1))}`));

  step('5. What the client knows');
  await oauthSsh(['token', 'list']);

  step('6. Two hours later: the login is too old for this host; without a terminal the server says why');
  await control(idp.url, 'sessions/update', { identity: 'alice@example.org', auth_age: 7200 });
  const stale = await oauthSsh([...client.sshArgs, ALIAS, 'true']);
  results.stale = stale.code === 255 && /within 60 min/.test(stale.stderr);
  await control(idp.url, 'sessions/update', { identity: 'alice@example.org', auth_age: 0 });

  step('7. oauth-ssh logout revokes the token at the authorization server');
  results.logout = (await oauthSsh(['logout', ALIAS])).code === 0;

  step('8. No client at all: plain ssh, Enter at the token prompt, and the server runs the device flow (URL, code, QR)');
  console.log(indent(`$ ssh -p ${sshd.port} ${user.name}@127.0.0.1 'id -un'`));
  let shownPrompt = false;
  const approvePlain = approveWhenAsked(/enter the code:\s+([A-Z]{4}-[A-Z]{4})/);
  const plain = await runSsh(t, sshd, {
    user: user.name,
    answers: ['', ''],
    command: ['id', '-un'],
    sshOptions: ['-o', 'NumberOfPasswordPrompts=1'],
    env: { LC_ALL: 'C.UTF-8' },
    onPrompt: (prompt) => {
      if (!/enter the code/.test(prompt) || shownPrompt) return;
      shownPrompt = true;
      console.log(indent(prompt));
      approvePlain(prompt);
    },
  });
  console.log(indent(`${plain.stdout.trim()}\n(exit ${plain.code})`));
  results.plainSsh = plain.code === 0 && plain.stdout.trim() === user.name;

  const failed = Object.entries(results).filter(([, v]) => !v).map(([k]) => k);
  if (t.interrupted()) {
    // Ctrl-C: the clean-up is running, and exits 130 when it is done.
  } else if (failed.length) {
    console.error(`\ndemo: these steps did not behave as they should: ${failed.join(', ')}`);
    process.exitCode = 1;
  } else {
    console.log('\ndemo: all steps behaved as expected');
  }
} catch (err) {
  // A step cut short by Ctrl-C fails as its parts are taken away: that is no error to show.
  if (!t.interrupted()) throw err;
} finally {
  await t.run();
  if (t.interrupted()) process.exit(130);
}

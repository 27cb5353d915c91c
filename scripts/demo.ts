/**
 * The demo, end to end on this machine, with real parts: the dev IdP, the
 * oauth-ssh-server daemon, a real sshd (its own PAM service) loading
 * pam_oauth_ssh.so, a demo account, and the oauth-ssh client running the
 * stock ssh. Tokens are never printed. Everything it sets up is removed when
 * it ends, also on Ctrl-C.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { loadDevIdpConfig } from '../shared/dev-idp/config.js';
import { startDevIdp } from '../shared/dev-idp/server.js';
import { loadServerConfig } from '../server-pam/config.js';
import { startDaemon } from '../server-pam/daemon.js';
import type { AuditEvent } from '../server-pam/audit.js';
import { clientEnv, runClient, type ClientRun } from '../test/helpers/client.js';
import { BRIDGE_SO } from '../test/helpers/pam.js';
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

const t = scriptTeardown();
const results: Record<string, boolean> = {};
try {
  step('1. Authorization server: oauth-ssh-dev-idp (users alice and bob, shared/dev-idp/example.yaml)');
  const idp = await startDevIdp({ config: loadDevIdpConfig('shared/dev-idp/example.yaml'), port: Number(process.env.OAUTH_SSH_DEMO_PORT ?? 0), control: true });
  t.teardown(() => idp.close());
  console.log(`   listening on ${idp.url}`);

  step('2. SSH server: oauth-ssh-server + a real sshd loading pam_oauth_ssh.so');
  const dir = await tempDir(t, 'oauth-ssh-demo-');
  const user = await createTestUser(t, { name: DEMO_USER });
  await writeFile(join(dir, 'accounts.map'), `alice@example.org ${user.name}\n`, { mode: 0o644 });
  const configFile = join(dir, 'oauth-ssh.conf');
  await writeFile(
    configFile,
    [`client_id ${SSH_SERVICE}`, 'client_secret dev-only-secret-change-me', `auth_url ${idp.url}`, `map_file ${join(dir, 'accounts.map')}`, 'authentication_timeout 60', 'introspection_cache_ttl 0', `socket ${join(dir, 'run/pam.sock')}`, ''].join('\n'),
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
  let approving = false;
  const login = await oauthSsh(['login', ALIAS, '--device'], (stderr) => {
    const code = /enter the code ([A-Z]{4}-[A-Z]{4})/.exec(stderr)?.[1];
    if (!code || approving) return;
    approving = true;
    void (async () => {
      if (interactive) {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        await rl.question('   Approve it in your browser as alice@example.org, or press Enter to let the demo approve: ');
        rl.close();
      }
      await control(idp.url, `devices/${code}/approve`, { identity: 'alice@example.org' });
    })();
  });
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

  const failed = Object.entries(results).filter(([, v]) => !v).map(([k]) => k);
  if (failed.length) {
    console.error(`\ndemo: these steps did not behave as they should: ${failed.join(', ')}`);
    process.exitCode = 1;
  } else {
    console.log('\ndemo: all steps behaved as expected');
  }
} finally {
  await t.run();
}

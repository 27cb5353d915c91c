/**
 * The demo, end to end on this machine, with real parts: the dev IdP, the
 * oauth-ssh-server daemon, a real sshd (its own PAM service) loading
 * pam_oauth_ssh.so, a demo account, and the stock ssh client answering the
 * token prompt. Tokens are shown only as hash prefixes. Everything it sets up
 * is removed when it ends, also on Ctrl-C.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { loadDevIdpConfig } from '../shared/dev-idp/config.js';
import { startDevIdp } from '../shared/dev-idp/server.js';
import { secretHashPrefix } from '../shared/secret-hash.js';
import { loadServerConfig } from '../server-pam/config.js';
import { startDaemon } from '../server-pam/daemon.js';
import type { AuditEvent } from '../server-pam/audit.js';
import { BRIDGE_SO } from '../test/helpers/pam.js';
import { runSsh } from '../test/helpers/ssh.js';
import { startSshd } from '../test/helpers/sshd.js';
import { scriptTeardown } from '../test/helpers/teardown.js';
import { tempDir } from '../test/helpers/temp.js';
import { createTestUser } from '../test/helpers/users.js';

const CLI_CLIENT = '5d5bdb54-44c4-4a2f-8ec9-46effb994ff3';
const SSH_SERVICE = '864f1f73-da90-4bcd-9a1c-30d9feb10907';
const SCOPE = 'https://auth.globus.org/scopes/ssh.example.org/ssh';
const DEMO_USER = 'oauthdemo';
const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
const step = (text: string) => console.log(`\n== ${text}`);
const indent = (text: string) => text.trimEnd().split('\n').map((l) => `   ${l}`).join('\n');

async function call(url: string, form?: Record<string, string>, json?: unknown): Promise<any> {
  const init: RequestInit = form
    ? { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) }
    : json !== undefined
      ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) }
      : {};
  return (await fetch(url, init)).json();
}

const t = scriptTeardown();
try {
  step('1. Authorization server: oauth-ssh-dev-idp (users alice and bob, shared/dev-idp/example.yaml)');
  const idp = await startDevIdp({ config: loadDevIdpConfig('shared/dev-idp/example.yaml'), port: Number(process.env.OAUTH_SSH_DEMO_PORT ?? 0) });
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
    pamStack: [`auth [success=done maxtries=die new_authtok_reqd=done default=die] ${BRIDGE_SO} socket=${daemon.socketPath}`, `account required ${BRIDGE_SO}`, 'session required pam_permit.so', ''].join('\n'),
  });
  console.log(indent(`sshd on 127.0.0.1:${sshd.port}, PAM service /etc/pam.d/${sshd.serviceName}\naccount ${user.name} <- alice@example.org (map file); policy: a login within the last 60 min
(introspection cache off, so that steps 5 and 6 see the changes at once)`));

  step('3. alice logs in at the authorization server (device flow)');
  const device = await call(`${idp.url}/v2/oauth2/device_authorization`, { client_id: CLI_CLIENT, scope: SCOPE });
  console.log(indent(`open ${device.verification_uri_complete}\n(code ${device.user_code})`));
  if (interactive) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    await rl.question('   Approve it in your browser as alice@example.org, then press Enter (or just press Enter to let the demo approve): ');
    rl.close();
  }
  const pending = await call(`${idp.url}/_dev/devices`);
  if (pending.pending.some((d: { user_code: string }) => d.user_code === device.user_code)) {
    await call(`${idp.url}/_dev/devices/${device.user_code}/approve`, undefined, { identity: 'alice@example.org' });
    console.log('   approved as alice@example.org (control API)');
  }
  const tokens = await call(`${idp.url}/v2/oauth2/token`, { client_id: CLI_CLIENT, grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code });
  if (!tokens.access_token) throw new Error(`login failed: ${tokens.error}: ${tokens.error_description}`);
  console.log(`   access token for ${SCOPE} (sha256 ${secretHashPrefix(tokens.access_token)}…), ${tokens.expires_in} s`);

  step(`4. ssh ${user.name}@127.0.0.1 -p ${sshd.port} 'id -un; uptime' — the token answers the prompt through SSH_ASKPASS`);
  const ok = await runSsh(t, sshd, { user: user.name, answers: [tokens.access_token], command: ['sh', '-c', "'id -un; uptime'"] });
  console.log(indent(`prompt seen: ${ok.prompts.join(' | ')}\nexit ${ok.code}; output:\n${ok.stdout}`));
  console.log(indent(`audit: ${JSON.stringify(audit.at(-1))}`));

  step('5. Two hours later: the same token, but the login is too old for this host');
  await call(`${idp.url}/_dev/sessions/update`, undefined, { identity: 'alice@example.org', auth_age: 7200 });
  const stale = await runSsh(t, sshd, { user: user.name, answers: [tokens.access_token], command: ['true'], sshOptions: ['-o', 'NumberOfPasswordPrompts=1'] });
  console.log(indent(`exit ${stale.code}; ssh printed:\n${stale.stderr}`));

  step('6. After logout (revocation) the token is refused');
  await call(`${idp.url}/_dev/sessions/update`, undefined, { identity: 'alice@example.org', auth_age: 0 });
  await call(`${idp.url}/v2/oauth2/token/revoke`, { client_id: CLI_CLIENT, token: tokens.access_token });
  const revoked = await runSsh(t, sshd, { user: user.name, answers: [tokens.access_token], command: ['true'], sshOptions: ['-o', 'NumberOfPasswordPrompts=1'] });
  console.log(indent(`exit ${revoked.code}; ssh printed:\n${revoked.stderr}`));

  const failed = ok.code !== 0 || ok.stdout.split('\n')[0] !== user.name || stale.code === 0 || revoked.code === 0;
  if (failed) {
    console.error('\ndemo: the results above are not what they should be');
    process.exitCode = 1;
  } else {
    console.log('\ndemo: all steps behaved as expected');
  }
  if (interactive && !failed) {
    console.log(indent(`\nTry it yourself while this runs: ssh -o UserKnownHostsFile=${sshd.knownHosts} -p ${sshd.port} ${user.name}@127.0.0.1\nand paste a token: get one with a device login at ${idp.url}/v2/web/device (see README). Ctrl-C ends the demo.`));
    await new Promise(() => {});
  }
} finally {
  await t.run();
}

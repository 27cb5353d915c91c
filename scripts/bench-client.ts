/**
 * Client benchmark: wall time of `oauth-ssh HOST true` with a cached token
 * against `ssh -i KEY HOST true` to the same sshd, in one run, as a ratio
 * (goal <= 1.10), plus Node's own start-up cost reported separately.
 * Usage: node --import tsx scripts/bench-client.ts [--runs N] [--bin FILE] (another build of the client, e.g. a bundle)
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadServerConfig } from '../server-pam/config.js';
import { startDaemon } from '../server-pam/daemon.js';
import { parseDevIdpConfig } from '../shared/dev-idp/config.js';
import { startDevIdp } from '../shared/dev-idp/server.js';
import { clientEnv } from '../test/helpers/client.js';
import { testIdpDocument } from '../test/helpers/dev-idp.js';
import { BRIDGE_SO } from '../test/helpers/pam.js';
import { writeServerConfig } from '../test/helpers/server.js';
import { startSshd } from '../test/helpers/sshd.js';
import { scriptTeardown } from '../test/helpers/teardown.js';
import { createTestUser } from '../test/helpers/users.js';
import { run } from '../test/helpers/processes.js';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs needs a positive whole number');
const binArg = process.argv.indexOf('--bin');
/** Which build of the client to time: the compiled files (default) or the bundle (dist/bundle/oauth-ssh.js). */
const clientBin = binArg > 0 ? process.argv[binArg + 1]! : 'dist/client/bin.js';
const t = scriptTeardown();

/** Median wall time; asynchronous, because the dev IdP and the daemon run in this process. */
async function timeIt(label: string, command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const started = process.hrtime.bigint();
    const r = await run(command, args, { env });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.code !== 0) throw new Error(`${label} failed: ${r.stderr}`);
    if (i >= 2) samples.push(ms); // two warm-up runs
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!; // median
}

try {
  const idp = await startDevIdp({ config: parseDevIdpConfig(testIdpDocument()), control: true });
  t.teardown(() => idp.close());
  const user = await createTestUser(t);
  const { file } = await writeServerConfig(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['audit_log file:/dev/null'] });
  const daemon = await startDaemon(loadServerConfig(file), { log: () => {} });
  t.teardown(() => daemon.close());
  const sshd = await startSshd(t, {
    // Key logins never pass our auth module: its account stage ignores them and pam_permit decides.
    pamStack: [`auth [success=done default=die] ${BRIDGE_SO} socket=${daemon.socketPath}`, `account [success=ok ignore=ignore default=bad] ${BRIDGE_SO} socket=${daemon.socketPath}`, 'account required pam_permit.so', 'session required pam_permit.so', ''].join('\n'),
    config: ['PubkeyAuthentication yes', 'AuthenticationMethods publickey keyboard-interactive'],
  });
  const client = await clientEnv(t, idp.url, sshd, user.name);

  // Baseline: a key for the same user on the same sshd.
  const key = join(client.home, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  mkdirSync(join(user.home, '.ssh'), { recursive: true, mode: 0o700 });
  writeFileSync(join(user.home, '.ssh', 'authorized_keys'), readFileSync(`${key}.pub`), { mode: 0o600 });
  chownSync(join(user.home, '.ssh'), user.uid, user.uid);
  chownSync(join(user.home, '.ssh', 'authorized_keys'), user.uid, user.uid);

  // A cached token, as after `oauth-ssh login`.
  await fetch(`${idp.url}/_dev/auto-approve`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ identity: 'alice@example.org' }) });
  const browser = join(client.home, 'browser');
  writeFileSync(browser, '#!/bin/sh\nexec curl -fsSL -o /dev/null "$1"\n', { mode: 0o755 });
  const loggedIn = await run(process.execPath, ['dist/client/bin.js', 'login', client.hostAlias], { env: { ...client.env, BROWSER: browser } });
  if (loggedIn.code !== 0) throw new Error(`login failed: ${loggedIn.stderr}`);

  const sshKey = await timeIt('ssh -i key', 'ssh', ['-F', client.sshConfig, '-i', key, '-o', 'PreferredAuthentications=publickey', '-o', 'IdentitiesOnly=yes', client.hostAlias, 'true'], client.env);
  const oauth = await timeIt('oauth-ssh', process.execPath, [clientBin, '-F', client.sshConfig, '-o', 'PubkeyAuthentication=no', client.hostAlias, 'true'], client.env);
  // The same keyboard-interactive login with plain ssh and a trivial askpass: what the protocol and server cost, without our client.
  const tokenFile = join(client.home, 'bench-token');
  const shown = await run(process.execPath, ['dist/client/bin.js', 'token', 'show', client.hostAlias], { env: client.env });
  writeFileSync(tokenFile, shown.stdout, { mode: 0o600 });
  const trivialAskpass = join(client.home, 'bench-askpass');
  writeFileSync(trivialAskpass, `#!/bin/sh\nexec cat '${tokenFile}'\n`, { mode: 0o700 });
  const sshKbd = await timeIt('ssh kbd-interactive', 'ssh', ['-F', client.sshConfig, '-o', 'PubkeyAuthentication=no', client.hostAlias, 'true'], { ...client.env, SSH_ASKPASS: trivialAskpass, SSH_ASKPASS_REQUIRE: 'force' });
  const sshG = await timeIt('ssh -G', 'ssh', ['-G', '-F', client.sshConfig, client.hostAlias], client.env);
  const nodeStart = await timeIt('node -e 0', process.execPath, ['-e', '0'], client.env);
  const clientStart = await timeIt('oauth-ssh --version', process.execPath, [clientBin, '--version'], client.env);
  console.log(
    JSON.stringify(
      {
        runs,
        client: clientBin,
        ssh_key_ms: +sshKey.toFixed(1),
        oauth_ssh_cached_ms: +oauth.toFixed(1),
        ratio_oauth_ssh_vs_ssh_key: +(oauth / sshKey).toFixed(2),
        goal_ratio: 1.1,
        ssh_kbd_interactive_trivial_askpass_ms: +sshKbd.toFixed(1),
        ratio_oauth_ssh_vs_same_login_without_client: +(oauth / sshKbd).toFixed(2),
        ssh_G_ms: +sshG.toFixed(1),
        node_startup_ms: +nodeStart.toFixed(1),
        oauth_ssh_startup_ms: +clientStart.toFixed(1),
      },
      null,
      2,
    ),
  );
} finally {
  await t.run();
}

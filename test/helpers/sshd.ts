/**
 * A real OpenSSH sshd on 127.0.0.1 for one test. It runs through a symlink
 * named oauth-ssh-test-<random>: sshd uses its argv[0] basename as the PAM
 * service name, so /etc/pam.d/<that name> belongs to this test alone and the
 * machine's own sshd and /etc/pam.d/sshd are never touched.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Teardown } from './teardown.js';
import { installPamService } from './pam.js';
import { freePort, runOk, stopProcess, waitForOutput } from './processes.js';
import { tempDir } from './temp.js';

export const SSHD_BINARY = '/usr/sbin/sshd';

export interface SshdOptions {
  /** Contents of /etc/pam.d/<service> for this sshd. */
  pamStack: string;
  /** Extra sshd_config lines (override the defaults below). */
  config?: string[];
}

export interface Sshd {
  port: number;
  serviceName: string;
  dir: string;
  /** known_hosts file that trusts this sshd's host key. */
  knownHosts: string;
  log(): string;
}

export async function startSshd(t: Teardown, options: SshdOptions): Promise<Sshd> {
  if (!existsSync(SSHD_BINARY)) throw new Error(`${SSHD_BINARY} missing: run scripts/setup`);
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory
  const dir = await tempDir(t, 'oauth-ssh-sshd-');
  const serviceName = await installPamService(t, options.pamStack);

  const hostKey = join(dir, 'host_ed25519');
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const sshdPath = join(dir, serviceName);
  await symlink(SSHD_BINARY, sshdPath);

  // A port can be taken between freePort() and sshd's bind: retry a few times.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const configFile = join(dir, 'sshd_config');
    await writeFile(configFile, sshdConfig(port, hostKey, options.config ?? []).join('\n') + '\n');
    const child = spawn(sshdPath, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      await waitForOutput(child, () => log, /Server listening on 127\.0\.0\.1/, 10_000);
    } catch (err) {
      await stopProcess(child);
      if (/Address already in use/.test(log) && attempt < 3) continue;
      throw err;
    }
    t.teardown(() => stopProcess(child));
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, `[127.0.0.1]:${port} ${await readFile(`${hostKey}.pub`, 'utf8')}`);
    return { port, serviceName, dir, knownHosts, log: () => log };
  }
}

function sshdConfig(port: number, hostKey: string, extra: string[]): string[] {
  const overridden = new Set(extra.map((line) => line.trim().split(/\s+/)[0]!.toLowerCase()));
  const defaults = [
    'UsePAM yes',
    'KbdInteractiveAuthentication yes',
    'PasswordAuthentication no',
    'PubkeyAuthentication no',
    'AuthenticationMethods keyboard-interactive',
    'PermitRootLogin no',
    'LoginGraceTime 60',
    'MaxStartups 50:30:100',
    'LogLevel VERBOSE',
    'Subsystem sftp internal-sftp',
  ].filter((line) => !overridden.has(line.split(' ')[0]!.toLowerCase()));
  // sshd takes the first value of a keyword, so the test's lines come first.
  return [`ListenAddress 127.0.0.1`, `Port ${port}`, `HostKey ${hostKey}`, 'PidFile none', ...extra, ...defaults];
}

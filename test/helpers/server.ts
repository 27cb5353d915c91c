/**
 * oauth-ssh-server for tests: a config file (0600) in a private temp dir,
 * the daemon in-process with its audit events collected, and a PAM service
 * that loads the real pam_oauth_ssh.so against its socket.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Teardown } from './teardown.js';
import type { AuditEvent } from '../../server-pam/audit.js';
import { loadServerConfig, type ServerConfig } from '../../server-pam/config.js';
import { startDaemon } from '../../server-pam/daemon.js';
import { IDS, SSH_SERVICE_SECRET } from './dev-idp.js';
import { BRIDGE_SO, installPamService } from './pam.js';
import { tempDir } from './temp.js';

export interface TestServer {
  config: ServerConfig;
  configFile: string;
  service: string;
  socketPath: string;
  audit: AuditEvent[];
  dir: string;
}

export interface TestServerOptions {
  authUrl: string;
  /** Extra config lines (policy, idp_suffix, ...). */
  lines?: string[];
  /** Map file contents; a map_file line is added when given. */
  mapFile?: string;
  /** Module arguments for pam_oauth_ssh.so. */
  moduleArgs?: string;
}

export async function writeServerConfig(t: Teardown, options: TestServerOptions): Promise<{ file: string; dir: string; socketPath: string }> {
  const dir = await tempDir(t, 'oauth-ssh-test-server-');
  const socketPath = join(dir, 'run', 'pam.sock');
  const lines = [
    `client_id ${IDS.sshService}`,
    `client_secret ${SSH_SERVICE_SECRET}`,
    `auth_url ${options.authUrl}`,
    `socket ${socketPath}`,
    'http_timeout 2',
    ...(options.lines ?? []),
  ];
  if (options.mapFile !== undefined) {
    const mapPath = join(dir, 'accounts.map');
    await writeFile(mapPath, options.mapFile, { mode: 0o644 });
    lines.push(`map_file ${mapPath}`);
  }
  if (!lines.some((l) => /^(idp_suffix|map_file)\b/.test(l))) lines.push('idp_suffix nowhere.invalid');
  const file = join(dir, 'oauth-ssh.conf');
  await writeFile(file, lines.join('\n') + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  return { file, dir, socketPath };
}

/** The daemon on `file` (its socket at `socketPath`), and a PAM service that loads the real bridge against it. */
async function serve(t: Teardown, file: string, dir: string, socketPath: string, moduleArgs = 'timeout=10'): Promise<TestServer> {
  const config = loadServerConfig(file);
  const audit: AuditEvent[] = [];
  const daemon = await startDaemon(config, { audit: async (e) => void audit.push(e), log: () => {} });
  t.teardown(() => daemon.close());
  const service = await installPamService(t, [`auth required ${BRIDGE_SO} socket=${socketPath} ${moduleArgs}`, `account required ${BRIDGE_SO} socket=${socketPath}`].join('\n'));
  return { config, configFile: file, service, socketPath, audit, dir };
}

export async function startTestServer(t: Teardown, options: TestServerOptions): Promise<TestServer> {
  const { file, dir, socketPath } = await writeServerConfig(t, options);
  return serve(t, file, dir, socketPath, options.moduleArgs);
}

/** A server from exactly these config lines (any providers; a socket line is added), for configs without Globus. */
export async function startServerWithLines(t: Teardown, lines: string[] | ((dir: string) => Promise<string[]>), moduleArgs?: string): Promise<TestServer> {
  const dir = await tempDir(t, 'oauth-ssh-test-server-');
  const socketPath = join(dir, 'run', 'pam.sock');
  const file = join(dir, 'oauth-ssh.conf');
  const body = typeof lines === 'function' ? await lines(dir) : lines;
  await writeFile(file, [...body, `socket ${socketPath}`, 'http_timeout 2', ''].join('\n'), { mode: 0o600 });
  await chmod(file, 0o600);
  return serve(t, file, dir, socketPath, moduleArgs);
}

/** The base64 JSON replies among the info lines pamtester printed. */
export function inBandReplies(stdout: string): unknown[] {
  return stdout
    .split('\n')
    .filter((l) => /^ey[A-Za-z0-9+/=]+$/.test(l))
    .map((l) => JSON.parse(Buffer.from(l, 'base64').toString('utf8')));
}

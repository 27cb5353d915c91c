/**
 * The oauth-ssh client for tests: a private HOME with XDG directories, a
 * client config pointing at the dev IdP, an ssh config and known_hosts for
 * the test sshd (passed with -F: ssh reads ~ from the passwd entry, not
 * $HOME), and a runner for the real CLI process without a terminal.
 */
import { spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IDS, SSH_FQDN } from './dev-idp.js';
import type { RunResult } from './processes.js';
import type { Sshd } from './sshd.js';
import type { Teardown } from './teardown.js';
import { tempDir } from './temp.js';

export interface ClientEnv {
  home: string;
  env: NodeJS.ProcessEnv;
  sshConfig: string;
  /** ssh options that select the test's ssh config. */
  sshArgs: string[];
  hostAlias: string;
}

export async function clientEnv(t: Teardown, authUrl: string, sshd: Sshd, user: string, extraConfig = '', hostAlias = 'testhost'): Promise<ClientEnv> {
  const home = await tempDir(t, 'oauth-ssh-test-home-');
  await chmod(home, 0o755);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_STATE_HOME: join(home, '.local/state'),
    XDG_RUNTIME_DIR: home,
    OAUTH_SSH_CONFIG: join(home, 'oauth-ssh.yaml'),
  };
  await writeFile(
    env.OAUTH_SSH_CONFIG!,
    // `login ALIAS` resolves without the test's -F, so the alias itself is matched too.
    `auth_url: ${authUrl}\nclient_id: ${IDS.cli}\nbackend: file\nhosts:\n  - match: ${hostAlias}\n    fqdn: ${SSH_FQDN}\n  - match: 127.0.0.1\n    fqdn: ${SSH_FQDN}\n${extraConfig}`,
  );
  const sshConfig = join(home, 'ssh_config');
  await writeFile(
    sshConfig,
    `Host ${hostAlias}\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${user}\n\nHost *\n  UserKnownHostsFile ${sshd.knownHosts}\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  PreferredAuthentications keyboard-interactive\n  NumberOfPasswordPrompts 1\n`,
  );
  return { home, env, sshConfig, sshArgs: ['-F', sshConfig], hostAlias };
}

export interface ClientRun extends RunResult {
  elapsedMs: number;
}

/** Runs `oauth-ssh ARGS` (no terminal: setsid), calling `onStderr` as output arrives. */
export function runClient(client: ClientEnv, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; onStderr?: (text: string) => void; timeoutMs?: number } = {}): Promise<ClientRun> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'client/bin.ts'), ...args], {
    env: { ...client.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    options.onStderr?.(stderr);
  });
  child.stdin.on('error', () => {});
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, elapsedMs: Date.now() - started });
    });
  });
}

/** Approves the device code as soon as the client prints it. */
export function approveWhenShown(idp: { control(method: string, path: string, body?: unknown): Promise<unknown> }, identity: string, extra: Record<string, unknown> = {}) {
  let done = false;
  return (stderr: string) => {
    const m = /enter the code:\s+([A-Z]{4}-[A-Z]{4})/.exec(stderr);
    if (m && !done) {
      done = true;
      void idp.control('POST', `devices/${m[1]}/approve`, { identity, ...extra });
    }
  };
}

export { SSH_FQDN };

/** The client's command line for sh (node, tsx, the entry point, ARGS), each word quoted. */
export function clientCommand(args: string[]): string {
  return [process.execPath, '--import', import.meta.resolve('tsx'), join(process.cwd(), 'client/bin.ts'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
}

export interface TerminalRun {
  /** Everything the terminal showed so far. */
  output(): string;
  /** Types on the terminal. */
  type(text: string): void;
  /** The exit status of `script` (that of the command), or null when it was killed at the time bound. */
  done: Promise<number | null>;
}

/**
 * Runs an sh command line with a real terminal (util-linux `script` gives it
 * a pty, and /dev/tty is that pty), typing what `onOutput` decides.
 */
export function inTerminal(command: string, env: NodeJS.ProcessEnv, options: { onOutput?: (output: string, run: TerminalRun) => void; timeoutMs?: number } = {}): TerminalRun {
  const child = spawn('script', ['-qefc', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let out = '';
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const runHandle: TerminalRun = {
    output: () => out,
    type: (text) => void child.stdin.write(text),
    done: new Promise((resolve) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      }),
    ),
  };
  child.stdin.on('error', () => {});
  const take = (d: Buffer) => {
    out += d.toString();
    options.onOutput?.(out, runHandle);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  return runHandle;
}

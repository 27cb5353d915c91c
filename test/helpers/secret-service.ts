/**
 * A real Secret Service for keychain tests: a private D-Bus session bus and
 * gnome-keyring-daemon (secrets component, login keyring unlocked) with a
 * temporary HOME. Processes started with `env` use it exactly as a desktop
 * session would; the machine's own keyrings are never touched.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Teardown } from './teardown.js';
import type { ChildProcess } from 'node:child_process';
import { run, stopProcess, waitForOutput } from './processes.js';
import { tempDir } from './temp.js';

export interface SecretService {
  /** Environment for child processes that should see this Secret Service. */
  env: NodeJS.ProcessEnv;
  home: string;
}

export async function startSecretService(t: Teardown): Promise<SecretService> {
  const home = await tempDir(t, 'oauth-ssh-keyring-');
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_RUNTIME_DIR: home,
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
  };
  const busAddress = `unix:path=${join(home, 'bus')}`;
  const bus = spawn('dbus-daemon', ['--session', '--nofork', `--address=${busAddress}`, '--print-address=1'], { env: baseEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let busOut = '';
  bus.stdout.on('data', (d: Buffer) => (busOut += d.toString()));
  bus.stderr.on('data', (d: Buffer) => (busOut += d.toString()));
  t.teardown(() => stopProcess(bus));
  await waitForOutput(bus, () => busOut, /unix:path=/, 10_000);

  const env = { ...baseEnv, DBUS_SESSION_BUS_ADDRESS: busAddress };
  const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let keyringOut = '';
  keyring.stdout.on('data', (d: Buffer) => (keyringOut += d.toString()));
  keyring.stderr.on('data', (d: Buffer) => (keyringOut += d.toString()));
  t.teardown(() => stopProcess(keyring));
  // --unlock reads the new login keyring's password from stdin until EOF.
  keyring.stdin.on('error', () => {}); // if it dies first, waitForSecretsOnBus reports its output
  keyring.stdin.end('test-keyring-password');
  await waitForSecretsOnBus(env, keyring, () => keyringOut);
  return { env, home };
}

/** In --foreground mode gnome-keyring prints nothing; ready means it owns org.freedesktop.secrets. */
async function waitForSecretsOnBus(env: NodeJS.ProcessEnv, keyring: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const reply = await run('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets'], { env });
    if (/boolean true/.test(reply.stdout)) return;
    if (keyring.exitCode !== null || Date.now() > deadline) throw new Error(`gnome-keyring-daemon did not start: ${output().trim()} ${reply.stderr.trim()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

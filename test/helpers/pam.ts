/**
 * PAM services for tests and pamtester. A service file is named
 * oauth-ssh-test-<random> so it is the test's alone (pamtester silently
 * falls back to /etc/pam.d/other when a service is missing, so tests also
 * check the file exists), and is removed at teardown.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { servicePrefix } from './namespace.js';
import type { Teardown } from './teardown.js';
import { run, type RunResult } from './processes.js';

export const PAM_SERVICE_PREFIX = 'oauth-ssh-test-';
export const BRIDGE_SO = resolve('server-pam/pam_oauth_ssh.so');

export async function installPamService(t: Teardown, stack: string, name = `${servicePrefix()}${randomBytes(4).toString('hex')}`): Promise<string> {
  if (!name.startsWith(servicePrefix())) throw new Error(`the harness's PAM services must start with ${servicePrefix()}`);
  const file = join('/etc/pam.d', name);
  t.teardown(() => rm(file, { force: true }));
  await writeFile(file, stack.endsWith('\n') ? stack : `${stack}\n`, { mode: 0o644 });
  return name;
}

export interface PamtesterResult extends RunResult {
  elapsedMs: number;
  /** stderr then stdout: PAM error messages go to stderr, info messages to stdout. */
  output: string;
  /** `output` without pamtester's own lines: what the module told the user. */
  messages: string;
}

/** Runs pamtester; `input` is what the "user" types at the prompts (stdin). */
export async function pamtester(service: string, user: string, operations: string[], input = ''): Promise<PamtesterResult> {
  if (!existsSync(join('/etc/pam.d', service))) throw new Error(`no PAM service ${service}: pamtester would silently use /etc/pam.d/other`);
  const started = Date.now();
  const result = await run('pamtester', ['-v', service, user, ...operations], { input, timeoutMs: 60_000 });
  const output = result.stderr + result.stdout;
  const messages = output.split('\n').filter((l) => !l.startsWith('pamtester: ')).join('\n');
  return { ...result, elapsedMs: Date.now() - started, output, messages };
}

/** pam_strerror() texts as pamtester prints them. */
export const PAM_TEXT = {
  AUTHINFO_UNAVAIL: 'Authentication service cannot retrieve authentication info',
  AUTH_ERR: 'Authentication failure',
  USER_UNKNOWN: 'User not known to the underlying authentication module',
  MAXTRIES: 'Have exhausted maximum number of retries for service',
  SYSTEM_ERR: 'System error',
  SUCCESS: 'successfully authenticated',
} as const;

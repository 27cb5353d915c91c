/**
 * The real OpenSSH client, non-interactive: no config file, a known_hosts
 * that trusts only the test sshd, no controlling terminal, and every prompt
 * answered by an askpass script (SSH_ASKPASS_REQUIRE=force) from a 0600
 * answers file, one answer per prompt, recording the prompts it saw.
 * The answers travel through a file, never argv or the environment.
 */
import { readFileSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Teardown } from './teardown.js';
import { run, type RunResult } from './processes.js';
import type { Sshd } from './sshd.js';
import { tempDir } from './temp.js';

export interface SshRun extends RunResult {
  /** The prompts ssh passed to askpass, in order. */
  prompts: string[];
}

export interface SshOptions {
  user: string;
  command?: string[];
  answers?: string[];
  sshOptions?: string[];
  timeoutMs?: number;
  /** Called once for each prompt as askpass receives it (to act "after the prompt appeared"). */
  onPrompt?: (prompt: string) => void;
  /** Extra environment for ssh (e.g. a UTF-8 locale, without which ssh escapes non-ASCII prompt text). */
  env?: NodeJS.ProcessEnv;
}

const decoded = (line: string) => Buffer.from(line, 'base64').toString('utf8').trimEnd();

export async function runSsh(t: Teardown, sshd: Sshd, options: SshOptions): Promise<SshRun> {
  const dir = await tempDir(t, 'oauth-ssh-client-');
  const answers = join(dir, 'answers');
  const prompts = join(dir, 'prompts');
  const askpass = join(dir, 'askpass');
  await writeFile(answers, (options.answers ?? []).map((a) => `${a}\n`).join(''), { mode: 0o600 });
  await writeFile(prompts, '', { mode: 0o600 });
  await writeFile(
    askpass,
    // One prompt per line, base64 so that a multi-line prompt (the device prompt) keeps its layout.
    `#!/bin/sh\nn=$(wc -l < '${prompts}')\nprintf '%s' "$1" | base64 -w0 >> '${prompts}'\necho >> '${prompts}'\nsed -n "$((n + 1))p" '${answers}'\n`,
  );
  await chmod(askpass, 0o700);
  let reported = 0;
  const watcher = setInterval(() => {
    if (!options.onPrompt) return;
    let text: string;
    try {
      text = readFileSync(prompts, 'utf8');
    } catch {
      return clearInterval(watcher); // torn down under us (Ctrl-C in the demo): nothing more to report
    }
    const lines = text.split('\n').filter(Boolean);
    for (const line of lines.slice(reported)) options.onPrompt(decoded(line));
    reported = lines.length;
  }, 50);
  const result = await run(
    'ssh',
    [
      '-F', '/dev/null',
      '-p', String(sshd.port),
      '-o', `UserKnownHostsFile=${sshd.knownHosts}`,
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'PreferredAuthentications=keyboard-interactive',
      '-o', 'ConnectTimeout=10',
      ...(options.sshOptions ?? []),
      `${options.user}@127.0.0.1`,
      ...(options.command ?? []),
    ],
    {
      env: { PATH: process.env.PATH, HOME: dir, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0', ...options.env },
      detached: true, // setsid: no controlling terminal, as in CI
      timeoutMs: options.timeoutMs ?? 60_000,
    },
  );
  clearInterval(watcher);
  const seen = (await readFile(prompts, 'utf8')).split('\n').filter(Boolean).map(decoded);
  return { ...result, prompts: seen };
}

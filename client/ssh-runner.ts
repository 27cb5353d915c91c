/**
 * Runs the real ssh with the user's arguments untouched, its stdin, stdout
 * and stderr inherited, and our askpass in its environment. Its exit status
 * becomes ours (128 + signal number when it was killed), so scripts, scp,
 * rsync and git see ssh.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { ownSshEnv, sshProgram, sshSpawnError } from './own-ssh.js';

/** `askpassProgram` null: ssh runs as it would on its own (no prompt of ours to answer). */
export async function runSsh(argv: string[], askpassProgram: string | null): Promise<number> {
  const child = spawn(sshProgram(), argv, {
    stdio: 'inherit',
    env: askpassProgram === null ? ownSshEnv() : ownSshEnv({ SSH_ASKPASS: askpassProgram, SSH_ASKPASS_REQUIRE: 'force' }),
  });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', (err) => reject(sshSpawnError(err)));
      child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1)));
    });
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
}

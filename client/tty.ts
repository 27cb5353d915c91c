/**
 * The user's terminal, even when stdin/stdout belong to a pipe (scp, rsync,
 * git): messages go to stderr, questions go to /dev/tty.
 */
import { openSync, closeSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';

export function hasTerminal(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r+'));
    return true;
  } catch {
    return false;
  }
}

export const say = (text: string): void => void process.stderr.write(`${text}\n`);

/**
 * Ctrl-C at one of our raw-mode prompts does what it does at ssh's own
 * (readpassphrase re-raises the signal): the whole foreground job is
 * interrupted, ssh included. Resolving "no answer" instead would let ssh
 * send an empty one, which starts a server's device flow: a second Ctrl-C.
 */
function interruptJob(): void {
  process.kill(0, 'SIGINT');
}

/** Asks on /dev/tty; echo off hides the answer (passwords). Resolves null when there is no terminal or on Ctrl-D; Ctrl-C interrupts the job. */
export async function askTerminal(prompt: string, echo: boolean): Promise<string | null> {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    return null;
  }
  const input = new ReadStream(fd);
  const output = new WriteStream(fd);
  // Raw (no echo) before the prompt shows: a quick paste must not be echoed by the terminal.
  input.setRawMode(true);
  output.write(prompt);
  return new Promise((resolve) => {
    let answer = '';
    const finish = (value: string | null) => {
      input.setRawMode(false);
      input.removeAllListeners('data');
      if (!echo) output.write('\n');
      input.destroy();
      resolve(value);
    };
    input.on('data', (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(answer);
        if (ch === '\u0003') {
          finish(null);
          return interruptJob();
        }
        if (ch === '\u0004') return finish(null);
        if (ch === '\u007f' || ch === '\b') {
          if (answer.length > 0) {
            answer = answer.slice(0, -1);
            if (echo) output.write('\b \b');
          }
          continue;
        }
        answer += ch;
        if (echo) output.write(ch);
      }
    });
  });
}

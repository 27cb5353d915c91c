/**
 * Answering ssh's prompts. ssh runs SSH_ASKPASS (SSH_ASKPASS_REQUIRE=force)
 * for every keyboard-interactive prompt; ours is a small sh script in a
 * private 0700 directory, written for one connection. It answers only that
 * connection's token prompt, `(user@host) Enter your OAuth token: ` for the
 * expected user and host, by reading a FIFO beside it that the parent
 * oauth-ssh writes the token into once and then removes; the token is never
 * on disk, in argv or in an environment. Every other prompt (passwords,
 * passphrases, host keys, a jump host's token prompt) is asked on the user's
 * terminal as ssh would have (or refused in batch mode). Being sh, not Node,
 * the answer costs no interpreter start-up on the connection's critical path.
 */
import { mkdtempSync, rmSync, writeFileSync, chmodSync, constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfCommand, shellQuote } from './launcher.js';
import { askTerminal } from './tty.js';

export const TOKEN_PROMPT = 'Enter your OAuth token:';

export interface PromptExpectation {
  user: string;
  /** Names ssh may show for this host: HostName, HostKeyAlias (ssh shows them in lower case). */
  hosts: string[];
  /** Whether a prompt without OpenSSH's "(user@host) " prefix may be answered (no jump hosts in play). */
  acceptUnprefixed: boolean;
  /** Batch mode: other prompts are refused instead of asked on the terminal. */
  batch?: boolean;
}

/** The exact prompts (without trailing space) that are this connection's token prompt. */
export function tokenPrompts(expect: PromptExpectation): string[] {
  const prefixed = [...new Set(expect.hosts.map((h) => h.toLowerCase()))].map((h) => `(${expect.user}@${h}) ${TOKEN_PROMPT}`);
  return expect.acceptUnprefixed ? [...prefixed, TOKEN_PROMPT] : prefixed;
}

/** Is `prompt` this connection's token prompt? (The sh askpass applies the same list.) */
export function isTokenPrompt(prompt: string, expect: PromptExpectation): boolean {
  return tokenPrompts(expect).includes(prompt.replace(/ $/, ''));
}

export interface AskpassServer {
  /** Path for SSH_ASKPASS. */
  program: string;
  /** How many times the token was handed out. */
  answered(): number;
  close(): void;
}

export async function startAskpassServer(answer: string, expect: PromptExpectation): Promise<AskpassServer> {
  const base = process.env.XDG_RUNTIME_DIR && process.env.XDG_RUNTIME_DIR.startsWith('/') ? process.env.XDG_RUNTIME_DIR : tmpdir();
  const dir = mkdtempSync(join(base, 'oauth-ssh-askpass-'));
  chmodSync(dir, 0o700);
  const fifo = join(dir, 'answer');
  execFileSync('mkfifo', ['-m', '600', fifo]);
  const patterns = tokenPrompts(expect).flatMap((p) => [shellQuote(p), shellQuote(`${p} `)]).join('|');
  const other = expect.batch ? 'exit 1' : `exec ${selfCommand()} __askpass-ask "$1"`;
  const program = join(dir, 'askpass');
  writeFileSync(program, `#!/bin/sh
case "$1" in
  ${patterns}) exec cat ${shellQuote(fifo)} 2>/dev/null ;;
esac
${other}
`, { mode: 0o700 });

  // One writer, opened in the background: it completes when the script's cat opens the FIFO.
  let answers = 0;
  let closed = false;
  const writer = (async () => {
    const handle = await open(fifo, 'w');
    try {
      if (closed) return;
      answers++;
      rmSync(fifo, { force: true }); // a second token prompt finds nothing: the first answer was refused
      await handle.write(`${answer}\n`);
    } finally {
      await handle.close();
    }
  })().catch(() => {});
  return {
    program,
    answered: () => answers,
    close: () => {
      closed = true;
      // Release a writer still waiting for a reader, then forget everything.
      try {
        const fd = open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
        void fd.then((h) => writer.finally(() => h.close())).catch(() => {});
      } catch {
        // already answered and removed
      }
      void writer.finally(() => rmSync(dir, { recursive: true, force: true }));
    },
  };
}

/** Asks a prompt that is not ours on the terminal, echoing only for yes/no questions (host keys). */
export async function askPerson(prompt: string): Promise<number> {
  const answer = await askTerminal(prompt, /\(yes\/no/.test(prompt));
  if (answer === null) return 1;
  process.stdout.write(`${answer}\n`);
  return 0;
}

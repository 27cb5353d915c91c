/**
 * Answering ssh's prompts. ssh runs SSH_ASKPASS (SSH_ASKPASS_REQUIRE=force)
 * for every keyboard-interactive prompt; ours is a small sh script in a
 * private 0700 directory, written for one connection. It answers only that
 * connection's token prompt, `(user@host) Enter your OAuth token: ` for the
 * expected user and host, by reading one line from a FIFO beside it that the
 * parent oauth-ssh filled (and removing the FIFO); the token is never on
 * disk, in argv or in an environment. Every other prompt (passwords,
 * passphrases, host keys, a jump host's token prompt) is asked on the user's
 * terminal as ssh would have (or refused in batch mode). Being sh, not Node,
 * the answer costs no interpreter start-up on the connection's critical path.
 */
import { chmodSync, closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partPrompt, splitToken } from '../shared/token-parts.js';
import { selfCommand, shellQuote } from './launcher.js';

export const TOKEN_PROMPT = 'Enter your OAuth token:';

export interface PromptExpectation {
  user: string;
  /** Names ssh may show for this host: HostName, HostKeyAlias (ssh shows them in lower case). */
  hosts: string[];
  /** Whether a prompt without OpenSSH's "(user@host) " prefix may be answered (no jump hosts in play). */
  acceptUnprefixed: boolean;
  /** Batch mode: other prompts are refused instead of asked on the terminal. */
  batch?: boolean;
  /**
   * In batch mode, still ask host-key questions on the terminal: the policy
   * query meets a new host's key before the connection does, and the answer
   * belongs to the person, as with ssh (known_hosts then has it for both).
   */
  askHostKeys?: boolean;
}

/** `text` as ssh shows it for this connection's user and host (without trailing space). */
function promptsFor(expect: PromptExpectation, text: string): string[] {
  const prefixed = [...new Set(expect.hosts.map((h) => h.toLowerCase()))].map((h) => `(${expect.user}@${h}) ${text}`);
  return expect.acceptUnprefixed ? [...prefixed, text] : prefixed;
}

/** The exact prompts (without trailing space) that are this connection's token prompt. */
export function tokenPrompts(expect: PromptExpectation): string[] {
  return promptsFor(expect, TOKEN_PROMPT);
}

/** Is `prompt` this connection's token prompt? (The sh askpass applies the same list.) */
export function isTokenPrompt(prompt: string, expect: PromptExpectation): boolean {
  return tokenPrompts(expect).includes(prompt.replace(/ $/, ''));
}

export interface AskpassServer {
  /** Path for SSH_ASKPASS. */
  program: string;
  /** How many times the token (its first part) was handed out. */
  answered(): number;
  close(): void;
}

/**
 * Serves `answer` (split into parts when long: shared/token-parts.ts), each
 * part through its own FIFO. The parent opens every FIFO read-write (which
 * never blocks on Linux) and puts its line in the pipe at once; the script
 * reads one line and removes the FIFO, so a repeated prompt finds nothing
 * and is refused by ending that ssh: ssh would send an empty answer in its
 * place, and an empty answer starts the server's device flow. Nothing waits on a thread, however many parts there are.
 */
export async function startAskpassServer(answer: string, expect: PromptExpectation): Promise<AskpassServer> {
  const base = process.env.XDG_RUNTIME_DIR && process.env.XDG_RUNTIME_DIR.startsWith('/') ? process.env.XDG_RUNTIME_DIR : tmpdir();
  const dir = mkdtempSync(join(base, 'oauth-ssh-askpass-'));
  chmodSync(dir, 0o700);
  const parts = splitToken(answer);
  const fifos = parts.map((_, i) => join(dir, `answer-${i + 1}`));
  execFileSync('mkfifo', ['-m', '600', ...fifos]);
  const fds = parts.map((part, i) => {
    const fd = openSync(fifos[i]!, constants.O_RDWR);
    writeSync(fd, `${part}\n`);
    return fd;
  });
  const cases = parts.map((_, i) => {
    const text = i === 0 ? TOKEN_PROMPT : partPrompt(i + 1, parts.length).trimEnd();
    const patterns = promptsFor(expect, text).flatMap((p) => [shellQuote(p), shellQuote(`${p} `)]).join('|');
    return `  ${patterns}) f=${shellQuote(fifos[i]!)} ;;`;
  });
  const ask = `exec ${selfCommand()} __askpass-ask "$1"`;
  const hostKeyCase = expect.batch && expect.askHostKeys ? [`  *'(yes/no'*) ${ask} ;;`] : [];
  const other = expect.batch ? 'exit 1' : ask;
  const program = join(dir, 'askpass');
  writeFileSync(
    program,
    `#!/bin/sh\nf=\ncase "$1" in\n${[...cases, ...hostKeyCase].join('\n')}\n  *) ${other} ;;\nesac\n[ -p "$f" ] || { kill -TERM "$PPID"; exit 1; }\nIFS= read -r line < "$f" || exit 1\nrm -f "$f"\nprintf '%s\\n' "$line"\n`,
    { mode: 0o700 },
  );
  return {
    program,
    answered: () => (existsSync(fifos[0]!) ? 0 : 1),
    close: () => {
      for (const fd of fds) closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Asks a prompt that is not ours on the terminal, echoing only for yes/no questions (host keys). */
export async function askPerson(prompt: string): Promise<number> {
  const { askTerminal } = await import('./tty.js');
  const answer = await askTerminal(prompt, /\(yes\/no/.test(prompt));
  if (answer === null) return 1;
  process.stdout.write(`${answer}\n`);
  return 0;
}

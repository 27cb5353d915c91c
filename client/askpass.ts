/**
 * Answering ssh's prompts. ssh runs SSH_ASKPASS (SSH_ASKPASS_REQUIRE=force)
 * for every keyboard-interactive prompt; ours is a launcher in a private
 * 0700 directory that asks the parent oauth-ssh over a Unix socket in the
 * same directory. The parent answers only this connection's token prompt,
 * `(user@host) Enter your OAuth token: ` for the expected user and host, and
 * only once; every other prompt (passwords, passphrases, host keys, a jump
 * host's token prompt) is asked on the user's terminal, as ssh would have.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLauncher } from './launcher.js';
import { askTerminal } from './tty.js';

export const TOKEN_PROMPT = 'Enter your OAuth token: ';

export interface PromptExpectation {
  user: string;
  /** Names ssh may show for this host: HostName, HostKeyAlias. */
  hosts: string[];
  /** Whether a prompt without OpenSSH's "(user@host) " prefix may be answered (no jump hosts in play). */
  acceptUnprefixed: boolean;
  /** Batch mode: other prompts are refused instead of asked on the terminal. */
  batch?: boolean;
}

/** Is `prompt` this connection's token prompt? */
export function isTokenPrompt(prompt: string, expect: PromptExpectation): boolean {
  const text = `${prompt.trimEnd()} `;
  if (text === TOKEN_PROMPT) return expect.acceptUnprefixed;
  const m = /^\((.*)@([^@()]*)\) Enter your OAuth token: $/.exec(text);
  return m !== null && m[1] === expect.user && expect.hosts.some((h) => h.toLowerCase() === m[2]!.toLowerCase());
}

export interface AskpassServer {
  /** Path for SSH_ASKPASS. */
  program: string;
  /** How many times the token was handed out. */
  answered(): number;
  close(): void;
}

export async function startAskpassServer(token: string, expect: PromptExpectation): Promise<AskpassServer> {
  const base = process.env.XDG_RUNTIME_DIR && process.env.XDG_RUNTIME_DIR.startsWith('/') ? process.env.XDG_RUNTIME_DIR : tmpdir();
  const dir = mkdtempSync(join(base, 'oauth-ssh-askpass-'));
  chmodSync(dir, 0o700);
  const socketPath = join(dir, 's');
  let answers = 0;
  const server: Server = createServer((socket) => {
    let buffer = '';
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      buffer += d.toString('utf8');
      if (!buffer.includes('\n') || buffer.length > 65536) return;
      let prompt = '';
      try {
        prompt = String((JSON.parse(buffer.slice(0, buffer.indexOf('\n'))) as { prompt?: unknown }).prompt ?? '');
      } catch {
        socket.destroy();
        return;
      }
      if (isTokenPrompt(prompt, expect)) {
        // One answer per connection: a second token prompt means the first was refused.
        socket.end(`${JSON.stringify(answers++ === 0 ? { answer: token } : { cancel: true })}\n`);
      } else {
        socket.end(`${JSON.stringify(expect.batch ? { cancel: true } : { ask: true })}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  chmodSync(socketPath, 0o600);
  const program = join(dir, 'askpass');
  // The launcher runs this same program in helper mode; nothing secret is in it.
  writeLauncher(program, ['__askpass', socketPath]);
  return {
    program,
    answered: () => answers,
    close: () => {
      server.close();
      rmSync(dir, { recursive: true, force: true });
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

/** The helper side, run by ssh as SSH_ASKPASS: prints the answer on stdout, or exits 1 to cancel. */
export async function askpassHelper(socketPath: string, prompt: string): Promise<number> {
  const reply = await new Promise<{ answer?: string; ask?: boolean; cancel?: boolean }>((resolve) => {
    const socket = createConnection(socketPath);
    let buffer = '';
    socket.on('connect', () => socket.write(`${JSON.stringify({ prompt })}\n`));
    socket.on('data', (d: Buffer) => (buffer += d.toString('utf8')));
    socket.on('end', () => {
      try {
        resolve(JSON.parse(buffer));
      } catch {
        resolve({ ask: true });
      }
    });
    socket.on('error', () => resolve({ ask: true }));
  });
  if (reply.answer !== undefined) {
    process.stdout.write(`${reply.answer}\n`);
    return 0;
  }
  if (reply.cancel) return 1;
  return askPerson(prompt);
}

/**
 * The two helpers behind `oauth-ssh setup`: `ensure HOST` (run by ssh_config's
 * Match exec before connecting) and the standalone askpass (run by ssh as
 * SSH_ASKPASS), which finds the token for the host named in the prompt.
 */
import { readFileSync } from 'node:fs';
import { errorMessage } from '../../shared/errors.js';
import { sanitizeForTerminal } from '../../shared/sanitize.js';
import { askPerson } from '../askpass.js';
import { loadClientConfig, settingsForHost } from '../config.js';
import { hostKey, TokenStore } from '../store/token-store.js';
import { loginAdvice } from '../ssh-resolve.js';
import { acquireToken, resolveTarget } from '../tokens.js';
import { OWN_SSH_MARK } from '../own-ssh.js';
import { hasTerminal, say } from '../tty.js';

/**
 * A login may start only where a person sees it: a terminal to answer on
 * and stderr on a terminal (ssh -G run by an IDE or a script captures it).
 */
const personWatching = () => hasTerminal() && process.stderr.isTTY === true;

/** Exits when the ssh that ran this hook is gone: a killed ssh must not leave a login waiting behind it. */
function exitWithParent(): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 500).unref();
}

/** Exit 0 when HOST has a fresh token (Match exec then applies); 1 with the reason on stderr otherwise. */
export async function ensure(host: string): Promise<number> {
  // Helpers written before the sh check carry it here: oauth-ssh's own ssh holds its token already.
  if (process.env[OWN_SSH_MARK]) return 0;
  exitWithParent();
  try {
    const config = await loadClientConfig();
    const store = TokenStore.open(config.backend);
    const { target, server } = await resolveTarget(config, [host]);
    try {
      await acquireToken(store, server, target, { mode: 'auto', forceLogin: false, mayLogin: personWatching(), minValidity: config.refreshMargin, typed: { name: host, loginArgs: host } });
      return 0;
    } finally {
      await server.close();
    }
  } catch (err) {
    say(`oauth-ssh: ${errorMessage(err)}`);
    return 1;
  }
}

/**
 * `(user@host) Enter your OAuth token: `, ssh's prefix then the server's text. Neither part may
 * hold a parenthesis: otherwise a server could send `x@victim) Enter your OAuth token:` and, behind
 * ssh's own `(user@evil) `, be answered with victim's token.
 */
const PROMPT = /^\(([^()]*)@([^@()]*)\) Enter your OAuth token: ?$/;

/** The host a standalone token prompt is for, or null when the prompt is not ssh's token prompt. */
export function tokenPromptHost(prompt: string): string | null {
  return PROMPT.exec(prompt.trimEnd())?.[2] ?? null;
}

/**
 * ssh sends an empty answer when askpass gives none, and an empty answer
 * starts the server's device flow (when it offers one): with nobody at a
 * terminal that waits minutes for an approval that cannot come. Ending the
 * ssh that asked (our parent) is the one way to decline the prompt.
 */
function endAskingSsh(): void {
  try {
    if (readFileSync(`/proc/${process.ppid}/comm`, 'utf8').trim() === 'ssh') process.kill(process.ppid, 'SIGTERM');
  } catch {
    // not ssh, or gone already
  }
}

export async function standaloneAskpass(prompt: string): Promise<number> {
  const host = tokenPromptHost(prompt);
  if (host === null) return askPerson(prompt);
  try {
    const config = await loadClientConfig();
    const settings = settingsForHost(config, [host]);
    const store = TokenStore.open(config.backend);
    const record = store.record(hostKey(settings.authUrl, settings.fqdn));
    const secrets = record && record.expiresAt > Date.now() / 1000 ? await store.secrets(record) : null;
    if (secrets) {
      process.stdout.write(`${secrets.accessToken}\n`);
      return 0;
    }
    say(`oauth-ssh: no valid token for ${sanitizeForTerminal(host)}: run ${loginAdvice(sanitizeForTerminal(host))}${hasTerminal() ? ' (or paste a token)' : ''}`);
  } catch (err) {
    say(`oauth-ssh: ${errorMessage(err)}`);
  }
  if (!hasTerminal()) {
    endAskingSsh();
    return 1;
  }
  return askPerson(prompt);
}

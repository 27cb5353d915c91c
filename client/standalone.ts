/**
 * The two helpers behind `oauth-ssh setup`: `ensure HOST` (run by ssh_config's
 * Match exec before connecting) and the standalone askpass (run by ssh as
 * SSH_ASKPASS), which finds the token for the host named in the prompt.
 */
import { errorMessage } from '../shared/errors.js';
import { askPerson } from './askpass.js';
import { loadClientConfig, settingsForHost } from './config.js';
import { hostKey, TokenStore } from './store/token-store.js';
import { acquireToken, resolveTarget } from './tokens.js';
import { hasTerminal, say } from './tty.js';

/** Exit 0 when HOST has a fresh token (Match exec then applies); 1 with the reason on stderr otherwise. */
export async function ensure(host: string): Promise<number> {
  try {
    const config = await loadClientConfig();
    const store = TokenStore.open(config.backend);
    const { target, server } = await resolveTarget(config, [host]);
    try {
      await acquireToken(store, server, target, { mode: 'browser', forceLogin: false, mayLogin: hasTerminal(), minValidity: config.refreshMargin });
      return 0;
    } finally {
      await server.close();
    }
  } catch (err) {
    say(`oauth-ssh: ${errorMessage(err)}`);
    return 1;
  }
}

const PROMPT = /^\((.*)@([^@()]*)\) Enter your OAuth token: ?$/;

export async function standaloneAskpass(prompt: string): Promise<number> {
  const m = PROMPT.exec(prompt.trimEnd());
  if (!m) return askPerson(prompt);
  try {
    const config = await loadClientConfig();
    const settings = settingsForHost(config, [m[2]!]);
    const store = TokenStore.open(config.backend);
    const record = store.record(hostKey(settings.authUrl, settings.fqdn));
    const secrets = record && record.expiresAt > Date.now() / 1000 ? await store.secrets(record) : null;
    if (secrets) {
      process.stdout.write(`${secrets.accessToken}\n`);
      return 0;
    }
    say(`oauth-ssh: no valid token for ${settings.fqdn}: run \`oauth-ssh login ${m[2]}\` (or paste a token)`);
  } catch (err) {
    say(`oauth-ssh: ${errorMessage(err)}`);
  }
  return askPerson(prompt);
}

import type { Argv } from 'yargs';
import { errorMessage, UsageError } from '../../shared/errors.js';
import { sanitizeForTerminal } from '../../shared/sanitize.js';
import { authServerFor } from '../tokens.js';
import { loadClientConfig } from '../config.js';
import { hostArgs, hostContext } from '../host-context.js';
import { TokenStore, type HostRecord } from '../store/token-store.js';
import { say } from '../tty.js';

/** Revokes at the authorization server (refresh token first: it takes its access tokens along), then forgets locally. */
async function logoutRecord(store: TokenStore, record: HostRecord): Promise<void> {
  const secrets = await store.secrets(record);
  const server = authServerFor(record);
  let refused: string | null = null;
  try {
    // The refresh token first (RFC 7009: its grant's access tokens go with it at most providers); a JWT
    // access token cannot be revoked (providers refuse it), it can only expire.
    const access = secrets?.accessToken;
    for (const token of [secrets?.refreshToken, access && !access.includes('.') ? access : undefined]) if (token) await server.revoke(token);
  } catch (err) {
    refused = errorMessage(err);
    say(`oauth-ssh: could not revoke the token for ${record.fqdn} (${sanitizeForTerminal(refused)}); removing it locally anyway`);
  } finally {
    await server.close();
  }
  await store.remove(record);
  // A refresh token the provider kept can outlive the local copy by months: say so where the user looks (token list).
  if (refused !== null && secrets?.refreshToken) {
    await store.noteUnrevoked(record, refused);
    say(`oauth-ssh: the refresh token may still be valid at ${record.authUrl}; revoke the session there (its account page) if it matters. \`oauth-ssh token list\` keeps a note of this.`);
  } else await store.dropUnrevoked(record.key);
  say(`Logged out of ${record.fqdn}.`);
}

export const logoutCommand = {
  command: 'logout [host]',
  describe: 'revoke the token for HOST (or --all) at the authorization server and forget it',
  builder: (y: Argv) => y.positional('host', { type: 'string' }).option('all', { type: 'boolean', default: false, describe: 'every host' }),
  handler: async (argv: { host?: string; all: boolean; '--'?: string[] }) => {
    if (argv.all === (argv.host !== undefined || (argv['--']?.length ?? 0) > 0)) throw new UsageError('name a host or give --all');
    if (argv.all) {
      const store = TokenStore.open((await loadClientConfig()).backend);
      for (const record of store.list()) await logoutRecord(store, record);
      return;
    }
    const ctx = await hostContext(hostArgs(argv));
    const record = ctx.store.record(ctx.key);
    if (!record) {
      // Nothing to revoke: a note about an earlier refused revocation is dropped (the user has dealt with it).
      if (await ctx.store.dropUnrevoked(ctx.key)) say(`Not logged in for ${argv.host}; dropped the note about its unrevoked refresh token.`);
      else say(`Not logged in for ${argv.host}.`);
      return;
    }
    await logoutRecord(ctx.store, record);
  },
};

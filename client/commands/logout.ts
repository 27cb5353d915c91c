import type { Argv } from 'yargs';
import { errorMessage, UsageError } from '../../shared/errors.js';
import { sanitizeForTerminal } from '../../shared/sanitize.js';
import { hostArgs } from '../host-context.js';
import type { Secrets } from '../store/secret-store.js';
import type { HostRecord, TokenStore } from '../store/token-store.js';
import { machineContext, type CommandContext } from './context.js';

/** Revokes at the authorization server (refresh token first: it takes its access tokens along), then forgets locally. */
/** A provider's refusal text, with any of our own tokens it echoes cut out, before it is printed or kept. */
function withoutSecrets(text: string, secrets: Secrets | null): string {
  let out = text;
  for (const token of [secrets?.accessToken, secrets?.refreshToken]) if (token) out = out.split(token).join('[token]');
  return out;
}

async function logoutRecord(ctx: CommandContext, store: TokenStore, record: HostRecord): Promise<void> {
  const say = ctx.io.err;
  let secrets: Secrets | null = null;
  try {
    secrets = await store.secrets(record);
  } catch (err) {
    // An unreadable store must not keep the user logged in here: forget the record, say what could not be revoked.
    say(`oauth-ssh: ${errorMessage(err)}; removing the login for ${record.fqdn} here without revoking it`);
  }
  const server = ctx.server(record);
  // Only the refresh token's fate matters for the note: an access token expires on its own.
  let refreshRefused: string | null = record.hasRefresh && secrets === null ? 'the token store could not be read' : null;
  try {
    if (secrets?.refreshToken) {
      try {
        await server.revoke(secrets.refreshToken);
      } catch (err) {
        refreshRefused = withoutSecrets(errorMessage(err), secrets);
        throw err;
      }
    }
    // The refresh token first (RFC 7009: its grant's access tokens go with it at most providers); a JWT
    // access token cannot be revoked (providers refuse it), it can only expire.
    const access = secrets?.accessToken;
    if (access && !access.includes('.')) await server.revoke(access);
  } catch (err) {
    say(`oauth-ssh: could not revoke the token for ${record.fqdn} (${sanitizeForTerminal(withoutSecrets(errorMessage(err), secrets))}); removing it locally anyway`);
  } finally {
    await server.close();
  }
  await store.remove(record);
  // A refresh token the provider kept can outlive the local copy by months: say so where the user looks (token list).
  if (refreshRefused !== null) {
    await store.noteUnrevoked(record, refreshRefused);
    say(`oauth-ssh: the refresh token may still be valid at ${record.authUrl}; revoke the session there (its account page) if it matters. \`oauth-ssh token list\` keeps a note of this.`);
  }
  say(`Logged out of ${record.fqdn}.`);
}

export async function logout(ctx: CommandContext, argv: { host?: string; all: boolean; '--'?: string[] }): Promise<void> {
  if (argv.all === (argv.host !== undefined || (argv['--']?.length ?? 0) > 0)) throw new UsageError('name a host or give --all');
  if (argv.all) {
    const store = ctx.store(await ctx.config());
    for (const record of store.list()) await logoutRecord(ctx, store, record);
    return;
  }
  const host = await ctx.host(hostArgs(argv));
  const record = host.store.record(host.key);
  if (!record) {
    // Nothing to revoke: a note about an earlier refused revocation is dropped (the user has dealt with it).
    if (await host.store.dropUnrevoked(host.key)) ctx.io.err(`Not logged in for ${argv.host}; dropped the note about its unrevoked refresh token.`);
    else ctx.io.err(`Not logged in for ${argv.host}.`);
    return;
  }
  await logoutRecord(ctx, host.store, record);
}

export const logoutCommand = {
  command: 'logout [host]',
  describe: 'revoke the token for HOST (or --all) at the authorization server and forget it',
  builder: (y: Argv) => y.positional('host', { type: 'string' }).option('all', { type: 'boolean', default: false, describe: 'every host' }),
  handler: (argv: { host?: string; all: boolean; '--'?: string[] }) => logout(machineContext(), argv),
};

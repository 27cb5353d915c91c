import type { Argv } from 'yargs';
import { sanitizeForTerminal } from '../../shared/sanitize.js';
import { formatDuration } from '../../shared/format.js';
import { hostArgs } from '../host-context.js';
import type { HostRecord, TokenStore } from '../store/token-store.js';
import { machineContext, type CommandContext, type CommandIO } from './context.js';

function listRow(r: HostRecord, now: number) {
  return {
    host: r.fqdn,
    identity: r.identity,
    idp: r.idp,
    expires_in: r.expiresAt - now,
    auth_age: r.authTime === null ? null : now - r.authTime,
    refresh: r.hasRefresh,
    backend: r.backend,
    auth_url: r.authUrl,
  };
}

/** On stderr, so that `--json` stays the same array: logouts whose refresh token the provider would not revoke. */
function sayUnrevoked(store: TokenStore, io: CommandIO): void {
  const notes = store.unrevoked();
  if (notes.length === 0) return;
  io.err('Logged out here, but not revoked at the provider (the refresh token may still be valid there until it expires):');
  for (const n of notes) io.err(`  ${n.fqdn} at ${n.authUrl}, ${new Date(n.loggedOutAt * 1000).toISOString().slice(0, 10)}: ${sanitizeForTerminal(n.reason)}`);
  io.err('Revoke the session at the provider, then `oauth-ssh logout HOST` drops the note.');
}

export async function tokenList(ctx: CommandContext, argv: { json: boolean }): Promise<void> {
  await ctx.config(); // a broken config is reported here too
  const store = ctx.listingStore();
  const now = Math.floor(ctx.now());
  const rows = store.list().map((r) => listRow(r, now));
  sayUnrevoked(store, ctx.io);
  if (argv.json) {
    ctx.io.out(JSON.stringify(rows, null, 2));
    return;
  }
  if (rows.length === 0) {
    ctx.io.out('No tokens. Log in with `oauth-ssh login HOST`.');
    return;
  }
  const table = rows.map((r) => [
    r.host,
    sanitizeForTerminal(r.identity ?? '-'),
    sanitizeForTerminal(r.idp ?? '-'),
    r.expires_in > 0 ? formatDuration(r.expires_in) : 'expired',
    r.auth_age === null ? '-' : formatDuration(r.auth_age),
    r.refresh ? 'yes' : 'no',
    r.backend,
  ]);
  const header = ['HOST', 'IDENTITY', 'IDP', 'EXPIRES IN', 'AUTH AGE', 'REFRESH', 'STORE'];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  for (const row of [header, ...table]) ctx.io.out(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  if (rows.some((r) => r.backend === 'kernel-keyring')) ctx.io.out('\nkernel-keyring: kept in kernel memory, lost at reboot; see "backend" in the client config.');
}

export async function tokenShow(ctx: CommandContext, argv: { host?: string; '--'?: string[] }): Promise<void> {
  const host = await ctx.host(hostArgs(argv));
  await ctx.withToken(host, async (token) => {
    if (ctx.io.stdoutIsTerminal) ctx.io.err('oauth-ssh: this is a secret: anyone who has it can log in as you until it expires. Paste it only at the host\'s token prompt.');
    ctx.io.out(token);
  });
}

const listCommand = {
  command: 'list',
  describe: 'the hosts you have tokens for (reads no secrets)',
  builder: (y: Argv) => y.option('json', { type: 'boolean', default: false }),
  handler: (argv: { json: boolean }) => tokenList(machineContext(), argv),
};

const showCommand = {
  command: 'show [host]',
  describe: 'print the access token for HOST (refreshed if needed), to paste into another SSH client',
  builder: (y: Argv) => y.positional('host', { type: 'string' }),
  handler: (argv: { host?: string; '--'?: string[] }) => tokenShow(machineContext(), argv),
};

export const tokenCommand = {
  command: 'token <command>',
  describe: 'inspect cached tokens: list, show',
  builder: (y: Argv) => y.command(listCommand).command(showCommand).demandCommand(1, 'token list | token show HOST'),
  handler: () => {},
};

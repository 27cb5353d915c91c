import type { Argv } from 'yargs';
import { sanitizeForTerminal } from '../../shared/sanitize.js';
import { hostArgs } from '../host-context.js';
import type { LoginMode } from '../tokens.js';
import { describeStore } from '../store/secret-store.js';
import { machineContext, type CommandContext } from './context.js';

export interface LoginFlags {
  device?: boolean;
  browser?: boolean;
  forceLogin?: boolean;
  identity?: string;
  idp?: string;
}

export function loginMode(flags: LoginFlags): LoginMode {
  if (flags.device) return 'device';
  if (flags.browser === undefined) return 'auto';
  return flags.browser ? 'browser' : 'no-browser';
}

export const loginOptions = <T>(y: Argv<T>) =>
  y
    .option('device', { type: 'boolean', describe: 'use the device flow (a code to enter on another device)' })
    .option('browser', { type: 'boolean', describe: 'open a browser (the default where one can be shown); --no-browser prints the URL and asks for the code it shows' })
    .option('force-login', { type: 'boolean', default: false, describe: 'authenticate afresh even if a session exists' })
    .option('identity', { type: 'string', describe: 'the linked identity (UUID) to authenticate with' })
    .option('idp', { type: 'string', describe: 'the identity provider (domain) to authenticate at' });

export async function login(ctx: CommandContext, argv: LoginFlags & { host?: string; '--'?: string[] }): Promise<void> {
  const host = await ctx.host(hostArgs(argv));
  const record = await ctx.login(host, {
    mode: loginMode(argv),
    forceLogin: argv.forceLogin ?? false,
    ...(argv.identity ? { identity: argv.identity } : {}),
    ...(argv.idp ? { idp: argv.idp } : {}),
  });
  ctx.io.err(`Logged in for ${record.fqdn}${record.identity ? ` as ${sanitizeForTerminal(record.identity)}` : ''}${record.idp ? ` (${sanitizeForTerminal(record.idp)})` : ''}; token valid for ${Math.round((record.expiresAt - ctx.now()) / 60)} min, kept in the ${describeStore(record.backend)}.`);
}

export const loginCommand = {
  command: 'login [host]',
  describe: 'log in for HOST and keep the token (refreshing or reusing a valid one unless --force-login)',
  builder: (y: Argv) => loginOptions(y.positional('host', { type: 'string', describe: 'the host (or: -- [ssh options] host)' })),
  handler: (argv: LoginFlags & { host?: string; '--'?: string[] }) => login(machineContext(), argv),
};

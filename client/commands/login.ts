import type { Argv } from 'yargs';
import { sanitizeForTerminal } from '../../shared/sanitize.js';
import { hostArgs, hostContext, hostTarget } from '../host-context.js';
import { acquireToken, type LoginMode } from '../tokens.js';
import { describeStore } from '../store/secret-store.js';
import { say } from '../tty.js';

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

export const loginCommand = {
  command: 'login [host]',
  describe: 'log in for HOST and keep the token (refreshing or reusing a valid one unless --force-login)',
  builder: (y: Argv) => loginOptions(y.positional('host', { type: 'string', describe: 'the host (or: -- [ssh options] host)' })),
  handler: async (argv: LoginFlags & { host?: string; '--'?: string[] }) => {
    const ctx = await hostContext(hostArgs(argv));
    const { target, server } = await hostTarget(ctx);
    try {
      const { record } = await acquireToken(ctx.store, server, target, {
        mode: loginMode(argv),
        forceLogin: argv.forceLogin ?? false,
        mayLogin: true,
        minValidity: ctx.config.refreshMargin,
        ...(argv.identity ? { identity: argv.identity } : {}),
        ...(argv.idp ? { idp: argv.idp } : {}),
      });
      say(`Logged in for ${record.fqdn}${record.identity ? ` as ${sanitizeForTerminal(record.identity)}` : ''}${record.idp ? ` (${sanitizeForTerminal(record.idp)})` : ''}; token valid for ${Math.round((record.expiresAt - Date.now() / 1000) / 60)} min, kept in the ${describeStore(record.backend)}.`);
    } finally {
      await server.close();
    }
  },
};

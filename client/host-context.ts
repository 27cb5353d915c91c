/** Shared by the commands that name a host: resolve it as ssh would, and find its settings, target and store. */
import { AuthServer } from './auth-server.js';
import { loadClientConfig, settingsForHost, type ClientConfig } from './config.js';
import { UsageError } from '../shared/errors.js';
import { parseSshArgs, typedHost, type SshArgs } from './ssh-args.js';
import { loginArgs, resolveDestination, type ResolvedDestination } from './ssh-resolve.js';
import { hostKey, TokenStore } from './store/token-store.js';
import { acquireToken, resolveTarget, type HostTarget } from './tokens.js';
import { hasTerminal } from './tty.js';

export interface HostContext {
  config: ClientConfig;
  store: TokenStore;
  names: string[];
  key: string;
  args: SshArgs;
  resolved: ResolvedDestination;
  queryAccount: string;
}

/**
 * The host a command names, resolved as ssh would. `sshArgs` are ssh
 * options and a destination (`oauth-ssh status -- -F cfg -p 2222 host`);
 * a lone host name is the common case.
 */
export async function hostContext(sshArgs: string[]): Promise<HostContext> {
  const args = parseSshArgs(sshArgs);
  const resolved = await resolveDestination(args);
  const config = await loadClientConfig();
  const names = [typedHost(args.destination), resolved.hostname];
  const settings = settingsForHost(config, names);
  return { config, store: TokenStore.open(config.backend), names, key: hostKey(settings.authUrl, settings.fqdn), args, resolved, queryAccount: settings.queryAccount };
}

/** A command's HOST, or the ssh arguments after `--` when given. */
export function hostArgs(argv: { host?: string; '--'?: Array<string | number> }): string[] {
  const rest = (argv['--'] ?? []).map(String);
  if (rest.length > 0) return argv.host ? [...rest, argv.host] : rest;
  if (!argv.host) throw new UsageError('name a host (or give ssh options and a host after --)');
  return [argv.host];
}

/** The host as the user named it, for messages and advice that must work for what they typed. */
export const asTyped = (ctx: Pick<HostContext, 'names' | 'args'>) => ({ name: ctx.names[0]!, loginArgs: loginArgs(ctx.args) });

export async function hostTarget(ctx: HostContext): Promise<{ target: HostTarget; server: AuthServer }> {
  return resolveTarget(ctx.config, ctx.names);
}

/** Runs `use` with a valid token for the context's host (cached, refreshed, or a login when a terminal is at hand). */
export async function withHostToken<T>(ctx: HostContext, use: (token: string, target: HostTarget) => Promise<T>): Promise<T> {
  const { target, server } = await hostTarget(ctx);
  try {
    const { token } = await acquireToken(ctx.store, server, target, { mode: 'auto', forceLogin: false, mayLogin: hasTerminal(), minValidity: ctx.config.refreshMargin, typed: asTyped(ctx) });
    return await use(token, target);
  } finally {
    await server.close();
  }
}

/** Shared by the commands that name a host: resolve it as ssh would, and find its settings, target and store. */
import { AuthServer } from './auth-server.js';
import { loadClientConfig, settingsForHost, type ClientConfig } from './config.js';
import { typedHost } from './connect.js';
import { parseSshArgs } from './ssh-args.js';
import { resolveDestination } from './ssh-resolve.js';
import { hostKey, TokenStore } from './store/token-store.js';
import { resolveTarget, type HostTarget } from './tokens.js';

export interface HostContext {
  config: ClientConfig;
  store: TokenStore;
  names: string[];
  key: string;
}

export async function hostContext(host: string): Promise<HostContext> {
  const resolved = await resolveDestination(parseSshArgs([host]));
  const config = loadClientConfig();
  const names = [typedHost(host), resolved.hostname];
  const settings = settingsForHost(config, names);
  return { config, store: await TokenStore.open(config.backend), names, key: hostKey(settings.authUrl, settings.fqdn) };
}

export async function hostTarget(ctx: HostContext): Promise<{ target: HostTarget; server: AuthServer }> {
  return resolveTarget(ctx.config, ctx.names);
}

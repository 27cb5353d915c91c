/**
 * A valid access token for a host, with as little fuss as possible: the
 * cached one while it is fresh; a silent refresh; otherwise one login flow,
 * single-flight across processes (a per-host lock; waiters show the same
 * URL and reuse the result). Refreshes happen under the same lock, so a
 * rotating refresh token is never spent twice.
 */
import { join } from 'node:path';
import { OAuthSshError } from '../shared/errors.js';
import { sanitizeForTerminal } from '../shared/sanitize.js';
import { AuthServer, sshScope, TokenEndpointError, type ServerStyle, type TokenSet } from './auth-server.js';
import { settingsForHost, type ClientConfig } from './config.js';
import type { AuthorizeOptions } from './flows/browser.js';
import { cachedToken } from './cached-token.js';
import { withLock } from './lock.js';
import { loginAdvice } from './ssh-resolve.js';
import { dataDir } from './paths.js';
import { hostKey, type HostRecord, type HostTarget, type TokenStore } from './store/token-store.js';

export type { HostTarget };
import { say } from './tty.js';

/** 'auto': a browser where one can be shown, else a code to paste or the device flow (--browser, --no-browser, --device choose). */
export type LoginMode = 'auto' | 'browser' | 'no-browser' | 'device';

export interface AcquireOptions extends AuthorizeOptions {
  mode: LoginMode;
  /** May a login flow start here (a terminal, or an explicit `login`)? */
  mayLogin: boolean;
  /** Seconds of validity the token must still have. */
  minValidity: number;
  /** The host as the user named it, and what `oauth-ssh login` needs to resolve it as this did: messages and advice use these. */
  typed?: { name: string; loginArgs: string };
}


export class NotLoggedInError extends OAuthSshError {
  constructor(message: string) {
    super('NOT_LOGGED_IN', message);
  }
}

/** Host names (as typed, as resolved) -> the authorization server, the SSH service's client and scope. */
/** The authorization server a host's tokens come from, in its style (Globus Auth, or OIDC by discovery). */
export function authServerFor(target: Pick<HostTarget, 'authUrl' | 'clientId' | 'style'>): AuthServer {
  return new AuthServer(target.authUrl, target.clientId, target.style ?? { kind: 'globus' });
}

export async function resolveTarget(config: ClientConfig, names: string[]): Promise<{ target: HostTarget; server: AuthServer }> {
  const settings = settingsForHost(config, names);
  const key = hostKey(settings.authUrl, settings.fqdn);
  const base = { key, fqdn: settings.fqdn, authUrl: settings.authUrl, clientId: settings.clientId };
  if (settings.oidc) {
    const style: ServerStyle = { kind: 'oidc', resource: settings.oidc.resource };
    const target: HostTarget = { ...base, resourceServer: settings.oidc.resource ?? settings.authUrl, scope: settings.oidc.scope, style };
    return { server: authServerFor(target), target };
  }
  const server = new AuthServer(settings.authUrl, settings.clientId);
  // A configured service client id spares the look-up (for servers that cannot answer it).
  const resourceServer = settings.serviceClientId ?? (await server.clientForFqdn(settings.fqdn)).id;
  return { server, target: { ...base, resourceServer, scope: sshScope(settings.fqdn), style: { kind: 'globus' } } };
}

async function save(store: TokenStore, target: HostTarget, tokens: TokenSet, previous: HostRecord | null): Promise<{ token: string; record: HostRecord }> {
  const facts = tokens.idToken
    ? (await import('./id-token.js')).loginFacts(tokens.idToken)
    : { identity: previous?.identity ?? null, idp: previous?.idp ?? null, idpId: previous?.idpId ?? null, authTime: previous?.authTime ?? null, mfa: previous?.mfa ?? null };
  const record = await store.save(
    { ...target, expiresAt: tokens.expiresAt, hasRefresh: tokens.refreshToken !== null, ...facts },
    { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken },
  );
  return { token: tokens.accessToken, record };
}

/** Where no browser can be shown: Globus's copy-paste page (needs no second device), else the device flow, else the browser URL to open here. */
async function headlessMode(server: AuthServer, why: string): Promise<LoginMode> {
  const endpoints = await server.endpoints();
  const mode: LoginMode = endpoints.copyPaste ? 'no-browser' : endpoints.device ? 'device' : 'browser';
  const instead = mode === 'no-browser' ? 'a code to paste instead' : mode === 'device' ? 'the device flow instead' : 'the browser flow anyway: open its URL in a browser on this machine';
  say(`oauth-ssh: no browser can be shown here (${why}); using ${instead} (choose with --browser, --no-browser or --device).`);
  return mode;
}

/** The flows (browser opener, QR codes) load only when a login happens. */
export async function loginFlow(server: AuthServer, target: HostTarget, options: AcquireOptions, publish: (url: string) => void): Promise<TokenSet> {
  let mode = options.mode;
  if (mode === 'auto') {
    const here = (await import('./browser-here.js')).browserHere();
    mode = here.ok ? 'browser' : await headlessMode(server, here.why);
  }
  if (mode === 'device') return (await import('./flows/device.js')).deviceFlow(server, target.scope, publish);
  const { browserFlow, copyPasteFlow } = await import('./flows/browser.js');
  if (mode === 'no-browser') return copyPasteFlow(server, target.scope, options, publish);
  return browserFlow(server, target.scope, options, publish);
}

export async function acquireToken(store: TokenStore, server: AuthServer, target: HostTarget, options: AcquireOptions & { forceLogin: boolean }): Promise<{ token: string; record: HostRecord }> {
  if (!options.forceLogin) {
    const hit = await cachedToken(store, target.key, options.minValidity);
    if (hit) return hit;
  }
  const lockPath = join(dataDir(), 'locks', `${target.key.replace(/[^A-Za-z0-9.@_-]/g, '_')}.lock`);
  const seenBefore = store.record(target.key)?.updatedAt;
  const named = options.typed?.name ?? target.fqdn;
  const said = new Set<string>();
  return withLock(
    lockPath,
    {
      staleMs: 15 * 60_000,
      timeoutMs: 15 * 60_000,
      onWait: (note) => {
        // A login in progress elsewhere may take minutes; without a terminal here nobody would see us wait.
        if (note && !options.mayLogin) throw new NotLoggedInError(`another oauth-ssh is logging in to ${named}; finish that login (${note}), then try again`);
        // Each thing once: after a login, waiters take the lock in turn to reuse its token, and would
        // otherwise each announce every one of those short turns.
        const text = note ? `Another oauth-ssh is logging in to ${named}; finish that login:\n${note}` : `Waiting for another oauth-ssh process logging in to ${named}…`;
        if (!said.has(note ?? '')) say(text);
        said.add(note ?? '');
      },
    },
    async (lock) => {
      // Whoever held the lock before us may have done the work (for a forced login: a login newer than ours began).
      if (!options.forceLogin || store.record(target.key)?.updatedAt !== seenBefore) {
        const hit = await cachedToken(store, target.key, options.minValidity);
        if (hit) return hit;
      }
      await store.backend(); // a missing keychain is reported now, not after a login
      const previous = store.record(target.key);
      const secrets = previous ? await store.secrets(previous) : null;
      if (!options.forceLogin && previous && secrets?.refreshToken) {
        try {
          const refreshed = await server.refresh(secrets.refreshToken, target.scope);
          return await save(store, target, { ...refreshed, refreshToken: refreshed.refreshToken ?? secrets.refreshToken }, previous);
        } catch (err) {
          if (!(err instanceof TokenEndpointError)) throw err;
          say(`oauth-ssh: the saved login for ${named} can no longer be refreshed (${sanitizeForTerminal(err.error)}); logging in again.`);
        }
      }
      if (!options.mayLogin) {
        throw new NotLoggedInError(`no valid token for ${named} and no terminal to log in on: run ${loginAdvice(options.typed?.loginArgs ?? target.fqdn)} first`);
      }
      const tokens = await loginFlow(server, target, options, (url) => lock.note(url));
      return save(store, target, tokens, previous);
    },
  );
}

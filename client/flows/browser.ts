/**
 * Authorization code + PKCE. With a browser: a one-shot HTTP listener on
 * 127.0.0.1 (random port) receives the redirect, checks `state`, and shows
 * "you can close this tab". Without one (--no-browser, remote shells): the
 * authorization server's copy-paste page shows the code, which the user
 * pastes at the terminal (Globus style).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import open from 'open';
import { sanitizeForTerminal } from '../../shared/sanitize.js';
import { terminalQr } from '../../shared/qr.js';
import { LoginError, LOGIN_SCOPES, type AuthServer, type TokenSet } from '../auth-server.js';
import { countdown } from '../countdown.js';
import { askTerminal, say } from '../tty.js';
import { pkce } from './pkce.js';

const LOOPBACK_TIMEOUT_MS = 5 * 60_000;

export interface AuthorizeOptions {
  forceLogin: boolean;
  /** Identity UUID (or username) the session must include. */
  identity?: string;
  /** Domain of the identity provider to use. */
  idp?: string;
}

async function authorizeUrl(server: AuthServer, redirectUri: string, scope: string, challenge: string, state: string, options: AuthorizeOptions): Promise<string> {
  const params: Record<string, string> = {
    client_id: server.clientId,
    redirect_uri: redirectUri,
    scope: `${server.style.kind === 'globus' ? LOGIN_SCOPES : `${LOGIN_SCOPES} offline_access`} ${scope}`,
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    ...server.extraParams(),
    ...(server.style.kind === 'globus' ? { prefill_named_grant: 'oauth-ssh' } : {}),
  };
  if (options.forceLogin) params.prompt = 'login';
  if (options.identity) params.session_required_identities = options.identity;
  if (options.idp) params.session_required_single_domain = options.idp;
  return server.authorizationUrl(params);
}

const PAGE = (title: string, text: string) =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:system-ui;max-width:30rem;margin:4rem auto"><h1>${title}</h1><p>${text}</p></body>`;

/** Opens `url` in the user's browser: $BROWSER if set (as gh does), else the platform's opener. */
async function openBrowser(url: string): Promise<boolean> {
  const browser = process.env.BROWSER;
  if (browser) {
    const child = spawn(browser, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
    return true;
  }
  try {
    const child = await open(url, { wait: false });
    return await new Promise((resolve) => {
      child.once('error', () => resolve(false));
      child.once('spawn', () => resolve(true));
      setTimeout(() => resolve(child.pid !== undefined), 500);
    });
  } catch {
    return false;
  }
}

export async function browserFlow(server: AuthServer, scope: string, options: AuthorizeOptions, publish: (url: string) => void): Promise<TokenSet> {
  const { verifier, challenge, state } = pkce();
  let settle!: (result: { callback: URL } | { error: string }) => void;
  const callback = new Promise<{ callback: URL } | { error: string }>((resolve) => (settle = resolve));
  const listener = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    if (url.searchParams.get('state') !== state) {
      res.writeHead(400, { 'content-type': 'text/html' }).end(PAGE('Login failed', 'This response does not belong to the login that is waiting (state mismatch). Start again from the terminal.'));
      return; // keep waiting for the right one
    }
    const code = url.searchParams.get('code');
    const error = url.searchParams.get('error');
    res.writeHead(code ? 200 : 400, { 'content-type': 'text/html', connection: 'close' }).end(
      code ? PAGE('Logged in', 'oauth-ssh has your login. You can close this tab.') : PAGE('Login failed', `The authorization server said: ${(error ?? 'no code').replace(/[<>&"]/g, '')}`),
    );
    settle(code ? { callback: new URL(url.pathname + url.search, redirectBase) } : { error: `${error ?? 'no code'}${url.searchParams.get('error_description') ? `: ${url.searchParams.get('error_description')}` : ''}` });
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const redirectBase = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  const redirectUri = `${redirectBase}/callback`;
  const url = await authorizeUrl(server, redirectUri, scope, challenge, state, options);
  publish(url);
  try {
    if (!(await openBrowser(url))) say('Could not open a browser.');
    say(`Log in in your browser; if it did not open, visit:\n${url}`);
    const timer = new Promise<{ error: string }>((resolve) => setTimeout(() => resolve({ error: 'no answer from the browser within 5 minutes' }), LOOPBACK_TIMEOUT_MS).unref());
    const stop = countdown('Waiting for the browser…', Date.now() + LOOPBACK_TIMEOUT_MS);
    const result = await Promise.race([callback, timer]).finally(stop);
    if ('error' in result) throw new LoginError(`login failed: ${sanitizeForTerminal(result.error)}`);
    return await server.exchangeCode(result.callback, verifier, state, scope);
  } finally {
    listener.closeAllConnections();
    listener.close();
  }
}

export async function copyPasteFlow(server: AuthServer, scope: string, options: AuthorizeOptions, publish: (url: string) => void): Promise<TokenSet> {
  const { verifier, challenge, state } = pkce();
  const redirectUri = (await server.endpoints()).copyPaste;
  if (!redirectUri) throw new LoginError(`${server.authUrl} has no copy-paste page: use --device, or a browser`);
  const url = await authorizeUrl(server, redirectUri, scope, challenge, state, options);
  publish(url);
  const qr = await terminalQr(url, { invert: true });
  if (qr) say(qr);
  say(`Open this URL in a browser on any device, log in, and paste the code it shows:\n${url}`);
  const code = await askTerminal('Authorization code: ', false);
  if (!code?.trim()) throw new LoginError('no authorization code was entered');
  // The page shows the code alone: the grant gets it as the redirect would have carried it, state unchecked.
  const pasted = new URL(redirectUri);
  pasted.searchParams.set('code', code.trim());
  return server.exchangeCode(pasted, verifier, null, scope);
}

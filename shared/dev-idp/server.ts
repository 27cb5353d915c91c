/**
 * Assembles the dev IdP: one HTTP server on 127.0.0.1 with the Globus-shaped
 * OAuth endpoints, the API, OIDC discovery, the pages, and (optionally) the
 * control API. Request logs carry method, path and status only: query
 * strings can hold codes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { addAuthorizeRoutes } from './authorize.js';
import type { DevIdpConfig } from './config.js';
import type { DevIdpContext } from './context.js';
import { addControlRoutes } from './control.js';
import { addDevicePageRoutes } from './device-pages.js';
import { Directory } from './directory.js';
import { addDiscoveryRoutes } from './discovery.js';
import { addGlobusApiRoutes } from './globus-api.js';
import { json, oauthErrorResponse, OAuthHttpError, parseRequest, Router, writeResponse, type DevResponse } from './http.js';
import { IdTokenSigner } from './id-token.js';
import { DevIdpState } from './state.js';
import { addTokenRoutes } from './token-endpoint.js';
import { addTokenInfoRoutes } from './token-info.js';

export interface DevIdpOptions {
  config: DevIdpConfig;
  /** 0 picks a free port. */
  port?: number;
  /** Serve /_dev/ (default false: it approves logins for whoever reaches the port; tests and the demo turn it on). */
  control?: boolean;
  log?: (line: string) => void;
}

export interface RunningDevIdp {
  url: string;
  context: DevIdpContext;
  close(): Promise<void>;
}

async function applyFault(ctx: DevIdpContext, path: string): Promise<DevResponse | undefined> {
  const fault = ctx.state.faults.find((f) => (f.exact ? path === f.pathPrefix : path.startsWith(f.pathPrefix)) && f.remaining > 0);
  if (!fault) return undefined;
  fault.remaining--;
  if (fault.delayMs > 0) {
    ctx.state.delayedMost = Math.max(ctx.state.delayedMost, ++ctx.state.delayedNow);
    await sleep(fault.delayMs).finally(() => ctx.state.delayedNow--);
  }
  const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
  if (fault.body !== undefined) return { status: fault.status, headers: { 'content-type': fault.contentType, ...headers }, body: fault.body };
  if (fault.status < 400) return undefined; // a pure delay
  return json(fault.status, { error: 'temporarily_unavailable', error_description: `injected fault ${fault.status}` }, headers);
}

export async function startDevIdp(options: DevIdpOptions): Promise<RunningDevIdp> {
  const directory = new Directory(options.config);
  const state = new DevIdpState();
  let issuer = options.config.issuer ?? '';
  const ctx: DevIdpContext = { directory, state, signer: await IdTokenSigner.create(), issuer: () => issuer };
  const router = new Router();
  addDiscoveryRoutes(router, ctx);
  addAuthorizeRoutes(router, ctx);
  addTokenRoutes(router, ctx);
  addTokenInfoRoutes(router, ctx);
  addGlobusApiRoutes(router, ctx);
  addDevicePageRoutes(router, ctx);
  if (options.control === true) addControlRoutes(router, ctx);

  const server: Server = createServer((req, res) => {
    void (async () => {
      let response: DevResponse;
      const path = (req.url ?? '/').split('?')[0]!;
      try {
        response = (!path.startsWith('/_dev/') && (await applyFault(ctx, path))) || (await router.dispatch(await parseRequest(req, issuer)));
      } catch (err) {
        if (err instanceof OAuthHttpError) response = oauthErrorResponse(err);
        else {
          options.log?.(`internal error on ${req.method} ${path}: ${(err as Error).stack ?? err}`);
          response = json(500, { error: 'server_error', error_description: 'internal error; see the dev IdP log' });
        }
      }
      options.log?.(`${req.method} ${path} ${response.status}`);
      if (!res.destroyed) writeResponse(res, response);
    })();
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (issuer === '') issuer = url;
  const sweeper = setInterval(() => state.sweep(), 60_000);
  sweeper.unref();
  return {
    url,
    context: ctx,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweeper);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

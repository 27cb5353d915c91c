/**
 * The daemon: a root-only Unix socket (0600 in a directory no one else can
 * write) where each connection from pam_oauth_ssh.so is one authentication,
 * served concurrently. A broken or slow exchange ends in AUTHINFO_UNAVAIL;
 * nothing on this path can end in success except a SUCCESS decision.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { mkdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, errorMessage, InvalidTokenError } from '../shared/errors.js';
import { GlobusAuth } from '../shared/providers/globus.js';
import { createHttpStack } from '../shared/providers/http-stack.js';
import { JwtVerifier } from '../shared/providers/jwt-verifier.js';
import { OidcDeviceProvider } from '../shared/providers/oidc-device.js';
import { OidcIntrospector } from '../shared/providers/oidc-introspection.js';
import type { TokenVerifier } from '../shared/providers/provider.js';
import { auditSink, type AuditSink } from './audit.js';
import type { ServerConfig } from './config.js';
import type { DecisionContext } from './decide.js';
import { handleAuthentication, type HandlerDeps } from './handle-auth.js';
import { lookupAccount } from './passwd.js';
import { PamConversation } from './protocol.js';

/** Without globus_auth, a token that is not a JWT has nowhere to be checked. */
const JWT_ONLY: TokenVerifier = {
  verify: async () => {
    throw new InvalidTokenError('this host accepts JWT access tokens from its configured issuers only');
  },
};

/** Longest one authentication may hold a connection; sshd's LoginGraceTime is shorter. */
const CONNECTION_LIMIT_MS = 10 * 60_000;
/** The bridge sends its request at once; a silent peer is not a bridge. */
const REQUEST_TIMEOUT_MS = 5_000;

export interface DaemonOptions {
  /** Replaces the provider built from the config (tests of faults a real server cannot produce). */
  verifier?: TokenVerifier;
  audit?: AuditSink;
  log?: (line: string) => void;
}

export interface RunningDaemon {
  socketPath: string;
  close(): Promise<void>;
}

export function decisionContext(config: ServerConfig, verifier: TokenVerifier & Partial<Pick<GlobusAuth, 'clientFqdns'>>): DecisionContext {
  return {
    verifier,
    policy: { permittedIdps: config.permittedIdps, authenticationTimeout: config.authenticationTimeout, mfa: config.mfa },
    rules: { idpSuffix: config.idpSuffix, accountMap: config.accountMap, minUid: config.minUid, allowAccounts: config.allowAccounts, queryAccount: config.queryAccount },
    lookup: lookupAccount,
    host: async () => (await verifier.clientFqdns?.())?.[0] ?? hostname(),
  };
}

function prepareSocketPath(path: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if ((st.mode & 0o022) !== 0 || (st.uid !== 0 && st.uid !== process.getuid?.())) {
    throw new ConfigError(path, `the socket's directory ${dir} can be written by others; use a directory of its own, e.g. /run/oauth-ssh (mode 0700)`);
  }
  let existing;
  try {
    existing = statSync(path);
  } catch {
    return;
  }
  if (!existing.isSocket()) throw new ConfigError(path, 'exists and is not a socket; remove it or choose another socket path');
  unlinkSync(path); // callers checked no daemon answers on it
}

async function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

export async function startDaemon(config: ServerConfig, options: DaemonOptions = {}): Promise<RunningDaemon> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (await socketInUse(config.socketPath)) throw new ConfigError(config.socketPath, 'another oauth-ssh-server is already listening on this socket');
  prepareSocketPath(config.socketPath);

  // One HTTP stack for every provider: one keep-alive pool per origin, one 429 back-off, http_timeout everywhere.
  const http = createHttpStack({ timeoutSeconds: config.httpTimeout });
  const globus = options.verifier || !config.globus ? undefined : new GlobusAuth({ authUrl: config.authUrl, clientId: config.clientId, clientSecret: config.clientSecret, httpTimeout: config.httpTimeout, introspectionCacheTtl: config.introspectionCacheTtl, http });
  const deps: HandlerDeps = {
    decision: decisionContext(config, options.verifier ?? globus ?? JWT_ONLY),
    policy: { permittedIdps: config.permittedIdps, authenticationTimeout: config.authenticationTimeout, mfa: config.mfa },
    queryAccount: config.queryAccount,
    audit: options.audit ?? auditSink(config.audit),
  };
  const deviceProvider = config.deviceOidc ? new OidcDeviceProvider({ ...config.deviceOidc, httpTimeout: config.httpTimeout, http }) : globus;
  if (config.deviceFlow && deviceProvider) deps.device = { provider: deviceProvider, options: { deadlineSeconds: config.deviceFlowDeadline, qr: config.deviceQr, template: config.devicePromptTemplate, qrMargin: config.deviceQrMargin } };
  let introspector: OidcIntrospector | undefined;
  if (config.scitokens) {
    const context = deps.decision;
    const { issuers, audiences, identity } = config.scitokens;
    deps.scitokens = { verifier: new JwtVerifier({ issuers, audiences, httpTimeout: config.httpTimeout, http }), rules: context.rules, identity, httpTimeout: config.httpTimeout, lookup: context.lookup, host: context.host };
    if (config.introspection) {
      introspector = new OidcIntrospector({ ...config.introspection, audiences, httpTimeout: config.httpTimeout, cacheTtl: config.introspectionCacheTtl, http });
      deps.scitokens.opaque = introspector;
    }
  }

  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // reported through the conversation
    const conv = new PamConversation(socket);
    const limit = setTimeout(() => conv.finish('AUTHINFO_UNAVAIL'), CONNECTION_LIMIT_MS);
    void (async () => {
      try {
        const request = await Promise.race([
          conv.readRequest(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no request within 5 s')), REQUEST_TIMEOUT_MS).unref()),
        ]);
        conv.finish(await handleAuthentication(deps, request, conv));
      } catch (err) {
        log(`oauth-ssh-server: authentication aborted: ${errorMessage(err)}`);
        conv.finish('AUTHINFO_UNAVAIL');
      } finally {
        clearTimeout(limit);
      }
    })();
  });

  const oldUmask = process.umask(0o177); // the socket is born 0600
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.socketPath, () => resolve());
    });
  } finally {
    process.umask(oldUmask);
  }
  log(`oauth-ssh-server: listening on ${config.socketPath} (authorization server ${config.authUrl})`);
  return {
    socketPath: config.socketPath,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await globus?.close();
      if (deviceProvider instanceof OidcDeviceProvider) await deviceProvider.close();
      await introspector?.close();
      await http.close();
    },
  };
}

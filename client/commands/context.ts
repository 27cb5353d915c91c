/**
 * What a command works with, handed in (as gh's factory and wrangler's
 * command context do): output, the clock, the config and store, the host a
 * command names, the authorization server, and the host's answers. The CLI
 * passes the machine's; unit tests pass their own, so that each command is
 * tested without a real sshd or authorization server.
 */
import type { ClientConfig } from '../config.js';
import type { HostContext } from '../host-context.js';
import type { HostPolicy } from '../host-policy.js';
import { TokenStore, type HostRecord, type HostTarget } from '../store/token-store.js';
import { authServerFor, type LoginMode } from '../tokens.js';

export interface CommandIO {
  /** A line of the command's answer (stdout). */
  out(line: string): void;
  /** A line about it (stderr): progress, warnings, advice. */
  err(line: string): void;
  /** Is stdout a terminal (a secret printed there is seen)? */
  stdoutIsTerminal: boolean;
}

/** The parts of an authorization server a command uses directly. */
export interface RevokingServer {
  revoke(token: string): Promise<void>;
  close(): Promise<void>;
}

export interface CommandContext {
  io: CommandIO;
  /** Seconds since the epoch. */
  now(): number;
  config(): Promise<ClientConfig>;
  /** The store, for reading and changing logins. */
  store(config: ClientConfig): TokenStore;
  /** Metadata only (no keychain touched): for listing. */
  listingStore(): TokenStore;
  /** The host a command names (ssh options and a destination), resolved as ssh would. */
  host(sshArgs: string[]): Promise<HostContext>;
  /** The authorization server that issued a login's tokens. */
  server(record: HostRecord): RevokingServer;
  /** A valid token for the host (cached, refreshed, or a login when a terminal is at hand). */
  withToken<T>(host: HostContext, use: (token: string, target: HostTarget) => Promise<T>): Promise<T>;
  /** Logs in (or reuses a valid login) for the host with these flow options. */
  login(host: HostContext, options: LoginOptions): Promise<HostRecord>;
  /** The host's session policy (cached), or null when it does not answer. */
  policy(host: HostContext): Promise<HostPolicy | null>;
  /** An in-band query to the host with a token. */
  query(host: HostContext, op: string, token: string): Promise<Record<string, unknown>>;
}

export interface LoginOptions {
  mode: LoginMode;
  forceLogin: boolean;
  identity?: string;
  idp?: string;
}

/** This machine: stdout and stderr, the real store, ssh -G, the authorization server, the host over ssh. The commands are off the connection's path: loading tokens.js here costs nothing there. */
export function machineContext(): CommandContext {
  const io: CommandIO = {
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
    stdoutIsTerminal: process.stdout.isTTY === true,
  };
  return {
    io,
    now: () => Date.now() / 1000,
    config: async () => (await import('../config.js')).loadClientConfig(),
    store: (config) => TokenStore.open(config.backend),
    listingStore: () => TokenStore.forListing(),
    host: async (sshArgs) => (await import('../host-context.js')).hostContext(sshArgs),
    server: (record) => authServerFor(record),
    withToken: async (host, use) => (await import('../host-context.js')).withHostToken(host, use),
    login: async (host, options) => {
      const [{ asTyped, hostTarget }, { acquireToken }] = await Promise.all([import('../host-context.js'), import('../tokens.js')]);
      const { target, server } = await hostTarget(host);
      try {
        const { record } = await acquireToken(host.store, server, target, {
          ...options,
          mayLogin: true,
          minValidity: host.config.refreshMargin,
          typed: asTyped(host),
        });
        return record;
      } finally {
        await server.close();
      }
    },
    policy: async (host) => (await import('../host-policy.js')).hostPolicy(host.args, host.resolved, host.key, host.queryAccount, host.config.policyCacheTtl, io.err),
    query: async (host, op, token) => (await import('../in-band.js')).queryHost(host.args, host.resolved, host.queryAccount, op, token),
  };
}

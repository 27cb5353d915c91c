/**
 * The daemon: a root-only Unix socket (0600 in a directory no one else can
 * write) where each connection from pam_oauth_ssh.so is one authentication,
 * served concurrently. A broken or slow exchange ends in AUTHINFO_UNAVAIL;
 * nothing on this path can end in success except a SUCCESS decision.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { mkdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, errorMessage } from '../shared/errors.js';
import { auditSink, type AuditSink } from './audit.js';
import type { ServerConfig } from './config.js';
import type { DecisionContext } from './decide.js';
import { handleAuthentication, type HandlerDeps } from './handle-auth.js';
import { lookupAccount } from './passwd.js';
import { PamConversation } from './protocol.js';
import { buildProviders, type ProviderSet } from './providers.js';
import { Metrics } from './metrics.js';
import { TicketBook } from './tickets.js';

/** Longest one authentication may hold a connection; sshd's LoginGraceTime is shorter. */
const CONNECTION_LIMIT_MS = 10 * 60_000;
/** The bridge sends its request at once; a silent peer is not a bridge. */
const REQUEST_TIMEOUT_MS = 5_000;
/** node_exporter reads the textfile at each scrape: every 15 s is fresh enough, and cheap. */
const METRICS_INTERVAL_MS = 15_000;

export interface DaemonOptions {
  audit?: AuditSink;
  log?: (line: string) => void;
}

export interface RunningDaemon {
  socketPath: string;
  close(): Promise<void>;
}

/**
 * The host's name for advice, from what is known without asking anyone:
 * Globus FQDNs already fetched, else configured audiences that are host
 * names. Only a host with one name is named: sshd does not say which name
 * the user connected to, and advice naming another one leads to a token
 * their client files under that other name (null: the advice says <host>).
 */
export function knownHostName(config: Pick<ServerConfig, 'jwtIssuers'>, set: Pick<ProviderSet, 'globus'>): () => string | null {
  const fromAudiences = [
    ...new Set(
      config.jwtIssuers
        .flatMap((i) => i.audiences)
        .map((a) => {
          try {
            return /^https?:\/\//.test(a) ? new URL(a).hostname : /^[a-z0-9.-]+\.[a-z]{2,}$/i.test(a) ? a : null;
          } catch {
            return null;
          }
        })
        .filter((h): h is string => h !== null && h !== 'wlcg.cern.ch'),
    ),
  ];
  const only = (names: string[]) => (names.length === 1 ? names[0]! : null);
  return () => {
    const fqdns = set.globus?.knownFqdns() ?? null;
    return fqdns && fqdns.length > 0 ? only(fqdns) : only(fromAudiences);
  };
}

export function decisionContext(config: ServerConfig, set: ProviderSet): DecisionContext {
  return {
    providers: set.providers,
    policy: config.policy,
    rules: { accountMap: config.accountMap, minUid: config.minUid, allowAccounts: config.allowAccounts, queryAccount: config.queryAccount },
    lookup: lookupAccount,
    hostName: knownHostName(config, set),
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

  const set = buildProviders(config);
  const metrics = new Metrics(set.caches);
  const sink = options.audit ?? auditSink(config.audit);
  // Every decision writes one audit event: counting those counts every decision once.
  const audit: AuditSink = (event) => {
    metrics.decision(event);
    return sink(event);
  };
  // Learn this host's registered names now, so that advice never waits on the network.
  void set.globus?.clientFqdns().catch(() => {});
  const deps: HandlerDeps = {
    decision: { ...decisionContext(config, set), metrics },
    queryAccount: config.queryAccount,
    environment: config.globus ? config.environment : null,
    audit,
  };
  const writeMetrics = () => {
    if (!config.metricsFile) return;
    try {
      metrics.writeFile(config.metricsFile);
    } catch (err) {
      log(`oauth-ssh-server: cannot write metrics_file ${config.metricsFile}: ${errorMessage(err)}`);
    }
  };
  const metricsTimer = config.metricsFile ? setInterval(writeMetrics, METRICS_INTERVAL_MS) : null;
  metricsTimer?.unref();
  writeMetrics();
  if (set.device) {
    deps.device = { ...set.device, options: { deadlineSeconds: config.deviceFlowDeadline, qr: config.deviceQr, template: config.devicePromptTemplate, qrMargin: config.deviceQrMargin } };
  }

  const tickets = new TicketBook();
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
        if (request.verb === 'STATUS') {
          // Only root (or the daemon's own user) can reach the socket: the counters are for them.
          conv.metrics(metrics.render());
          conv.finish('SUCCESS');
          return;
        }
        if (request.verb === 'CHECK') {
          // acct_mgmt / setcred: only a real, unexpired ticket of this user and service says "ours".
          const { ticket, user, service } = request.check;
          const confirmed = tickets.confirm(ticket, user, service);
          // A ticket nobody issued is someone trying: worth a line in the audit log.
          if (!confirmed) await audit({ event: 'check', rhost: '', service, user, decision: 'IGNORE', reason: 'acct_mgmt/setcred showed a ticket this daemon did not issue for this user and service (or an expired one)' });
          conv.finish(confirmed ? 'SUCCESS' : 'IGNORE');
          return;
        }
        const result = await handleAuthentication(deps, request.request, conv);
        if (result === 'SUCCESS') conv.ticket(tickets.issue(request.request.user, request.request.service));
        conv.finish(result);
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
  log(`oauth-ssh-server: listening on ${config.socketPath} (providers: ${set.providers.map((p) => `${p.name} [${p.kind}]`).join(', ')})`);
  return {
    socketPath: config.socketPath,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (metricsTimer) clearInterval(metricsTimer);
      writeMetrics();
      await set.close();
    },
  };
}

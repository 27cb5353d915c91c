/**
 * `status`: the running daemon's counters, asked over its socket (only root or
 * the daemon's user can): decisions by result and reason, identity-provider
 * errors and latency, cache hits. --prometheus prints them as they are.
 */
import { connect } from 'node:net';
import type { Argv } from 'yargs';
import { ConfigError } from '../../shared/errors.js';
import { loadServerConfig } from '../config.js';
import { decodeValue, PROTOCOL_VERSION } from '../protocol.js';

async function askStatus(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let data = '';
    socket.on('connect', () => socket.write(`${PROTOCOL_VERSION} STATUS\n`));
    socket.on('data', (d: Buffer) => (data += d.toString('utf8')));
    socket.on('error', (err) => reject(new ConfigError(socketPath, `no oauth-ssh-server answers here (${(err as NodeJS.ErrnoException).code ?? err.message}); is it running? systemctl status oauth-ssh-server`)));
    socket.on('close', () => {
      const line = data.split('\n').find((l) => l.startsWith('METRICS '));
      if (line) resolve(decodeValue(line.slice('METRICS '.length)));
      else reject(new ConfigError(socketPath, 'the daemon sent no counters (an older oauth-ssh-server?)'));
    });
  });
}

/** The counters, for people: totals per result and per reason, then providers. */
export function summarize(prometheus: string): string {
  const rows = prometheus.split('\n').filter((l) => l && !l.startsWith('#'));
  const value = (l: string) => Number(l.slice(l.lastIndexOf(' ') + 1));
  const labels = (l: string) => Object.fromEntries([...l.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
  const out: string[] = [];
  const started = rows.find((l) => l.startsWith('oauth_ssh_start_time_seconds'));
  if (started) out.push(`up since ${new Date(value(started) * 1000).toISOString()}`);
  const decisions = rows.filter((l) => l.startsWith('oauth_ssh_decisions_total'));
  out.push(`decisions: ${decisions.reduce((n, l) => n + value(l), 0)}`);
  for (const l of decisions) {
    const { event, op, result, code } = labels(l);
    out.push(`  ${String(value(l)).padStart(7)}  ${event}${op ? `/${op}` : ''} ${result}${code ? ` (${code})` : ''}`);
  }
  for (const l of rows.filter((r) => r.startsWith('oauth_ssh_provider_seconds_count'))) {
    const { provider } = labels(l);
    const sum = rows.find((r) => r.startsWith('oauth_ssh_provider_seconds_sum') && labels(r).provider === provider);
    const errors = rows.find((r) => r.startsWith('oauth_ssh_provider_errors_total') && labels(r).provider === provider);
    const mean = sum && value(l) ? (value(sum) / value(l)) * 1000 : 0;
    out.push(`provider ${provider}: ${value(l)} token checks, mean ${mean.toFixed(1)} ms, ${errors ? value(errors) : 0} provider errors`);
  }
  for (const l of rows.filter((r) => r.startsWith('oauth_ssh_introspection_cache_total') && labels(r).outcome === 'hit')) {
    const { provider } = labels(l);
    const miss = rows.find((r) => r.startsWith('oauth_ssh_introspection_cache_total') && labels(r).provider === provider && labels(r).outcome === 'miss');
    out.push(`introspection cache at ${provider}: ${value(l)} hits, ${miss ? value(miss) : 0} misses`);
  }
  return out.join('\n');
}

export const statusCommand = {
  command: 'status',
  describe: 'the running daemon\'s counters: decisions by result and reason, provider errors and latency, cache hits',
  builder: (y: Argv) =>
    y
      .option('config', { type: 'string', describe: 'config file (for its socket)' })
      .option('socket', { type: 'string', describe: 'the daemon\'s socket (overrides the config\'s)' })
      .option('prometheus', { type: 'boolean', default: false, describe: 'print the counters in the Prometheus text format' }),
  handler: async (argv: { config?: string; socket?: string; prometheus: boolean }) => {
    const socketPath = argv.socket ?? loadServerConfig(argv.config).socketPath;
    const text = await askStatus(socketPath);
    process.stdout.write(argv.prometheus ? text : `${summarize(text)}\n`);
  },
};

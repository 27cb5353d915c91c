/**
 * Counters for operators, in the Prometheus text format: decisions by event,
 * result and reason code (counted from the audit events, so that every
 * decision counts once), identity-provider calls by provider with their
 * latency and failures, and introspection cache hits. Written to a file for
 * node_exporter's textfile collector (metrics_file, opt-in, replaced
 * atomically) and shown by `oauth-ssh-server status`.
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { AuditEvent } from './audit.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface CacheSource {
  provider: string;
  stats(): { hits: number; misses: number };
}

const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class Metrics {
  private readonly decisions = new Map<string, number>();
  private readonly calls = new Map<string, { count: number; failures: number; sum: number; buckets: number[] }>();
  private readonly started = Date.now();

  constructor(private readonly caches: CacheSource[] = []) {}

  /** One audit event is one decision. */
  decision(event: AuditEvent): void {
    const key = JSON.stringify([event.event, event.op ?? '', event.decision, event.code ?? '']);
    this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1);
  }

  /** One call to verify a token at a provider: how long it took, and whether the provider failed us. */
  providerCall(provider: string, seconds: number, failed: boolean): void {
    const c = this.calls.get(provider) ?? { count: 0, failures: 0, sum: 0, buckets: BUCKETS.map(() => 0) };
    c.count++;
    c.sum += seconds;
    if (failed) c.failures++;
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) c.buckets[i]!++;
    });
    this.calls.set(provider, c);
  }

  render(): string {
    const out: string[] = [];
    out.push('# HELP oauth_ssh_decisions_total Decisions of oauth-ssh-server, by event (login, query, check), op, PAM result and reason code.', '# TYPE oauth_ssh_decisions_total counter');
    for (const [key, n] of [...this.decisions].sort()) {
      const [event, op, result, code] = JSON.parse(key) as string[];
      out.push(`oauth_ssh_decisions_total{event="${label(event!)}",op="${label(op!)}",result="${label(result!)}",code="${label(code!)}"} ${n}`);
    }
    out.push('# HELP oauth_ssh_provider_errors_total Token checks that failed because the identity provider could not be used (unreachable, 5xx, 429, garbage).', '# TYPE oauth_ssh_provider_errors_total counter');
    for (const [p, c] of this.calls) out.push(`oauth_ssh_provider_errors_total{provider="${label(p)}"} ${c.failures}`);
    out.push('# HELP oauth_ssh_provider_seconds Time to verify a token at the identity provider (cached answers included).', '# TYPE oauth_ssh_provider_seconds histogram');
    for (const [p, c] of this.calls) {
      BUCKETS.forEach((b, i) => out.push(`oauth_ssh_provider_seconds_bucket{provider="${label(p)}",le="${b}"} ${c.buckets[i]}`));
      out.push(`oauth_ssh_provider_seconds_bucket{provider="${label(p)}",le="+Inf"} ${c.count}`, `oauth_ssh_provider_seconds_sum{provider="${label(p)}"} ${c.sum.toFixed(6)}`, `oauth_ssh_provider_seconds_count{provider="${label(p)}"} ${c.count}`);
    }
    out.push('# HELP oauth_ssh_introspection_cache_total Introspection cache look-ups, by outcome.', '# TYPE oauth_ssh_introspection_cache_total counter');
    for (const cache of this.caches) {
      const s = cache.stats();
      out.push(`oauth_ssh_introspection_cache_total{provider="${label(cache.provider)}",outcome="hit"} ${s.hits}`, `oauth_ssh_introspection_cache_total{provider="${label(cache.provider)}",outcome="miss"} ${s.misses}`);
    }
    out.push('# HELP oauth_ssh_start_time_seconds When the daemon started.', '# TYPE oauth_ssh_start_time_seconds gauge', `oauth_ssh_start_time_seconds ${Math.floor(this.started / 1000)}`);
    return `${out.join('\n')}\n`;
  }

  /** For node_exporter's textfile collector: written whole, then renamed, so it never reads half a file. */
  writeFile(path: string): void {
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, this.render(), { mode: 0o644 });
    renameSync(temp, path);
  }
}

/**
 * The client's configuration: $XDG_CONFIG_HOME/oauth-ssh/config.yaml (or
 * $OAUTH_SSH_CONFIG). Which authorization server, which OAuth client id the
 * CLI uses there, which token store, and per-host overrides (the FQDN a host
 * is registered as, another authorization server). Documented in
 * client/CONFIG.md.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../shared/errors.js';
import { secureOrLoopback } from '../shared/url-policy.js';
import { configDir, privateDir } from './paths.js';

export type Backend = 'auto' | 'keychain' | 'kernel-keyring' | 'file';

export interface HostRule {
  /** Glob (`*`, `?`) on the host name as typed or as resolved by ssh -G. */
  match: string;
  fqdn?: string;
  /** The SSH service's client id, when the authorization server cannot look it up by FQDN. */
  serviceClientId?: string;
  /** A generic OpenID Connect provider (found by discovery) instead of Globus Auth. */
  issuer?: string;
  /** With `issuer`: the scope that grants ssh access to this host (e.g. `ssh:/alice`). */
  scope?: string;
  /** With `issuer`: an RFC 8707 resource indicator for the host's tokens. */
  resource?: string;
  queryAccount?: string;
  authUrl?: string;
  clientId?: string;
}

export interface ClientConfig {
  file: string | null;
  authUrl: string;
  clientId: string | null;
  backend: Backend;
  /** Seconds before expiry at which a token is refreshed. */
  refreshMargin: number;
  /** Seconds a host's get_security_policy answer is reused. */
  policyCacheTtl: number;
  queryAccount: string;
  hosts: HostRule[];
}

export const DEFAULT_AUTH_URL = 'https://auth.globus.org';

export function configPath(): string {
  return process.env.OAUTH_SSH_CONFIG || join(configDir(), 'config.yaml');
}

export function parseClientConfig(doc: unknown, file: string | null): ClientConfig {
  const where = file ?? '<defaults>';
  const fail = (msg: string): never => {
    throw new ConfigError(where, msg);
  };
  const o = (doc ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) fail('expected a mapping of keys');
  const known = ['auth_url', 'client_id', 'backend', 'refresh_margin', 'policy_cache_ttl', 'query_account', 'hosts'];
  for (const k of Object.keys(o)) if (!known.includes(k)) fail(`unknown key "${k}" (known: ${known.join(', ')})`);
  const str = (v: unknown, key: string): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v === '') fail(`${key} must be a non-empty string`);
    return v as string;
  };
  /** `exact`: an OIDC issuer is an identifier, compared character for character with its discovery document (a trailing / included). */
  const url = (v: unknown, key: string, exact = false): string | undefined => {
    const s = str(v, key);
    if (s === undefined) return undefined;
    if (!secureOrLoopback(s)) fail(`${key} must use https (http only on loopback), got "${s}"`);
    return exact ? s : s.replace(/\/+$/, '');
  };
  const num = (v: unknown, key: string, fallback: number): number => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`${key} must be a whole number of seconds`);
    return v as number;
  };
  const backend = (str(o.backend, 'backend') ?? 'auto') as Backend;
  if (!['auto', 'keychain', 'kernel-keyring', 'file'].includes(backend)) fail(`backend must be auto, keychain, kernel-keyring or file, got "${backend}"`);
  if (backend === 'kernel-keyring' && process.platform !== 'linux') fail('backend kernel-keyring exists only on Linux; use auto, keychain or file');
  if (o.hosts !== undefined && !Array.isArray(o.hosts)) fail('hosts must be a list');
  const hosts = ((o.hosts as unknown[]) ?? []).map((raw, i) => {
    const h = (raw ?? {}) as Record<string, unknown>;
    const hostKeys = ['match', 'fqdn', 'auth_url', 'client_id', 'service_client_id', 'query_account', 'issuer', 'scope', 'resource'];
    for (const k of Object.keys(h)) if (!hostKeys.includes(k)) fail(`hosts[${i}]: unknown key "${k}"`);
    const rule: HostRule = { match: str(h.match, `hosts[${i}].match`) ?? fail(`hosts[${i}] needs "match"`) };
    const fqdn = str(h.fqdn, `hosts[${i}].fqdn`);
    const authUrl = url(h.auth_url, `hosts[${i}].auth_url`);
    const clientId = str(h.client_id, `hosts[${i}].client_id`);
    if (fqdn) rule.fqdn = fqdn.toLowerCase();
    if (authUrl) rule.authUrl = authUrl;
    if (clientId) rule.clientId = clientId;
    const serviceClientId = str(h.service_client_id, `hosts[${i}].service_client_id`);
    if (serviceClientId) rule.serviceClientId = serviceClientId;
    const queryAccount = str(h.query_account, `hosts[${i}].query_account`);
    if (queryAccount) rule.queryAccount = queryAccount;
    const issuer = url(h.issuer, `hosts[${i}].issuer`, true);
    const scope = str(h.scope, `hosts[${i}].scope`);
    const resource = str(h.resource, `hosts[${i}].resource`);
    if ((scope || resource) && !issuer) fail(`hosts[${i}]: "scope" and "resource" go with "issuer" (a generic OIDC provider)`);
    if (issuer && !scope) fail(`hosts[${i}]: with "issuer", give "scope": the scope that grants ssh access (e.g. ssh:/yourname)`);
    if (issuer && rule.authUrl) fail(`hosts[${i}]: give "issuer" (generic OIDC) or "auth_url" (Globus), not both`);
    if (issuer) Object.assign(rule, { issuer, scope, ...(resource ? { resource } : {}) });
    return rule;
  });
  return {
    file,
    authUrl: url(o.auth_url, 'auth_url') ?? DEFAULT_AUTH_URL,
    clientId: str(o.client_id, 'client_id') ?? null,
    backend,
    refreshMargin: num(o.refresh_margin, 'refresh_margin', 300),
    policyCacheTtl: num(o.policy_cache_ttl, 'policy_cache_ttl', 300),
    queryAccount: str(o.query_account, 'query_account') ?? 'oauth-ssh',
    hosts,
  };
}

/**
 * The parsed document is cached as JSON beside the other caches, keyed by the
 * file's path, size and mtime: loading the YAML parser costs more than the
 * rest of a cached-token connection's start-up.
 */
function cachePath(): string {
  const base = process.env.XDG_CACHE_HOME?.startsWith('/') ? process.env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'oauth-ssh', 'config.json');
}

async function parseCached(file: string, stamp: string): Promise<unknown> {
  try {
    const cached = JSON.parse(readFileSync(cachePath(), 'utf8')) as { file?: string; stamp?: string; doc?: unknown };
    if (cached.file === file && cached.stamp === stamp) return cached.doc;
  } catch {
    // no cache yet, or a damaged one: parse the file
  }
  const text = readFileSync(file, 'utf8');
  let doc: unknown;
  try {
    doc = (await import('yaml')).parse(text);
  } catch (err) {
    throw new ConfigError(file, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    privateDir(join(cachePath(), '..'));
    writeFileSync(cachePath(), JSON.stringify({ file, stamp, doc }), { mode: 0o600 });
  } catch {
    // a cache we cannot write only costs time
  }
  return doc;
}

export async function loadClientConfig(): Promise<ClientConfig> {
  const file = configPath();
  let stamp: string;
  try {
    const st = statSync(file);
    stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // The default file is optional; one named on purpose and missing is a mistake to report, not to paper over.
    if (code === 'ENOENT' && process.env.OAUTH_SSH_CONFIG) throw new ConfigError(file, 'does not exist (OAUTH_SSH_CONFIG names it): create it (client/CONFIG.md) or unset OAUTH_SSH_CONFIG');
    if (code === 'ENOENT') return parseClientConfig({}, null);
    throw new ConfigError(file, `cannot read: ${code}`);
  }
  return parseClientConfig(await parseCached(file, stamp), file);
}

function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(value.toLowerCase());
}

export interface HostSettings {
  fqdn: string;
  authUrl: string;
  clientId: string;
  queryAccount: string;
  serviceClientId: string | null;
  /** Set for a generic OIDC provider; null for Globus Auth. */
  oidc: { scope: string; resource: string | null } | null;
}

/** The first matching host rule wins, per setting, over the top-level values. */
export function settingsForHost(config: ClientConfig, names: string[]): HostSettings {
  const rules = config.hosts.filter((r) => names.some((n) => globMatch(r.match, n)));
  const pick = <K extends keyof HostRule>(k: K) => rules.find((r) => r[k] !== undefined)?.[k];
  const clientId = pick('clientId') ?? config.clientId;
  if (!clientId) {
    throw new ConfigError(config.file ?? configPath(), `no client_id for ${names[0]}: set "client_id" (the oauth-ssh client's id at your authorization server) in ${configPath()}`);
  }
  const oidcRule = rules.find((r) => r.issuer !== undefined);
  return {
    fqdn: pick('fqdn') ?? names[names.length - 1]!,
    authUrl: oidcRule?.issuer ?? pick('authUrl') ?? config.authUrl,
    clientId,
    queryAccount: pick('queryAccount') ?? config.queryAccount,
    serviceClientId: pick('serviceClientId') ?? null,
    oidc: oidcRule ? { scope: oidcRule.scope!, resource: oidcRule.resource ?? null } : null,
  };
}

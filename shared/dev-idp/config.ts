/**
 * The dev IdP's configuration: who exists (users and their linked
 * identities), at which identity providers, and which OAuth clients are
 * registered. Read from JSON or YAML and validated at the boundary so that
 * every later module can trust its shape.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const GRANT_TYPES = ['authorization_code', 'refresh_token', DEVICE_GRANT] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export interface IdentityProvider {
  id: string;
  name: string;
  domains: string[];
}

export interface Identity {
  id: string;
  username: string;
  /** Identity provider UUID. */
  idp: string;
  name: string;
  email: string | null;
  organization: string | null;
}

export interface User {
  /** The account's primary identity is identities[0]; Globus reports it as `sub`. */
  identities: Identity[];
}

export interface Client {
  id: string;
  name: string;
  /** Absent for public (native) clients, which must use PKCE. */
  secret: string | null;
  fqdns: string[];
  redirectUris: string[];
  grantTypes: GrantType[];
}

export interface Lifetimes {
  accessToken: number;
  refreshToken: number;
  authorizationCode: number;
  deviceCode: number;
  deviceInterval: number;
}

export interface DevIdpConfig {
  /** Fixed issuer URL; null means "the URL we end up listening on". */
  issuer: string | null;
  scopePrefix: string;
  lifetimes: Lifetimes;
  rotateRefreshTokens: boolean;
  identityProviders: IdentityProvider[];
  users: User[];
  clients: Client[];
}

export const DEFAULT_LIFETIMES: Lifetimes = {
  accessToken: 3600,
  refreshToken: 30 * 24 * 3600,
  authorizationCode: 60,
  deviceCode: 600,
  deviceInterval: 5,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Walks an untyped document and reports the path of whatever is wrong. */
class Reader {
  constructor(readonly file: string) {}

  fail(path: string, expected: string): never {
    throw new ConfigError(this.file, `${path}: expected ${expected}`);
  }

  object(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, 'a mapping');
    return value as Record<string, unknown>;
  }

  onlyKeys(obj: Record<string, unknown>, path: string, allowed: string[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) {
        throw new ConfigError(this.file, `${path}: unknown key "${key}" (allowed: ${allowed.join(', ')})`);
      }
    }
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string' || value.length === 0) this.fail(path, 'a non-empty string');
    return value;
  }

  optionalString(value: unknown, path: string): string | null {
    return value === undefined || value === null ? null : this.string(value, path);
  }

  uuid(value: unknown, path: string): string {
    const s = this.string(value, path);
    if (!UUID.test(s)) this.fail(path, `a UUID, got "${s}"`);
    return s.toLowerCase();
  }

  list(value: unknown, path: string): unknown[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) this.fail(path, 'a list');
    return value;
  }

  positiveInt(value: unknown, path: string, fallback: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) this.fail(path, 'a positive integer (seconds)');
    return value;
  }

  boolean(value: unknown, path: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') this.fail(path, 'true or false');
    return value;
  }
}

export function parseDevIdpConfig(doc: unknown, file = '<config>'): DevIdpConfig {
  const r: Reader = new Reader(file);
  const top = r.object(doc ?? {}, '(top level)');
  r.onlyKeys(top, '(top level)', ['issuer', 'scope_prefix', 'lifetimes', 'rotate_refresh_tokens', 'identity_providers', 'users', 'clients']);

  const idps = r.list(top.identity_providers, 'identity_providers').map((raw, i) => {
    const path = `identity_providers[${i}]`;
    const o = r.object(raw, path);
    r.onlyKeys(o, path, ['id', 'name', 'domains']);
    return {
      id: r.uuid(o.id, `${path}.id`),
      name: r.string(o.name, `${path}.name`),
      domains: r.list(o.domains, `${path}.domains`).map((d, j) => r.string(d, `${path}.domains[${j}]`).toLowerCase()),
    };
  });
  const idpByKey = new Map<string, IdentityProvider>();
  for (const idp of idps) {
    if (idpByKey.has(idp.id)) throw new ConfigError(file, `identity_providers: duplicate id ${idp.id}`);
    idpByKey.set(idp.id, idp);
    for (const d of idp.domains) idpByKey.set(d, idp);
  }

  const seenIdentity = new Set<string>();
  const users = r.list(top.users, 'users').map((raw, i) => {
    const path = `users[${i}]`;
    const o = r.object(raw, path);
    r.onlyKeys(o, path, ['identities']);
    const identities = r.list(o.identities, `${path}.identities`).map((rawId, j) => {
      const ip = `${path}.identities[${j}]`;
      const io = r.object(rawId, ip);
      r.onlyKeys(io, ip, ['id', 'username', 'idp', 'name', 'email', 'organization']);
      const username = r.string(io.username, `${ip}.username`);
      if (!username.includes('@')) r.fail(`${ip}.username`, `user@idp.domain, got "${username}"`);
      const idpKey = r.string(io.idp, `${ip}.idp`).toLowerCase();
      const idp = idpByKey.get(idpKey);
      if (!idp) r.fail(`${ip}.idp`, `the id or a domain of an entry in identity_providers, got "${idpKey}"`);
      const identity: Identity = {
        id: r.uuid(io.id, `${ip}.id`),
        username,
        idp: idp.id,
        name: r.optionalString(io.name, `${ip}.name`) ?? username,
        email: r.optionalString(io.email, `${ip}.email`),
        organization: r.optionalString(io.organization, `${ip}.organization`),
      };
      for (const key of [identity.id, identity.username.toLowerCase()]) {
        if (seenIdentity.has(key)) throw new ConfigError(file, `${ip}: identity ${key} is listed twice`);
        seenIdentity.add(key);
      }
      return identity;
    });
    if (identities.length === 0) r.fail(`${path}.identities`, 'at least one identity');
    return { identities };
  });

  const clients = r.list(top.clients, 'clients').map((raw, i) => {
    const path = `clients[${i}]`;
    const o = r.object(raw, path);
    r.onlyKeys(o, path, ['id', 'name', 'secret', 'fqdns', 'redirect_uris', 'grant_types']);
    const grantTypes = r.list(o.grant_types ?? ['authorization_code', 'refresh_token'], `${path}.grant_types`).map((g, j) => {
      const s = r.string(g, `${path}.grant_types[${j}]`);
      if (!(GRANT_TYPES as readonly string[]).includes(s)) r.fail(`${path}.grant_types[${j}]`, `one of ${GRANT_TYPES.join(', ')}`);
      return s as GrantType;
    });
    const redirectUris = r.list(o.redirect_uris, `${path}.redirect_uris`).map((u, j) => {
      const s = r.string(u, `${path}.redirect_uris[${j}]`);
      try {
        new URL(s);
      } catch {
        r.fail(`${path}.redirect_uris[${j}]`, `an absolute URL, got "${s}"`);
      }
      return s;
    });
    return {
      id: r.uuid(o.id, `${path}.id`),
      name: r.optionalString(o.name, `${path}.name`) ?? `client ${i}`,
      secret: r.optionalString(o.secret, `${path}.secret`),
      fqdns: r.list(o.fqdns, `${path}.fqdns`).map((f, j) => r.string(f, `${path}.fqdns[${j}]`).toLowerCase()),
      redirectUris,
      grantTypes,
    };
  });
  const clientIds = new Set<string>();
  for (const c of clients) {
    if (clientIds.has(c.id)) throw new ConfigError(file, `clients: duplicate id ${c.id}`);
    clientIds.add(c.id);
  }

  const lt = r.object(top.lifetimes ?? {}, 'lifetimes');
  r.onlyKeys(lt, 'lifetimes', ['access_token', 'refresh_token', 'authorization_code', 'device_code', 'device_interval']);
  const issuer = r.optionalString(top.issuer, 'issuer');
  return {
    issuer: issuer?.replace(/\/+$/, '') ?? null,
    scopePrefix: r.optionalString(top.scope_prefix, 'scope_prefix') ?? 'https://auth.globus.org/scopes/',
    lifetimes: {
      accessToken: r.positiveInt(lt.access_token, 'lifetimes.access_token', DEFAULT_LIFETIMES.accessToken),
      refreshToken: r.positiveInt(lt.refresh_token, 'lifetimes.refresh_token', DEFAULT_LIFETIMES.refreshToken),
      authorizationCode: r.positiveInt(lt.authorization_code, 'lifetimes.authorization_code', DEFAULT_LIFETIMES.authorizationCode),
      deviceCode: r.positiveInt(lt.device_code, 'lifetimes.device_code', DEFAULT_LIFETIMES.deviceCode),
      deviceInterval: r.positiveInt(lt.device_interval, 'lifetimes.device_interval', DEFAULT_LIFETIMES.deviceInterval),
    },
    rotateRefreshTokens: r.boolean(top.rotate_refresh_tokens, 'rotate_refresh_tokens', true),
    identityProviders: idps,
    users,
    clients,
  };
}

export function loadDevIdpConfig(file: string): DevIdpConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? err}; pass an existing file with --config`);
  }
  let doc: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both.
    doc = parseYaml(text);
  } catch (err) {
    const line = (err as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    throw new ConfigError(file, `not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}`, line);
  }
  return parseDevIdpConfig(doc, file);
}

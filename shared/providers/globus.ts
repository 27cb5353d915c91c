/**
 * Globus Auth, as the SSH service's confidential client: introspection with
 * identities_set and session_info, the client record (for its FQDNs), and
 * identity look-ups with their identity providers. Results are cached:
 * introspection by token hash, never past the token's `exp` nor the
 * configured TTL; identities and the client record for five minutes.
 */
import { InvalidTokenError, OAuthSshError, ProviderUnavailableError } from '../errors.js';
import { secretHash, secretHashPrefix } from '../secret-hash.js';
import { TtlCache } from '../ttl-cache.js';
import { basicAuth, HttpJsonClient } from './http-client.js';
import type { HttpStack } from './http-stack.js';
import type { Authentication, DeviceAuthorizationInfo, DeviceFlowProvider, DevicePoll, IdentityProviderInfo, LinkedIdentity, Principal, TokenVerifier } from './provider.js';
import { deviceAuthorizationFrom, pendingPollFrom } from './device-wire.js';
import { tokenForScope } from './token-response.js';
import { isObject } from '../json.js';

export class InvalidRegistrationError extends OAuthSshError {
  constructor(message: string) {
    super('REGISTRATION_FAILED', message);
  }
}

export const GLOBUS_SCOPE_PREFIX = 'https://auth.globus.org/scopes/';
const LOOKUP_TTL_MS = 5 * 60_000;
/** Tolerated clock difference for iat/nbf. */
const CLOCK_SKEW_S = 60;

export interface GlobusOptions {
  authUrl: string;
  clientId: string;
  clientSecret: string;
  httpTimeout: number;
  /** Seconds an introspection result may be reused (0 = never). */
  introspectionCacheTtl: number;
  /** The daemon's shared HTTP stack; without one the client builds its own from httpTimeout. */
  http?: HttpStack;
}

export interface Introspection {
  active: boolean;
  scope?: string;
  client_id?: string;
  sub?: string;
  username?: string;
  exp?: number;
  iat?: number;
  nbf?: number;
  identities_set?: string[];
  session_info?: { session_id?: string; authentications?: Record<string, { idp?: string; auth_time?: number; amr?: string[] | null } | null> | null } | null;
}

interface GlobusIdentity {
  id: string;
  username: string;
  identity_provider: string | null;
}


export class GlobusAuth implements TokenVerifier, DeviceFlowProvider {
  private readonly http: HttpJsonClient;
  private readonly auth: string;
  private readonly introspections = new TtlCache<Introspection>();
  private readonly identityCache = new TtlCache<{ identities: GlobusIdentity[]; idps: IdentityProviderInfo[] }>();
  private readonly clientCache = new TtlCache<{ fqdns: string[] }>(1);

  constructor(private readonly options: GlobusOptions) {
    this.http = new HttpJsonClient({ baseUrl: options.authUrl, timeoutSeconds: options.httpTimeout, http: options.http });
    this.auth = basicAuth(options.clientId, options.clientSecret);
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private credentialsRejected(status: number, what: string): never {
    throw new ProviderUnavailableError(`Globus Auth rejected this server's client credentials on ${what} (HTTP ${status}); check client_id and client_secret`);
  }

  async introspect(token: string): Promise<Introspection> {
    const key = secretHash(token);
    const cached = this.introspections.get(key);
    if (cached) return cached;
    const res = await this.http.request('POST', '/v2/oauth2/token/introspect', {
      headers: { authorization: this.auth },
      form: { token, include: 'identities_set,session_info' },
    });
    if (res.status === 401 || res.status === 403) this.credentialsRejected(res.status, 'introspection');
    if (res.status !== 200 || !isObject(res.body) || typeof res.body.active !== 'boolean') {
      throw new ProviderUnavailableError(`Globus Auth introspection answered HTTP ${res.status} without an "active" field`);
    }
    const result = res.body as unknown as Introspection;
    if (result.active && typeof result.exp === 'number' && this.options.introspectionCacheTtl > 0) {
      this.introspections.set(key, result, Math.min(result.exp * 1000, Date.now() + this.options.introspectionCacheTtl * 1000));
    }
    return result;
  }

  /** The FQDNs registered for this server's client. */
  async clientFqdns(): Promise<string[]> {
    const cached = this.clientCache.get('self');
    if (cached) return cached.fqdns;
    const res = await this.http.request('GET', `/v2/api/clients/${encodeURIComponent(this.options.clientId)}`, { headers: { authorization: this.auth } });
    if (res.status === 401 || res.status === 403) this.credentialsRejected(res.status, 'the client record');
    const client = isObject(res.body) ? res.body.client : undefined;
    if (res.status !== 200 || !isObject(client)) throw new ProviderUnavailableError(`Globus Auth answered HTTP ${res.status} for this server's client record`);
    const fqdns = Array.isArray(client.fqdns) ? client.fqdns.filter((f): f is string => typeof f === 'string').map((f) => f.toLowerCase()) : [];
    this.clientCache.set('self', { fqdns }, Date.now() + LOOKUP_TTL_MS);
    return fqdns;
  }

  /** Introspection cache look-ups, for operators' counters. */
  cacheStats(): { hits: number; misses: number } {
    return { hits: this.introspections.hits, misses: this.introspections.misses };
  }

  /** The registered FQDNs if already known, without asking (advice text must not wait on the network). */
  knownFqdns(): string[] | null {
    return this.clientCache.get('self')?.fqdns ?? null;
  }

  /** The scopes that admit a token to this host. */
  async acceptedScopes(): Promise<string[]> {
    return [this.options.clientId, ...(await this.clientFqdns())].map((s) => `${GLOBUS_SCOPE_PREFIX}${s}/ssh`);
  }

  /** The scope a device login asks for: this host's, by its first registered FQDN. */
  private async deviceScope(): Promise<string> {
    const [scope] = (await this.acceptedScopes()).slice(1);
    return scope ?? `${GLOBUS_SCOPE_PREFIX}${this.options.clientId}/ssh`;
  }

  async startDeviceAuthorization(_user: string): Promise<DeviceAuthorizationInfo> {
    const res = await this.http.request('POST', '/v2/oauth2/device_authorization', {
      headers: { authorization: this.auth },
      form: { scope: `openid profile email ${await this.deviceScope()}` },
    });
    if (res.status === 401 || res.status === 403) this.credentialsRejected(res.status, 'the device authorization');
    return deviceAuthorizationFrom(res, 'the authorization server');
  }

  async pollDevice(deviceCode: string): Promise<DevicePoll> {
    const res = await this.http.request('POST', '/v2/oauth2/token', {
      headers: { authorization: this.auth },
      form: { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode },
    });
    if (res.status === 200) {
      const token = tokenForScope(res.body, await this.deviceScope());
      if (!token) throw new ProviderUnavailableError('the device login returned no token for this host');
      return { status: 'approved', accessToken: token.accessToken };
    }
    if (res.status === 401) this.credentialsRejected(res.status, 'the device login');
    return pendingPollFrom(res, 'the authorization server');
  }

  /** Associates `fqdn` with this client (the admin has proven DNS ownership). */
  async registerFqdn(fqdn: string): Promise<string[]> {
    const res = await this.http.request('POST', `/v2/api/clients/${encodeURIComponent(this.options.clientId)}/fqdns`, { headers: { authorization: this.auth }, json: { fqdn } });
    if (res.status === 401 || res.status === 403) this.credentialsRejected(res.status, 'the FQDN registration');
    const body = isObject(res.body) ? res.body : {};
    if (res.status !== 200 && res.status !== 201) {
      const detail = typeof body.error_description === 'string' ? body.error_description : `HTTP ${res.status}`;
      throw new InvalidRegistrationError(`Globus Auth refused to register ${fqdn}: ${detail}`);
    }
    this.clientCache.delete('self');
    const client = isObject(body.client) ? body.client : {};
    return Array.isArray(client.fqdns) ? client.fqdns.filter((f): f is string => typeof f === 'string') : [fqdn];
  }

  async identities(ids: string[]): Promise<{ identities: GlobusIdentity[]; idps: IdentityProviderInfo[] }> {
    const sorted = [...new Set(ids)].sort();
    if (sorted.length === 0) return { identities: [], idps: [] };
    const key = sorted.join(',');
    const cached = this.identityCache.get(key);
    if (cached) return cached;
    const res = await this.http.request('GET', `/v2/api/identities?ids=${encodeURIComponent(key)}&include=identity_provider`, { headers: { authorization: this.auth } });
    if (res.status === 401 || res.status === 403) this.credentialsRejected(res.status, 'the identities look-up');
    if (res.status !== 200 || !isObject(res.body) || !Array.isArray(res.body.identities)) {
      throw new ProviderUnavailableError(`Globus Auth answered HTTP ${res.status} to the identities look-up`);
    }
    // Tolerate nulls and extra fields: optional data must never fail a login.
    const identities = res.body.identities.filter(isObject).flatMap((i): GlobusIdentity[] =>
      typeof i.id === 'string' && typeof i.username === 'string'
        ? [{ id: i.id.toLowerCase(), username: i.username, identity_provider: typeof i.identity_provider === 'string' ? i.identity_provider.toLowerCase() : null }]
        : [],
    );
    const included = isObject(res.body.included) && Array.isArray(res.body.included.identity_providers) ? res.body.included.identity_providers : [];
    const idps = included.filter(isObject).flatMap((p): IdentityProviderInfo[] =>
      typeof p.id === 'string'
        ? [{ id: p.id.toLowerCase(), name: typeof p.name === 'string' ? p.name : p.id, domains: Array.isArray(p.domains) ? p.domains.filter((d): d is string => typeof d === 'string').map((d) => d.toLowerCase()) : [] }]
        : [],
    );
    const result = { identities, idps };
    this.identityCache.set(key, result, Date.now() + LOOKUP_TTL_MS);
    return result;
  }

  async verify(token: string): Promise<Principal> {
    const intro = await this.introspect(token);
    const now = Date.now() / 1000;
    if (!intro.active) throw new InvalidTokenError('the token is not active (expired, revoked, or not issued for this host)');
    if (typeof intro.exp !== 'number' || intro.exp <= now) throw new InvalidTokenError('the token has expired');
    if ((typeof intro.iat === 'number' && intro.iat > now + CLOCK_SKEW_S) || (typeof intro.nbf === 'number' && intro.nbf > now + CLOCK_SKEW_S)) {
      throw new InvalidTokenError('the token is not valid yet (iat/nbf in the future); check the clocks');
    }
    const scopes = (intro.scope ?? '').split(/\s+/).filter(Boolean);
    const accepted = await this.acceptedScopes();
    if (!scopes.some((s) => accepted.includes(s))) {
      throw new InvalidTokenError(`the token is not for this host: it needs the scope ${accepted[1] ?? accepted[0]}`);
    }
    // Only the identities linked to the token's account map to accounts, and only their logins count for the policy.
    const identityIds = (Array.isArray(intro.identities_set) ? intro.identities_set : []).map((s) => String(s).toLowerCase());
    const linkedIds = new Set(identityIds);
    const allAuthentications = isObject(intro.session_info) && isObject(intro.session_info.authentications) ? intro.session_info.authentications : {};
    const authentications = Object.fromEntries(Object.entries(allAuthentications).filter(([id]) => linkedIds.has(id.toLowerCase())));
    const { identities, idps } = await this.identities(identityIds);
    const idpById = new Map(idps.map((p) => [p.id, p]));
    const idpOf = (id: string | null | undefined): IdentityProviderInfo | null => (id ? idpById.get(id.toLowerCase()) ?? { id: id.toLowerCase(), name: id, domains: [] } : null);
    const linked: LinkedIdentity[] = identities.map((i) => ({ id: i.id, username: i.username, idp: idpOf(i.identity_provider) }));
    // Globus reports amr per authentication (a missing list means no factor beyond the first) and never acr.
    const sessions: Authentication[] = Object.entries(authentications).flatMap(([identityId, a]) =>
      isObject(a) && typeof a.auth_time === 'number'
        ? [{ identityId: identityId.toLowerCase(), idp: idpOf(typeof a.idp === 'string' ? a.idp : null), authTime: a.auth_time, amr: Array.isArray(a.amr) ? a.amr.filter((x): x is string => typeof x === 'string') : [], acr: null }]
        : [],
    );
    const username = String(intro.username ?? intro.sub ?? '');
    return {
      tokenHash: secretHashPrefix(token),
      provider: { kind: 'globus', issuer: this.options.authUrl, name: 'Globus Auth' },
      subject: String(intro.sub ?? ''),
      displayName: username,
      auditIdentity: username,
      clientId: String(intro.client_id ?? ''),
      scopes,
      expiresAt: intro.exp,
      identities: linked,
      authentications: sessions,
      groups: null,
      posixUid: null,
      unreadableClaims: [],
      claims: {},
    };
  }
}

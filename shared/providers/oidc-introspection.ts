/**
 * Opaque access tokens of a generic OAuth/OIDC provider, checked by RFC 7662
 * introspection with this server's own client. An active answer becomes the
 * same claims a JWT would carry, under the same rules. Because introspection
 * vouches for any token the provider issued, the token must be meant for us:
 * its `aud` one of ours, or its `client_id` one we allow.
 */
import { InvalidTokenError, ProviderUnavailableError } from '../errors.js';
import { secretHash } from '../secret-hash.js';
import { TtlCache } from '../ttl-cache.js';
import { basicAuth, HttpJsonClient } from './http-client.js';
import type { VerifiedJwt } from './jwt-verifier.js';
import { isObject } from '../json.js';

export interface IntrospectionOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  audiences: string[];
  allowedClients: string[];
  httpTimeout: number;
  cacheTtl: number;
}


export class OidcIntrospector {
  private readonly http: HttpJsonClient;
  private endpoint: Promise<string> | undefined;
  private readonly cache = new TtlCache<VerifiedJwt>();

  constructor(private readonly options: IntrospectionOptions) {
    this.http = new HttpJsonClient({ baseUrl: options.issuer, timeoutSeconds: options.httpTimeout });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private introspectionEndpoint(): Promise<string> {
    this.endpoint ??= (async () => {
      const res = await this.http.request('GET', '/.well-known/openid-configuration');
      const url = isObject(res.body) ? res.body.introspection_endpoint : undefined;
      if (res.status !== 200 || typeof url !== 'string') {
        this.endpoint = undefined;
        throw new ProviderUnavailableError(`${this.options.issuer} publishes no introspection_endpoint`);
      }
      return url;
    })();
    return this.endpoint;
  }

  async verify(token: string): Promise<VerifiedJwt> {
    const key = secretHash(token);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const res = await this.http.request('POST', await this.introspectionEndpoint(), { headers: { authorization: basicAuth(this.options.clientId, this.options.clientSecret) }, form: { token } });
    if (res.status === 401 || res.status === 403) throw new ProviderUnavailableError(`${this.options.issuer} rejected this server's introspection credentials (HTTP ${res.status})`);
    const b = isObject(res.body) ? res.body : null;
    if (res.status !== 200 || !b || typeof b.active !== 'boolean') throw new ProviderUnavailableError(`${this.options.issuer} answered HTTP ${res.status} to introspection`);
    if (!b.active) throw new InvalidTokenError('the token is not active (expired, revoked, or unknown to its issuer)');
    const now = Date.now() / 1000;
    if (typeof b.exp !== 'number' || b.exp <= now) throw new InvalidTokenError('the token has expired');
    if (typeof b.sub !== 'string' || b.sub === '') throw new InvalidTokenError('the introspected token names no subject');
    const aud = Array.isArray(b.aud) ? b.aud.map(String) : typeof b.aud === 'string' ? [b.aud] : [];
    const forUs = aud.some((a) => this.options.audiences.includes(a)) || (typeof b.client_id === 'string' && this.options.allowedClients.includes(b.client_id));
    if (!forUs) throw new InvalidTokenError('the token was not issued for this host (neither its audience nor its client is accepted here)');
    const claims = { ...b, iss: typeof b.iss === 'string' ? b.iss : this.options.issuer, sub: b.sub } as VerifiedJwt;
    if (this.options.cacheTtl > 0) this.cache.set(key, claims, Math.min(b.exp * 1000, Date.now() + this.options.cacheTtl * 1000));
    return claims;
  }
}

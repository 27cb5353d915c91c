/**
 * Opaque access tokens of a generic OAuth/OIDC provider, checked by RFC 7662
 * introspection (openid-client, client_secret_basic) with this server's own
 * client. An active answer becomes the same claims a JWT would carry, under
 * the same rules. Because introspection vouches for any token the provider
 * issued, the token must be meant for us: its `aud` one of ours, or its
 * `client_id` one we allow.
 */
import * as oidc from 'openid-client';
import { InvalidTokenError, ProviderUnavailableError } from '../errors.js';
import { secretHash } from '../secret-hash.js';
import { TtlCache } from '../ttl-cache.js';
import { borrowOrOwnStack, type HttpStack } from './http-stack.js';
import type { VerifiedJwt } from './jwt-verifier.js';
import { discoveryOnce } from './oidc-discovery.js';
import { asProviderUnavailable, httpStatusOf, providerUnavailableIn } from './oidc-errors.js';

export interface IntrospectionOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  audiences: string[];
  allowedClients: string[];
  httpTimeout: number;
  cacheTtl: number;
  /** The daemon's shared HTTP stack; without one the introspector builds its own from httpTimeout. */
  http?: HttpStack;
}

export class OidcIntrospector {
  private readonly http: HttpStack;
  private readonly closeStack: () => Promise<void>;
  private readonly config: () => Promise<oidc.Configuration>;
  private readonly cache = new TtlCache<VerifiedJwt>();

  constructor(private readonly options: IntrospectionOptions) {
    ({ http: this.http, close: this.closeStack } = borrowOrOwnStack(options.http, options.httpTimeout));
    const { issuer, clientId, clientSecret } = options;
    this.config = discoveryOnce(issuer, this.http, { clientId, clientSecret }, (d) => {
      if (typeof d.introspection_endpoint !== 'string') throw new ProviderUnavailableError(`${issuer} publishes no introspection_endpoint`);
    });
  }

  /** Introspection cache look-ups, for operators' counters. */
  cacheStats(): { hits: number; misses: number } {
    return { hits: this.cache.hits, misses: this.cache.misses };
  }

  close(): Promise<void> {
    return this.closeStack();
  }

  private async introspect(token: string): Promise<oidc.IntrospectionResponse> {
    const config = await this.config();
    try {
      return await oidc.tokenIntrospection(config, token);
    } catch (err) {
      const status = httpStatusOf(err);
      if (!providerUnavailableIn(err) && (status === 401 || status === 403)) {
        throw new ProviderUnavailableError(`${this.options.issuer} rejected this server's introspection credentials (HTTP ${status})`, { cause: err });
      }
      throw asProviderUnavailable(err, (reason) => `${this.options.issuer} gave no usable answer to introspection (${reason})`);
    }
  }

  async verify(token: string): Promise<VerifiedJwt> {
    const key = secretHash(token);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const b = await this.introspect(token);
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

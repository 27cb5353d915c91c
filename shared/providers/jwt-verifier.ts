/**
 * Local verification of JWT access tokens (SciTokens, and later any OIDC
 * provider's JWTs): the issuer must be one we trust by exact string, its
 * keys come from its JWKS (found through discovery, fetched again when an
 * unknown `kid` shows up, so key rotation just works), the signature must use
 * an asymmetric algorithm from a fixed allow-list (no `none`, no HS*: a
 * public key can never double as an HMAC secret), and exp/nbf/iat and aud
 * are checked. Bad tokens are InvalidTokenError; an unreachable issuer is
 * ProviderUnavailableError, so PAM answers AUTHINFO_UNAVAIL rather than "no".
 * Discovery (openid-client) and the key set (jose) both go over the HTTP
 * stack, so its timeouts and 429 back-off cover them.
 */
import { createRemoteJWKSet, customFetch, decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import { sanitizeForTerminal } from '../sanitize.js';
import { InvalidTokenError, ProviderUnavailableError, errorMessage } from '../errors.js';
import { borrowOrOwnStack, type HttpStack } from './http-stack.js';
import { discoverIssuer } from './oidc-discovery.js';

export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const CLOCK_SKEW_S = 60;
/** After fetching an issuer's keys, an unknown kid waits this long before the keys are fetched again (rotation vs. hammering). */
export const JWKS_COOLDOWN_MS = 5000;

export interface JwtVerifierOptions {
  issuers: string[];
  /** Accepted `aud` values; empty = no audience check is possible, so every token is refused. */
  audiences: string[];
  httpTimeout: number;
  /** The daemon's shared HTTP stack; without one the verifier builds its own from httpTimeout. */
  http?: HttpStack;
}

export type VerifiedJwt = JWTPayload & { iss: string; sub: string };

const normalizeIssuer = (iss: string) => iss.replace(/\/+$/, '');

export class JwtVerifier {
  private readonly keySets = new Map<string, Promise<ReturnType<typeof createRemoteJWKSet>>>();
  private readonly issuers: Set<string>;
  private readonly http: HttpStack;
  private readonly closeStack: () => Promise<void>;

  constructor(private readonly options: JwtVerifierOptions) {
    this.issuers = new Set(options.issuers.map(normalizeIssuer));
    ({ http: this.http, close: this.closeStack } = borrowOrOwnStack(options.http, options.httpTimeout));
  }

  /** Closes the HTTP stack if the verifier built it (a shared one is its owner's to close). */
  close(): Promise<void> {
    return this.closeStack();
  }

  private async jwksUri(issuer: string): Promise<URL> {
    const uri = (await discoverIssuer(issuer, this.http)).serverMetadata().jwks_uri;
    if (typeof uri !== 'string') throw new ProviderUnavailableError(`the token issuer ${issuer} publishes no jwks_uri in its discovery document`);
    return new URL(uri);
  }

  private keySet(issuer: string) {
    let set = this.keySets.get(issuer);
    if (!set) {
      set = this.jwksUri(issuer).then((uri) =>
        createRemoteJWKSet(uri, { timeoutDuration: Math.round(this.http.timeoutSeconds * 1000), cooldownDuration: JWKS_COOLDOWN_MS, [customFetch]: this.http.fetch }),
      );
      set.catch(() => this.keySets.delete(issuer)); // try discovery again next time
      this.keySets.set(issuer, set);
    }
    return set;
  }

  async verify(token: string): Promise<VerifiedJwt> {
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      throw new InvalidTokenError('the token is not a well-formed JWT');
    }
    const issuer = typeof claims.iss === 'string' ? normalizeIssuer(claims.iss) : '';
    if (!this.issuers.has(issuer)) throw new InvalidTokenError(`tokens from ${issuer || 'an unnamed issuer'} are not accepted here`);
    if (this.options.audiences.length === 0) throw new InvalidTokenError('this host accepts no JWT audience (configure oidc_audience, or scitokens_audience for SciTokens issuers)');
    const keys = await this.keySet(issuer);
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: [issuer, `${issuer}/`],
        audience: this.options.audiences,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: CLOCK_SKEW_S,
        requiredClaims: ['exp', 'sub'],
      });
      if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + CLOCK_SKEW_S) throw new InvalidTokenError('the token was issued in the future; check the clocks');
      return payload as VerifiedJwt;
    } catch (err) {
      if (err instanceof InvalidTokenError) throw err;
      // The stack's own verdict on the issuer (unreachable, slow, 429, 5xx), passed through jose unchanged.
      if (err instanceof ProviderUnavailableError) throw err;
      if (err instanceof errors.JWTExpired) throw new InvalidTokenError('the token has expired');
      if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'aud') {
        // The signature verified: name what the provider put there and what this host expects, so either side can fix it.
        const got = (Array.isArray(claims.aud) ? claims.aud : [claims.aud]).map((a) => JSON.stringify(sanitizeForTerminal(String(a ?? ''), 120)));
        const want = this.options.audiences.map((a) => JSON.stringify(a));
        throw new InvalidTokenError(`the token was issued for the audience ${got.join(', ') || '(none)'}, and this host accepts ${want.join(', ')}`);
      }
      if (err instanceof errors.JWTClaimValidationFailed) throw new InvalidTokenError(`the token's "${err.claim}" claim is not acceptable here (${err.reason})`);
      if (err instanceof errors.JOSEAlgNotAllowed) throw new InvalidTokenError('the token is signed with an algorithm this host does not accept');
      if (err instanceof errors.JWKSTimeout) throw new ProviderUnavailableError(`the token issuer ${issuer} did not answer in time`);
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
        throw new InvalidTokenError('the token signature does not verify with the issuer\'s keys');
      }
      if (err instanceof errors.JWKSInvalid) throw new ProviderUnavailableError(`the token issuer ${issuer} publishes an unusable key set`);
      if (err instanceof errors.JOSEError) throw new InvalidTokenError(`the token is not acceptable: ${err.code}`);
      throw new ProviderUnavailableError(`cannot get the keys of ${issuer}: ${errorMessage(err)}`);
    }
  }
}

/**
 * One configured OpenID Connect / OAuth issuer (Keycloak, Entra, IDCS,
 * Glewlwyd, a SciTokens issuer...) as a token provider: its JWT access tokens
 * are verified locally (JwtVerifier: its own keys, its own audiences), its
 * opaque ones by RFC 7662 introspection when configured, and either way the
 * result becomes the same Principal that Globus introspection produces. The
 * facts a rule may need (groups, the POSIX uid, auth_time/amr/acr) are read
 * here; what they mean for a login is decided in server-pam, in one place.
 */
import { decodeJwt } from 'jose';
import { InvalidTokenError } from '../errors.js';
import { isObject } from '../json.js';
import { secretHashPrefix } from '../secret-hash.js';
import type { HttpStack } from './http-stack.js';
import { JwtVerifier } from './jwt-verifier.js';
import { fetchProtectedJson } from './protected-resource.js';
import type { OidcIntrospector } from './oidc-introspection.js';
import type { Authentication, IdentityProviderInfo, Principal, ProviderKind, TokenVerifier } from './provider.js';

type Claims = Record<string, unknown>;

export interface OidcIssuerOptions {
  issuer: string;
  /** 'scitokens': the SciTokens profile (its scope may grant accounts); 'oidc': accounts come from claims. */
  kind: Exclude<ProviderKind, 'globus'>;
  audiences: string[];
  /** The claim listing the user's groups, when a group rule reads it. */
  groupsClaim: string | null;
  /** The claim (or `/`-path) holding the POSIX uid, when the uid rule reads it. */
  uidClaim: string | null;
  /** Asked with the token (Bearer) for a uid claim the token lacks (IDCS: /admin/v1/Me). */
  userinfoUrl: string | null;
  /** Scope values the token must carry (e.g. a bare `ssh`: required, never a grant). */
  requiredScopes?: string[];
  /** The daemon's one HTTP stack (timeouts, pooling, 429 back-off for all traffic). */
  http: HttpStack;
  /** Opaque tokens of this issuer, by RFC 7662 introspection. */
  introspector?: OidcIntrospector | null;
}

/** Issuers compare without trailing slashes (`iss` is a URL; some providers add one). */
export const normalizeIssuer = (iss: string) => iss.replace(/\/+$/, '');

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/** Whether a token parses as a JWT, and the `iss` it claims (unverified: for routing only, never trusted). */
export function unverifiedIssuer(token: string): { jwt: false } | { jwt: true; issuer: string | null } {
  // A compact JWS has exactly three segments: anything else cannot decode, so skip the (throwing) attempt.
  if (token.split('.', 4).length !== 3) return { jwt: false };
  let iss: unknown;
  try {
    iss = decodeJwt(token).iss;
  } catch {
    return { jwt: false };
  }
  return { jwt: true, issuer: typeof iss === 'string' && iss !== '' ? normalizeIssuer(iss) : null };
}

/** A claim by name, or by a `/`-separated path into nested objects (SCIM extensions use ':' in their names). */
export function claimAt(claims: Claims, path: string): unknown {
  let value: unknown = claims;
  for (const key of path.split('/')) {
    if (!isObject(value)) return undefined;
    value = value[key];
  }
  return value;
}

/** The groups a claim (or `/`-path) lists; a string is ONE group ("Domain Users"); null when the claim is absent or unreadable. */
export function groupsOf(claims: Claims, claim: string): string[] | null {
  const v = claimAt(claims, claim);
  if (Array.isArray(v)) return v.filter((g): g is string => typeof g === 'string');
  return typeof v === 'string' ? [v] : null;
}

function uidOf(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return null;
}

/** The person as people know them: never used to choose an account, only to name them in messages. */
export function humanName(claims: Claims): string {
  return str(claims.preferred_username) ?? str(claims.email) ?? str(claims.name) ?? String(claims.sub ?? '');
}

export function scopesOf(claims: Claims): string[] {
  const scope = claims.scope ?? claims.scp;
  return typeof scope === 'string' ? scope.split(/\s+/).filter(Boolean) : Array.isArray(scope) ? scope.filter((s): s is string => typeof s === 'string') : [];
}

export class OidcIssuer implements TokenVerifier {
  readonly issuer: string;
  private readonly jwt: JwtVerifier;
  private readonly idp: IdentityProviderInfo;

  constructor(private readonly options: OidcIssuerOptions) {
    this.issuer = normalizeIssuer(options.issuer);
    this.jwt = new JwtVerifier({ issuers: [this.issuer], audiences: options.audiences, httpTimeout: options.http.timeoutSeconds, http: options.http });
    const host = new URL(this.issuer).hostname.toLowerCase();
    this.idp = { id: this.issuer, name: host, domains: [host] };
  }

  get kind(): OidcIssuerOptions['kind'] {
    return this.options.kind;
  }

  get introspects(): boolean {
    return Boolean(this.options.introspector);
  }

  private async verifiedClaims(token: string): Promise<Claims & { sub: string; iss: string }> {
    const claimed = unverifiedIssuer(token);
    if (claimed.jwt && claimed.issuer === this.issuer) return this.jwt.verify(token);
    if (this.options.introspector) return this.options.introspector.verify(token);
    throw new InvalidTokenError(`the token is not a JWT from ${this.issuer}, and this host does not introspect that issuer's opaque tokens (introspection_issuer)`);
  }

  async verify(token: string): Promise<Principal> {
    return this.principal(await this.verifiedClaims(token), token);
  }

  /** Verified claims -> the Principal every provider produces (public for the decision-space test). */
  async principal(claims: Claims & { sub: string }, token: string): Promise<Principal> {
    // jose checks only that sub is present: a person needs a name.
    if (typeof claims.sub !== 'string' || claims.sub === '') throw new InvalidTokenError('the token names no subject (sub)');
    const scopes = scopesOf(claims);
    const missing = (this.options.requiredScopes ?? []).filter((s) => !scopes.includes(s));
    if (missing.length) throw new InvalidTokenError(`the token lacks the scope ${missing.join(' ')} that this host requires`);
    const { groupsClaim, uidClaim, userinfoUrl } = this.options;
    let uid = uidClaim ? uidOf(claimAt(claims, uidClaim)) : null;
    if (uidClaim && uid === null && userinfoUrl) uid = uidOf(claimAt(await fetchProtectedJson(userinfoUrl, token, this.options.http), uidClaim)); // IDCS: /admin/v1/Me
    // A claim that is there in a form we cannot read is not "missing": say so when a rule needs it.
    const unreadable = [
      claims.auth_time !== undefined && typeof claims.auth_time !== 'number' && 'auth_time',
      claims.amr !== undefined && !Array.isArray(claims.amr) && 'amr',
      claims.acr !== undefined && typeof claims.acr !== 'string' && 'acr',
      groupsClaim && claimAt(claims, groupsClaim) !== undefined && groupsOf(claims, groupsClaim) === null && groupsClaim,
    ].filter((c): c is string => typeof c === 'string');
    const authentication: Authentication = {
      identityId: claims.sub,
      idp: this.idp,
      authTime: typeof claims.auth_time === 'number' ? claims.auth_time : null,
      amr: Array.isArray(claims.amr) ? claims.amr.filter((m): m is string => typeof m === 'string') : null,
      acr: typeof claims.acr === 'string' ? claims.acr : null,
    };
    const displayName = humanName(claims);
    const auditIdentity = `${claims.sub}@${this.issuer}`;
    return {
      tokenHash: secretHashPrefix(token),
      provider: { kind: this.options.kind, issuer: this.issuer, name: this.issuer },
      subject: claims.sub,
      displayName,
      auditIdentity,
      clientId: String(claims.client_id ?? claims.azp ?? ''),
      scopes,
      expiresAt: typeof claims.exp === 'number' ? claims.exp : 0,
      // The stable name (sub@issuer): human claims are for messages, never for mapping by accident.
      identities: [{ id: claims.sub, username: auditIdentity, idp: this.idp }],
      authentications: [authentication],
      groups: groupsClaim ? groupsOf(claims, groupsClaim) : null,
      unreadableClaims: unreadable,
      posixUid: uid,
      claims,
    };
  }
}

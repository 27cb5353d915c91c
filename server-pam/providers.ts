/**
 * The providers a configuration trusts, and the router that picks the one
 * that judges a token. Routing is by issuer, never by the token's shape: a
 * token that parses as a JWT goes to the configured issuer its `iss` names
 * (decoded without verification, before any key is fetched; that provider
 * then verifies everything); anything else is an opaque token, for the one
 * configured introspection provider (Globus, or RFC 7662 at an OIDC
 * provider). A token no configured provider claims is refused with the
 * reason. The daemon, `explain` and `check` all build their providers here.
 */
import { InvalidTokenError } from '../shared/errors.js';
import { sanitizeForTerminal } from '../shared/sanitize.js';
import { GlobusAuth } from '../shared/providers/globus.js';
import { createHttpStack } from '../shared/providers/http-stack.js';
import { OidcDeviceProvider } from '../shared/providers/oidc-device.js';
import { OidcIntrospector } from '../shared/providers/oidc-introspection.js';
import { OidcIssuer, unverifiedIssuer } from '../shared/providers/oidc-issuer.js';
import type { DeviceFlowProvider, ProviderKind, TokenVerifier } from '../shared/providers/provider.js';
import type { MappingProfile } from './accounts.js';
import type { ServerConfig } from './config.js';
import type { CacheSource } from './metrics.js';

export interface ConfiguredProvider {
  kind: ProviderKind;
  /** The issuer URL (Globus: its auth URL): what a JWT's `iss` must equal. */
  issuer: string;
  /** How messages and `check` name it. */
  name: string;
  verifier: TokenVerifier;
  /** Which mapping rules give accounts to its tokens. */
  profile: MappingProfile;
  /** It takes opaque tokens (introspection). */
  introspects: boolean;
}

export interface ProviderSet {
  providers: ConfiguredProvider[];
  /** The Globus client, when globus_auth is on (FQDNs for `check`, device flow, registration). */
  globus: GlobusAuth | null;
  /** The device flow's provider and the provider that judges the tokens it yields. */
  device: { flow: DeviceFlowProvider; judge: ConfiguredProvider } | null;
  /** The introspection caches, for operators' counters. */
  caches: CacheSource[];
  close(): Promise<void>;
}

export interface ProviderOverrides {
  /** Replaces Globus introspection (tests of faults a real server cannot produce). */
  globusVerifier?: TokenVerifier;
  /** Introspection cache TTL override (`explain` asks afresh). */
  introspectionCacheTtl?: number;
}

/** The mapping rules of each profile. Claim rules belong to OIDC issuers; scope grants to SciTokens issuers. */
export function mappingProfile(config: ServerConfig, kind: ProviderKind): MappingProfile {
  const none: MappingProfile = { idpSuffix: null, mapFileKeys: 'none', usernameClaim: null, usernameSuffix: null, usernamePrefix: null, scopeGrants: false, uidRule: false };
  if (kind === 'globus') return { ...none, idpSuffix: config.idpSuffix, mapFileKeys: 'identity' };
  const uidRule = config.claims.uidClaim !== null;
  if (kind === 'scitokens') return { ...none, scopeGrants: true, uidRule };
  const { usernameClaim, usernameSuffix, usernamePrefix } = config.claims;
  // Map files apply to an OIDC issuer's claims only when the admin opted into claim mapping. When they
  // serve several providers (Globus and OIDC, or two OIDC issuers), a bare key could name people at
  // either: then only sub@issuer keys count for OIDC tokens.
  const readers = (config.globus ? 1 : 0) + config.jwtIssuers.filter((i) => i.kind === 'oidc').length;
  const mapFileKeys = !usernameClaim ? 'none' : readers > 1 ? 'qualified' : 'claims';
  return { ...none, usernameClaim, usernameSuffix, usernamePrefix, mapFileKeys, uidRule };
}

export function buildProviders(config: ServerConfig, overrides: ProviderOverrides = {}): ProviderSet {
  const cacheTtl = overrides.introspectionCacheTtl ?? config.introspectionCacheTtl;
  const providers: ConfiguredProvider[] = [];
  // One HTTP stack for every provider: one keep-alive pool per origin, one 429 back-off, http_timeout everywhere.
  const http = createHttpStack({ timeoutSeconds: config.httpTimeout });
  const closers: Array<() => Promise<void>> = [];
  const caches: CacheSource[] = [];
  let globus: GlobusAuth | null = null;
  if (config.globus) {
    globus = new GlobusAuth({ authUrl: config.authUrl, clientId: config.clientId, clientSecret: config.clientSecret, httpTimeout: config.httpTimeout, introspectionCacheTtl: cacheTtl, http });
    closers.push(() => globus!.close());
    caches.push({ provider: 'Globus Auth', stats: () => globus!.cacheStats() });
    providers.push({ kind: 'globus', issuer: config.authUrl, name: 'Globus Auth', verifier: overrides.globusVerifier ?? globus, profile: mappingProfile(config, 'globus'), introspects: true });
  }
  for (const jwt of config.jwtIssuers) {
    const introspector =
      config.introspection?.issuer === jwt.issuer
        ? new OidcIntrospector({ ...config.introspection, audiences: jwt.audiences, httpTimeout: config.httpTimeout, cacheTtl, http })
        : null;
    if (introspector) {
      closers.push(() => introspector.close());
      caches.push({ provider: jwt.issuer, stats: () => introspector.cacheStats() });
    }
    const verifier = new OidcIssuer({ issuer: jwt.issuer, kind: jwt.kind, audiences: jwt.audiences, groupsClaim: config.claims.groupsClaim, uidClaim: config.claims.uidClaim, userinfoUrl: config.claims.userinfoIssuer === jwt.issuer ? config.claims.userinfoUrl : null, requiredScopes: config.claims.requiredScopes, http, introspector });
    providers.push({ kind: jwt.kind, issuer: jwt.issuer, name: jwt.issuer, verifier, profile: mappingProfile(config, jwt.kind), introspects: introspector !== null });
  }

  let device: ProviderSet['device'] = null;
  if (config.deviceFlow) {
    if (config.deviceOidc) {
      const flow = new OidcDeviceProvider({ ...config.deviceOidc, httpTimeout: config.httpTimeout, http });
      closers.push(() => flow.close());
      device = { flow, judge: providers.find((p) => p.issuer === config.deviceOidc!.issuer)! };
    } else if (globus) {
      device = { flow: globus, judge: providers.find((p) => p.kind === 'globus')! };
    }
  }
  return {
    providers,
    globus,
    device,
    caches,
    close: async () => {
      await Promise.all(closers.map((c) => c()));
      await http.close();
    },
  };
}

/** The one provider that judges `token`; throws InvalidTokenError when none claims it. */
export function routeToken(providers: ConfiguredProvider[], token: string): ConfiguredProvider {
  const claimed = unverifiedIssuer(token);
  if (claimed.jwt) {
    if (claimed.issuer === null) throw new InvalidTokenError('the token is a JWT that names no issuer (iss)');
    const match = providers.find((p) => p.issuer === claimed.issuer);
    if (match) return match;
    const trusted = providers.filter((p) => p.kind !== 'globus').map((p) => p.issuer);
    throw new InvalidTokenError(`tokens from ${sanitizeForTerminal(claimed.issuer, 200)} are not accepted here${trusted.length ? ` (this host trusts ${trusted.join(', ')})` : ''}`);
  }
  const introspector = providers.find((p) => p.introspects);
  if (introspector) return introspector;
  const trusted = providers.map((p) => p.issuer).join(', ');
  throw new InvalidTokenError(`the token is not a JWT, and this host checks no opaque tokens: it accepts JWT access tokens from ${trusted} only`);
}

/**
 * Finding an OpenID Connect / OAuth 2.0 issuer's metadata through
 * openid-client, over our HTTP stack, as every generic-OIDC provider and
 * `oauth-ssh-server check` need it:
 * - plain http only for an issuer on this machine (shared/url-policy.ts), so
 *   openid-client's https-only rule is lifted for loopback issuers alone, and
 *   no endpoint named by the document may lead off this machine over http;
 * - the document must name the issuer we asked for (openid-client checks
 *   this); a difference in a trailing slash only is the same issuer, as the
 *   token checks see it;
 * - OpenID Connect discovery first, RFC 8414 when the issuer has none.
 * Every failure is an IssuerDiscoveryError (a ProviderUnavailableError)
 * whose `reason` says which of these it was.
 */
import * as oidc from 'openid-client';
import { ProviderUnavailableError } from '../errors.js';
import { secureOrLoopback } from '../url-policy.js';
import type { HttpStack } from './http-stack.js';
import { httpStatusOf, providerUnavailableIn, reasonOf } from './oidc-errors.js';

export type DiscoveryFailure = 'insecure' | 'unreachable' | 'no-document' | 'issuer-mismatch' | 'unusable';

export class IssuerDiscoveryError extends ProviderUnavailableError {
  constructor(
    readonly reason: DiscoveryFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** How we authenticate at the issuer's endpoints; discovery alone needs no client. */
export interface IssuerClient {
  clientId: string;
  /** Confidential clients authenticate with HTTP Basic (client_secret_basic); without a secret, a public client. */
  clientSecret?: string | null;
}

/** The client id used when only the metadata is wanted (check, JWT key look-ups). */
const METADATA_ONLY: IssuerClient = { clientId: 'oauth-ssh-server' };

const normalizeIssuer = (iss: string) => iss.replace(/\/+$/, '');

export async function discoverIssuer(issuer: string, http: HttpStack, client: IssuerClient = METADATA_ONLY): Promise<oidc.Configuration> {
  if (!secureOrLoopback(issuer)) throw new IssuerDiscoveryError('insecure', `the issuer ${issuer} must be an https URL (plain http is allowed on this machine only)`);
  const server = new URL(issuer);
  const insecure = server.protocol === 'http:';
  const auth = client.clientSecret ? oidc.ClientSecretBasic(client.clientSecret) : oidc.None();
  const options = (algorithm: 'oidc' | 'oauth2'): oidc.DiscoveryRequestOptions => ({
    algorithm,
    [oidc.customFetch]: http.fetch,
    timeout: http.timeoutSeconds,
    execute: insecure ? [oidc.allowInsecureRequests] : [],
  });
  let config: oidc.Configuration;
  try {
    config = await oidc.discovery(server, client.clientId, client.clientSecret ?? undefined, auth, options('oidc')).catch((err: unknown) => {
      if (httpStatusOf(err) !== 404) throw err;
      return oidc.discovery(server, client.clientId, client.clientSecret ?? undefined, auth, options('oauth2'));
    });
  } catch (err) {
    config = sameIssuerButSlash(err, issuer, client, auth, http, insecure) ?? discoveryFailed(err, issuer);
  }
  checkEndpoints(config, issuer);
  return config;
}

/** openid-client refused a document whose issuer differs from ours by a trailing slash only: accept its metadata as ours. */
function sameIssuerButSlash(err: unknown, issuer: string, client: IssuerClient, auth: oidc.ClientAuth, http: HttpStack, insecure: boolean): oidc.Configuration | undefined {
  const cause = (err as { cause?: { attribute?: unknown; body?: unknown } }).cause;
  if ((err as { code?: unknown }).code !== 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' || cause?.attribute !== 'issuer') return undefined;
  const metadata = cause.body as oidc.ServerMetadata;
  if (typeof metadata?.issuer !== 'string' || normalizeIssuer(metadata.issuer) !== normalizeIssuer(issuer)) return undefined;
  const config = new oidc.Configuration(metadata, client.clientId, client.clientSecret ?? undefined, auth);
  config[oidc.customFetch] = http.fetch;
  config.timeout = http.timeoutSeconds;
  if (insecure) oidc.allowInsecureRequests(config);
  return config;
}

function discoveryFailed(err: unknown, issuer: string): never {
  // The stack's verdict (unreachable, too slow, 429, 5xx) under openid-client's wrapping; its message names the host.
  const unavailable = providerUnavailableIn(err);
  if (unavailable) throw new IssuerDiscoveryError('unreachable', unavailable.message, { cause: unavailable });
  const cause = (err as { cause?: { attribute?: unknown; body?: { issuer?: unknown } } }).cause;
  if (cause?.attribute === 'issuer') throw new IssuerDiscoveryError('issuer-mismatch', `the discovery document of ${issuer} names another issuer (${String(cause.body?.issuer)})`, { cause: err });
  if (httpStatusOf(err) === 404) throw new IssuerDiscoveryError('no-document', `the issuer ${issuer} publishes no discovery document`, { cause: err });
  throw new IssuerDiscoveryError('unusable', `the issuer ${issuer} has no usable discovery document (${reasonOf(err)})`, { cause: err });
}

/** With http allowed for a loopback issuer, its document must not send us (and our secrets) over http elsewhere. */
function checkEndpoints(config: oidc.Configuration, issuer: string): void {
  for (const [name, value] of Object.entries(config.serverMetadata())) {
    if ((name.endsWith('_endpoint') || name === 'jwks_uri') && typeof value === 'string' && !secureOrLoopback(value)) {
      throw new IssuerDiscoveryError('insecure', `the discovery document of ${issuer} names a ${name} that is neither https nor on this machine`);
    }
  }
}

/**
 * Discovery done once and shared by every login; a failed attempt is
 * forgotten, so the next login tries again. `require` refuses a document that
 * lacks what the caller needs (throw ProviderUnavailableError).
 */
export function discoveryOnce(issuer: string, http: HttpStack, client: IssuerClient, require: (metadata: oidc.ServerMetadata) => void): () => Promise<oidc.Configuration> {
  let configuration: Promise<oidc.Configuration> | undefined;
  return () => {
    if (!configuration) {
      const pending = discoverIssuer(issuer, http, client).then((config) => {
        require(config.serverMetadata());
        return config;
      });
      pending.catch(() => {
        if (configuration === pending) configuration = undefined;
      });
      configuration = pending;
    }
    return configuration;
  };
}

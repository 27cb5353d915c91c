/**
 * The client's conversations with the authorization server. The OAuth part
 * (discovery with issuer validation, the authorization URL, the code grant
 * with PKCE, state and RFC 9207 iss, the device grant with slow_down,
 * refresh, revocation, typed OAuth errors) is openid-client's, loaded only
 * when a token must be fetched. What Globus Auth adds is a thin layer here:
 * fixed endpoints, the client that serves an FQDN, token validation, the
 * copy-paste page, and one token per resource server (the one we keep is
 * the one whose scope names the SSH host).
 */
import { errorMessage, OAuthSshError, ProviderUnavailableError } from '../shared/errors.js';
import { createHttpStack, HttpJsonClient, type HttpStack } from '../shared/providers/http-client.js';
import { httpStatusOf, providerUnavailableIn } from '../shared/providers/oidc-errors.js';
import { GLOBUS_SCOPE_PREFIX } from '../shared/providers/globus.js';
import { tokenForScope } from '../shared/providers/token-response.js';
import { isObject } from '../shared/json.js';

export class LoginError extends OAuthSshError {
  constructor(message: string) {
    super('LOGIN_FAILED', message);
  }
}

export class HostNotRegisteredError extends OAuthSshError {
  constructor(fqdn: string, authUrl: string) {
    super(
      'HOST_NOT_REGISTERED',
      `${fqdn} is not registered as an oauth-ssh host at ${authUrl}. If the host has another registered name, connect with that name or set "fqdn" for it in the client config; its administrator registers it with \`oauth-ssh-server register ${fqdn}\`.`,
    );
  }
}

export interface TokenSet {
  accessToken: string;
  refreshToken: string | null;
  expiresAt: number;
  scope: string;
  idToken: string | null;
}

export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

export const sshScope = (fqdn: string) => `${GLOBUS_SCOPE_PREFIX}${fqdn}/ssh`;
export const LOGIN_SCOPES = 'openid profile email';

type Json = Record<string, unknown>;

/** Where the flows go. Globus Auth has fixed paths; any other OIDC provider is found through discovery. */
export interface Endpoints {
  authorize: string;
  token: string;
  device: string | null;
  revoke: string | null;
  /** Globus's token validation (used to recognise a revoked token); null elsewhere. */
  validate: string | null;
  /** Globus's copy-paste page for --no-browser; null elsewhere. */
  copyPaste: string | null;
}

export type ServerStyle = { kind: 'globus' } | { kind: 'oidc'; resource: string | null };

/** The OAuth protocol itself (discovery, PKCE, grants, device polling, revocation) is openid-client's. */
type OpenIdClient = typeof import('openid-client');

/** Globus Auth's fixed endpoints, as the server metadata openid-client works from. */
function globusMetadata(authUrl: string) {
  const e = globusEndpoints(authUrl);
  // Globus signs ID tokens with RS512 (its discovery document says so); without this, only RS256 is accepted.
  return { issuer: authUrl, authorization_endpoint: e.authorize, token_endpoint: e.token, device_authorization_endpoint: e.device!, revocation_endpoint: e.revoke!, id_token_signing_alg_values_supported: ['RS512', 'RS256'] };
}

/**
 * openid-client's failures as ours: our HTTP stack's outage verdict (unreachable, too slow, 429,
 * 5xx) wherever openid-client wrapped it; the server's OAuth error by name, also from a
 * WWW-Authenticate challenge (a 401 for client authentication); anything else as an answer that is
 * not OAuth. Only fixed texts and the server's own error fields go into messages, never a body.
 */
function oauthFailure(oidc: OpenIdClient, authUrl: string, err: unknown): OAuthSshError {
  if (err instanceof OAuthSshError) return err;
  const unavailable = providerUnavailableIn(err);
  if (unavailable) return unavailable;
  const code = (err as { code?: unknown }).code;
  if (code === 'OAUTH_TIMEOUT') return new ProviderUnavailableError(`${authUrl} did not answer in time`);
  if (err instanceof oidc.ResponseBodyError) return new TokenEndpointError(err.error, err.error_description ?? '');
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    const challenge = err.cause.find((c) => typeof c.parameters.error === 'string');
    return new TokenEndpointError(challenge?.parameters.error ?? 'invalid_client', challenge?.parameters.error_description ?? `HTTP ${err.status}`);
  }
  if (err instanceof oidc.AuthorizationResponseError) return new LoginError(`the authorization server refused the login: ${err.error}${err.error_description ? `: ${err.error_description}` : ''}`);
  if (err instanceof TypeError) return new ProviderUnavailableError(`cannot reach ${authUrl}: ${err.message}`);
  const status = httpStatusOf(err);
  // openid-client's own texts (fixed strings; bodies and parameters stay in its cause objects, never printed).
  const message = (err instanceof Error ? err.message : String(err)) + (err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '');
  return new LoginError(`${authUrl} gave an answer that is not valid OAuth (${status === undefined ? message : `HTTP ${status}: ${message}`})`);
}

export class AuthServer {
  /** Only for what Globus adds to OAuth: clients by FQDN, token validation. */
  private globusApi: HttpJsonClient | undefined;
  /** The one HTTP stack (timeouts, 5xx and 429 as outages, body limit) that openid-client's requests go through. */
  private http: HttpStack | undefined;
  private configPromise: Promise<{ oidc: OpenIdClient; config: import('openid-client').Configuration }> | undefined;

  constructor(
    readonly authUrl: string,
    readonly clientId: string,
    readonly style: ServerStyle = { kind: 'globus' },
    private readonly timeoutSeconds = 15,
  ) {}

  private stack(): HttpStack {
    this.http ??= createHttpStack({ timeoutSeconds: this.timeoutSeconds });
    return this.http;
  }

  private api(): HttpJsonClient {
    this.globusApi ??= new HttpJsonClient({ baseUrl: this.authUrl, timeoutSeconds: this.timeoutSeconds, http: this.stack() });
    return this.globusApi;
  }

  /**
   * openid-client's configuration: Globus's fixed metadata, or discovery as the server does it
   * (shared/providers/oidc-discovery.ts: the document must name this issuer, and no endpoint it names
   * may leave this machine over http).
   */
  private configuration(): Promise<{ oidc: OpenIdClient; config: import('openid-client').Configuration }> {
    this.configPromise ??= (async () => {
      const oidc = await import('openid-client');
      const http = this.stack();
      let config: import('openid-client').Configuration;
      if (this.style.kind === 'globus') {
        config = new oidc.Configuration(globusMetadata(this.authUrl), this.clientId, undefined, oidc.None());
        // The client config allows http only for loopback (the dev IdP, tests).
        if (new URL(this.authUrl).protocol === 'http:') oidc.allowInsecureRequests(config);
      } else {
        const { discoverIssuer } = await import('../shared/providers/oidc-discovery.js');
        try {
          config = await discoverIssuer(this.authUrl, http, { clientId: this.clientId });
        } catch (err) {
          throw new ProviderUnavailableError(`${this.authUrl} has no usable OpenID Connect discovery document (${errorMessage(err)})`);
        }
      }
      config[oidc.customFetch] = http.fetch;
      config.timeout = this.timeoutSeconds;
      return { oidc, config };
    })().catch((err: unknown) => {
      this.configPromise = undefined; // a failed discovery is tried again next time
      throw err;
    });
    return this.configPromise;
  }

  /** Runs one openid-client call, with its failures said our way. */
  private async call<T>(run: (oidc: OpenIdClient, config: import('openid-client').Configuration) => Promise<T>): Promise<T> {
    const { oidc, config } = await this.configuration();
    try {
      return await run(oidc, config);
    } catch (err) {
      throw oauthFailure(oidc, this.authUrl, err);
    }
  }

  async endpoints(): Promise<Endpoints> {
    const { config } = await this.configuration();
    const m = config.serverMetadata();
    const globus = this.style.kind === 'globus' ? globusEndpoints(this.authUrl) : null;
    return {
      authorize: m.authorization_endpoint!,
      token: m.token_endpoint!,
      device: m.device_authorization_endpoint ?? null,
      revoke: m.revocation_endpoint ?? null,
      validate: globus?.validate ?? null,
      copyPaste: globus?.copyPaste ?? null,
    };
  }

  /** Extra parameters this style of server wants on authorization, device and token requests. */
  extraParams(): Record<string, string> {
    return this.style.kind === 'globus' ? { access_type: 'offline' } : this.style.resource ? { resource: this.style.resource } : {};
  }

  /** RFC 8707: an OIDC host's tokens name its resource on every grant too. */
  private tokenParams(): Record<string, string> {
    return this.style.kind === 'oidc' && this.style.resource ? { resource: this.style.resource } : {};
  }

  async authorizationUrl(parameters: Record<string, string>): Promise<string> {
    return this.call(async (oidc, config) => oidc.buildAuthorizationUrl(config, parameters).href);
  }

  async close(): Promise<void> {
    await this.http?.close();
  }

  async clientForFqdn(fqdn: string): Promise<{ id: string; name: string }> {
    const res = await this.api().request('GET', `/v2/api/clients?fqdn=${encodeURIComponent(fqdn)}`);
    const clients = isObject(res.body) && Array.isArray(res.body.clients) ? res.body.clients.filter(isObject) : null;
    if (res.status !== 200 || !clients) throw new ProviderUnavailableError(`${this.authUrl} could not look up ${fqdn} (HTTP ${res.status})`);
    const first = clients[0];
    if (!first || typeof first.id !== 'string') throw new HostNotRegisteredError(fqdn, this.authUrl);
    return { id: first.id, name: typeof first.name === 'string' ? first.name : first.id };
  }

  /** Globus: one token per resource server, ours picked by scope; elsewhere the top-level token. */
  private tokenSet(response: Json, scope: string): TokenSet {
    return this.style.kind === 'globus' ? pickToken(response, scope) : topLevelToken(response);
  }

  /**
   * The authorization code grant from the redirect as it arrived (`callback`: its code, state and,
   * under RFC 9207, iss), with the PKCE verifier; `expectedState` null where the code was pasted.
   */
  exchangeCode(callback: URL, codeVerifier: string, expectedState: string | null, scope: string): Promise<TokenSet> {
    return this.call(async (oidc, config) => {
      const response = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: expectedState ?? oidc.skipStateCheck }, this.tokenParams());
      return this.tokenSet(response as unknown as Json, scope);
    });
  }

  refresh(refreshToken: string, scope: string): Promise<TokenSet> {
    return this.call(async (oidc, config) => this.tokenSet((await oidc.refreshTokenGrant(config, refreshToken, this.tokenParams())) as unknown as Json, scope));
  }

  async deviceAuthorization(scope: string): Promise<DeviceAuthorization> {
    if (!(await this.endpoints()).device) throw new LoginError(`${this.authUrl} does not offer the device flow; log in without --device`);
    try {
      return await this.call(async (oidc, config) => (await oidc.initiateDeviceAuthorization(config, { scope, ...this.extraParams() })) as DeviceAuthorization);
    } catch (err) {
      if (err instanceof TokenEndpointError) throw new LoginError(`${this.authUrl} does not offer the device flow (${err.error}); log in without --device`);
      throw err;
    }
  }

  /** Polls at the server's interval (slower on slow_down) until a token, a denial, expiry or `signal`. */
  pollDevice(device: DeviceAuthorization, scope: string, signal: AbortSignal): Promise<TokenSet> {
    return this.call(async (oidc, config) => this.tokenSet((await oidc.pollDeviceAuthorizationGrant(config, device as never, this.tokenParams(), { signal })) as unknown as Json, scope));
  }

  /** Globus's validate: is the token still active? Used after a denial, to tell a revoked token from other refusals. */
  async isActive(token: string): Promise<boolean> {
    const endpoint = (await this.endpoints()).validate;
    if (!endpoint) return true; // no way for a public client to tell: let the server's denial stand
    const res = await this.api().request('POST', endpoint, { form: { client_id: this.clientId, token } });
    return res.status === 200 && isObject(res.body) && res.body.active === true;
  }

  /** RFC 7009; unknown tokens are fine. */
  async revoke(token: string): Promise<void> {
    if (!(await this.endpoints()).revoke) throw new LoginError(`${this.authUrl} offers no revocation; the token was only removed here`);
    try {
      await this.call((oidc, config) => oidc.tokenRevocation(config, token));
    } catch (err) {
      if (err instanceof TokenEndpointError || err instanceof LoginError) throw new LoginError(`${this.authUrl} refused the revocation: ${err instanceof TokenEndpointError ? err.description || err.error : err.message}`);
      throw err;
    }
  }
}

export class TokenEndpointError extends OAuthSshError {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super('LOGIN_FAILED', `the authorization server answered ${error}${description ? `: ${description}` : ''}`);
  }
}

export function globusEndpoints(authUrl: string): Endpoints {
  return {
    authorize: `${authUrl}/v2/oauth2/authorize`,
    token: `${authUrl}/v2/oauth2/token`,
    device: `${authUrl}/v2/oauth2/device_authorization`,
    revoke: `${authUrl}/v2/oauth2/token/revoke`,
    validate: `${authUrl}/v2/oauth2/token/validate`,
    copyPaste: `${authUrl}/v2/web/auth-code`,
  };
}

/** A standard OAuth token response: one token (providers may leave `scope` out when it is what was asked). */
function topLevelToken(body: Json): TokenSet {
  if (typeof body.access_token !== 'string') throw new LoginError('the authorization server returned no access token');
  return {
    accessToken: body.access_token,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : null,
    expiresAt: Math.floor(Date.now() / 1000) + (typeof body.expires_in === 'number' ? body.expires_in : 3600),
    scope: typeof body.scope === 'string' ? body.scope : '',
    idToken: typeof body.id_token === 'string' ? body.id_token : null,
  };
}

/** From a Globus token response (top level + other_tokens), the token whose scope includes `scope`. */
export function pickToken(body: Json, scope: string): TokenSet {
  const match = tokenForScope(body, scope);
  if (!match) throw new LoginError(`the authorization server returned no token with the scope ${scope}; was the consent for this host refused?`);
  return {
    accessToken: match.accessToken,
    refreshToken: match.refreshToken,
    expiresAt: Math.floor(Date.now() / 1000) + match.expiresIn,
    scope: match.scope,
    idToken: typeof body.id_token === 'string' ? body.id_token : null,
  };
}

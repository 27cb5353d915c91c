/**
 * The client's conversations with the authorization server (Globus Auth or
 * the dev IdP): which client serves an FQDN, the device flow, code exchange,
 * refresh and revocation. Globus returns one token per resource server; the
 * one we keep is the one whose scope names the SSH host.
 */
import { OAuthSshError, ProviderUnavailableError } from '../shared/errors.js';
import { HttpJsonClient } from '../shared/providers/http-client.js';
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

export class AuthServer {
  private readonly http: HttpJsonClient;
  private endpointsPromise: Promise<Endpoints> | undefined;

  constructor(
    readonly authUrl: string,
    readonly clientId: string,
    readonly style: ServerStyle = { kind: 'globus' },
    timeoutSeconds = 15,
  ) {
    this.http = new HttpJsonClient({ baseUrl: authUrl, timeoutSeconds });
  }

  endpoints(): Promise<Endpoints> {
    this.endpointsPromise ??= this.style.kind === 'globus' ? Promise.resolve(globusEndpoints(this.authUrl)) : this.discover();
    return this.endpointsPromise;
  }

  private async discover(): Promise<Endpoints> {
    const res = await this.http.request('GET', '/.well-known/openid-configuration');
    const d = isObject(res.body) ? res.body : {};
    const url = (v: unknown) => (typeof v === 'string' ? v : null);
    if (res.status !== 200 || !url(d.authorization_endpoint) || !url(d.token_endpoint)) {
      this.endpointsPromise = undefined;
      throw new ProviderUnavailableError(`${this.authUrl} has no usable OpenID Connect discovery document (HTTP ${res.status})`);
    }
    return {
      authorize: url(d.authorization_endpoint)!,
      token: url(d.token_endpoint)!,
      device: url(d.device_authorization_endpoint),
      revoke: url(d.revocation_endpoint),
      validate: null,
      copyPaste: null,
    };
  }

  /** Extra parameters this style of server wants on authorization, device and token requests. */
  extraParams(): Record<string, string> {
    return this.style.kind === 'globus' ? { access_type: 'offline' } : this.style.resource ? { resource: this.style.resource } : {};
  }

  close(): Promise<void> {
    return this.http.close();
  }

  async clientForFqdn(fqdn: string): Promise<{ id: string; name: string }> {
    const res = await this.http.request('GET', `/v2/api/clients?fqdn=${encodeURIComponent(fqdn)}`);
    const clients = isObject(res.body) && Array.isArray(res.body.clients) ? res.body.clients.filter(isObject) : null;
    if (res.status !== 200 || !clients) throw new ProviderUnavailableError(`${this.authUrl} could not look up ${fqdn} (HTTP ${res.status})`);
    const first = clients[0];
    if (!first || typeof first.id !== 'string') throw new HostNotRegisteredError(fqdn, this.authUrl);
    return { id: first.id, name: typeof first.name === 'string' ? first.name : first.id };
  }

  private async tokenRequest(form: Record<string, string>, scope: string): Promise<TokenSet> {
    const res = await this.http.request('POST', (await this.endpoints()).token, { form: { client_id: this.clientId, ...form, ...(this.style.kind === 'oidc' && this.style.resource ? { resource: this.style.resource } : {}) } });
    if (res.status !== 200 || !isObject(res.body)) {
      const body = isObject(res.body) ? res.body : {};
      throw new TokenEndpointError(String(body.error ?? `HTTP ${res.status}`), String(body.error_description ?? ''));
    }
    return this.style.kind === 'globus' ? pickToken(res.body, scope) : topLevelToken(res.body);
  }

  exchangeCode(code: string, redirectUri: string, codeVerifier: string, scope: string): Promise<TokenSet> {
    return this.tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: codeVerifier }, scope);
  }

  refresh(refreshToken: string, scope: string): Promise<TokenSet> {
    return this.tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken }, scope);
  }

  pollDevice(deviceCode: string, scope: string): Promise<TokenSet> {
    return this.tokenRequest({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode }, scope);
  }

  async deviceAuthorization(scope: string): Promise<DeviceAuthorization> {
    const endpoint = (await this.endpoints()).device;
    if (!endpoint) throw new LoginError(`${this.authUrl} does not offer the device flow; log in without --device`);
    const res = await this.http.request('POST', endpoint, { form: { client_id: this.clientId, scope, ...this.extraParams() } });
    const body = isObject(res.body) ? res.body : {};
    if (res.status !== 200 || typeof body.device_code !== 'string' || typeof body.user_code !== 'string' || typeof body.verification_uri !== 'string') {
      throw new LoginError(`${this.authUrl} does not offer the device flow (${String(body.error ?? `HTTP ${res.status}`)}); log in without --device`);
    }
    return body as unknown as DeviceAuthorization;
  }

  /** Globus's validate: is the token still active? Used after a denial, to tell a revoked token from other refusals. */
  async isActive(token: string): Promise<boolean> {
    const endpoint = (await this.endpoints()).validate;
    if (!endpoint) return true; // no way for a public client to tell: let the server's denial stand
    const res = await this.http.request('POST', endpoint, { form: { client_id: this.clientId, token } });
    return res.status === 200 && isObject(res.body) && res.body.active === true;
  }

  /** RFC 7009; unknown tokens are fine. */
  async revoke(token: string): Promise<void> {
    const endpoint = (await this.endpoints()).revoke;
    if (!endpoint) throw new LoginError(`${this.authUrl} offers no revocation; the token was only removed here`);
    const res = await this.http.request('POST', endpoint, { form: { client_id: this.clientId, token } });
    if (res.status !== 200) {
      const body = isObject(res.body) ? res.body : {};
      throw new LoginError(`${this.authUrl} refused the revocation: ${String(body.error_description ?? body.error ?? `HTTP ${res.status}`)}`);
    }
  }
}

export class TokenEndpointError extends OAuthSshError {
  constructor(
    readonly error: string,
    description: string,
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

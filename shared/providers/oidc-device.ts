/**
 * The server-side device flow with any OpenID Connect provider (RFC 8628),
 * found through discovery, with the server's own client (confidential with a
 * secret, or public). Approval yields the provider's access token, which then
 * goes through the JWT rules like any other.
 */
import { ProviderUnavailableError } from '../errors.js';
import { basicAuth, HttpJsonClient } from './http-client.js';
import type { DeviceAuthorizationInfo, DeviceFlowProvider, DevicePoll } from './provider.js';

export interface OidcDeviceOptions {
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  /** May contain "{user}", replaced by the account the login is for. */
  scope: string;
  resource: string | null;
  /** Extra parameters of the device request (Oracle IDCS wants response_type=device_code). */
  extraParams?: Record<string, string>;
  httpTimeout: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class OidcDeviceProvider implements DeviceFlowProvider {
  private readonly http: HttpJsonClient;
  private endpoints: Promise<{ device: string; token: string }> | undefined;

  constructor(private readonly options: OidcDeviceOptions) {
    this.http = new HttpJsonClient({ baseUrl: options.issuer, timeoutSeconds: options.httpTimeout });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private discover(): Promise<{ device: string; token: string }> {
    this.endpoints ??= (async () => {
      const res = await this.http.request('GET', '/.well-known/openid-configuration');
      const d = isObject(res.body) ? res.body : {};
      if (res.status !== 200 || typeof d.device_authorization_endpoint !== 'string' || typeof d.token_endpoint !== 'string') {
        this.endpoints = undefined;
        throw new ProviderUnavailableError(`${this.options.issuer} offers no device flow (no device_authorization_endpoint in its discovery document)`);
      }
      return { device: d.device_authorization_endpoint, token: d.token_endpoint };
    })();
    return this.endpoints;
  }

  /** Client authentication: HTTP Basic for a confidential client, client_id in the body for a public one. */
  private auth(): { headers: Record<string, string>; form: Record<string, string> } {
    const { clientId, clientSecret, resource } = this.options;
    return {
      headers: clientSecret ? { authorization: basicAuth(clientId, clientSecret) } : {},
      form: { ...(clientSecret ? {} : { client_id: clientId }), ...(resource ? { resource } : {}) },
    };
  }

  async startDeviceAuthorization(user: string): Promise<DeviceAuthorizationInfo> {
    const { device } = await this.discover();
    const { headers, form } = this.auth();
    // "{user}" in the scope asks for a token for this account (SciTokens style: ssh:/{user}).
    const scope = this.options.scope.replaceAll('{user}', user);
    const res = await this.http.request('POST', device, { headers, form: { ...this.options.extraParams, ...form, scope } });
    const b = isObject(res.body) ? res.body : {};
    if (res.status !== 200 || typeof b.device_code !== 'string' || typeof b.user_code !== 'string' || typeof b.verification_uri !== 'string') {
      throw new ProviderUnavailableError(`${this.options.issuer} did not start a device login (HTTP ${res.status}${typeof b.error === 'string' ? `, ${b.error}` : ''})`);
    }
    return {
      deviceCode: b.device_code,
      userCode: b.user_code,
      verificationUri: b.verification_uri,
      verificationUriComplete: typeof b.verification_uri_complete === 'string' ? b.verification_uri_complete : null,
      expiresIn: typeof b.expires_in === 'number' ? b.expires_in : 300,
      interval: typeof b.interval === 'number' && b.interval > 0 ? b.interval : 5,
    };
  }

  async pollDevice(deviceCode: string): Promise<DevicePoll> {
    const { token } = await this.discover();
    const { headers, form } = this.auth();
    const res = await this.http.request('POST', token, { headers, form: { ...form, grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode } });
    const b = isObject(res.body) ? res.body : {};
    if (res.status === 200 && typeof b.access_token === 'string') return { status: 'approved', accessToken: b.access_token };
    switch (b.error) {
      case 'authorization_pending':
        return { status: 'pending' };
      case 'slow_down':
        return { status: 'slow_down' };
      case 'access_denied':
        return { status: 'denied' };
      case 'expired_token':
        return { status: 'expired' };
      default:
        throw new ProviderUnavailableError(`the device login failed at ${this.options.issuer} (HTTP ${res.status}${typeof b.error === 'string' ? `, ${b.error}` : ''})`);
    }
  }
}

/**
 * The server-side device flow with any OpenID Connect provider (RFC 8628),
 * found through discovery, with the server's own client (confidential with a
 * secret, or public). Approval yields the provider's access token, which then
 * goes through the JWT rules like any other.
 */
import { ProviderUnavailableError } from '../errors.js';
import { deviceAuthorizationFrom, pendingPollFrom } from './device-wire.js';
import { basicAuth, HttpJsonClient } from './http-client.js';
import type { DeviceAuthorizationInfo, DeviceFlowProvider, DevicePoll } from './provider.js';
import { isObject } from '../json.js';

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
    return deviceAuthorizationFrom(res, this.options.issuer);
  }

  async pollDevice(deviceCode: string): Promise<DevicePoll> {
    const { token } = await this.discover();
    const { headers, form } = this.auth();
    const res = await this.http.request('POST', token, { headers, form: { ...form, grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode } });
    if (res.status === 200 && isObject(res.body) && typeof res.body.access_token === 'string') return { status: 'approved', accessToken: res.body.access_token };
    return pendingPollFrom(res, this.options.issuer);
  }
}

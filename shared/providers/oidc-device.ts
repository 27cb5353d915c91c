/**
 * The server-side device flow with any OpenID Connect provider (RFC 8628),
 * through openid-client: found through discovery, with the server's own
 * client (confidential with a secret, HTTP Basic; or public). Approval
 * yields the provider's access token, which then goes through the JWT rules
 * like any other.
 *
 * One poll per pollDevice() call: the caller (server-pam/device-login.ts)
 * owns the loop, the interval, slow_down and the deadline, so openid-client's
 * looping pollDeviceAuthorizationGrant() does not fit; a single device_code
 * grant request through genericGrantRequest() does.
 */
import * as oidc from 'openid-client';
import { ProviderUnavailableError } from '../errors.js';
import { deviceAuthorizationFrom, pendingPollFrom } from './device-wire.js';
import { borrowOrOwnStack, type HttpStack } from './http-stack.js';
import { discoveryOnce } from './oidc-discovery.js';
import { asProviderUnavailable, httpStatusOf, oauthErrorOf, providerUnavailableIn } from './oidc-errors.js';
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
  /** The daemon's shared HTTP stack; without one the provider builds its own from httpTimeout. */
  http?: HttpStack;
}

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export class OidcDeviceProvider implements DeviceFlowProvider {
  private readonly http: HttpStack;
  private readonly closeStack: () => Promise<void>;
  private readonly config: () => Promise<oidc.Configuration>;

  constructor(private readonly options: OidcDeviceOptions) {
    ({ http: this.http, close: this.closeStack } = borrowOrOwnStack(options.http, options.httpTimeout));
    const { issuer, clientId, clientSecret } = options;
    this.config = discoveryOnce(issuer, this.http, { clientId, clientSecret }, (d) => {
      if (typeof d.device_authorization_endpoint !== 'string' || typeof d.token_endpoint !== 'string') {
        throw new ProviderUnavailableError(`${issuer} offers no device flow (no device_authorization_endpoint in its discovery document)`);
      }
    });
  }

  close(): Promise<void> {
    return this.closeStack();
  }

  /** Sent with both requests: RFC 8707 resource indicator, when configured. */
  private resource(): Record<string, string> {
    return this.options.resource ? { resource: this.options.resource } : {};
  }

  async startDeviceAuthorization(user: string): Promise<DeviceAuthorizationInfo> {
    const config = await this.config();
    // "{user}" in the scope asks for a token for this account (SciTokens style: ssh:/{user}).
    const scope = this.options.scope.replaceAll('{user}', user);
    let response: oidc.DeviceAuthorizationResponse;
    try {
      response = await oidc.initiateDeviceAuthorization(config, { ...this.options.extraParams, ...this.resource(), scope });
    } catch (err) {
      throw asProviderUnavailable(err, (reason) => `${this.options.issuer} did not start a device login (${reason})`);
    }
    return deviceAuthorizationFrom({ status: 200, body: response }, this.options.issuer);
  }

  async pollDevice(deviceCode: string): Promise<DevicePoll> {
    const config = await this.config();
    try {
      const tokens = await oidc.genericGrantRequest(config, DEVICE_CODE_GRANT, { ...this.resource(), device_code: deviceCode });
      return { status: 'approved', accessToken: tokens.access_token };
    } catch (err) {
      const error = oauthErrorOf(err);
      // pending / slow_down / denied / expired read the same as for every provider; anything else is an outage.
      if (providerUnavailableIn(err) || error === undefined) throw asProviderUnavailable(err, (reason) => `the device login failed at ${this.options.issuer} (${reason})`);
      return pendingPollFrom({ status: httpStatusOf(err) ?? 400, body: { error } }, this.options.issuer);
    }
  }
}

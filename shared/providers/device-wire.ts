/**
 * RFC 8628 on the wire, the same for every provider: reading a device
 * authorization response, and turning a token-endpoint answer during polling
 * into a DevicePoll. Providers differ only in where they send the requests
 * and how they pick the token out of an approval.
 */
import { ProviderUnavailableError } from '../errors.js';
import type { JsonResponse } from './http-client.js';
import type { DeviceAuthorizationInfo, DevicePoll } from './provider.js';
import { isObject } from '../json.js';

const errorOf = (res: JsonResponse) => (isObject(res.body) && typeof res.body.error === 'string' ? res.body.error : undefined);

export function deviceAuthorizationFrom(res: JsonResponse, who: string): DeviceAuthorizationInfo {
  const b = isObject(res.body) ? res.body : {};
  if (res.status !== 200 || typeof b.device_code !== 'string' || typeof b.user_code !== 'string' || typeof b.verification_uri !== 'string') {
    const error = errorOf(res);
    throw new ProviderUnavailableError(`${who} did not start a device login (HTTP ${res.status}${error ? `, ${error}` : ''})`);
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

/** A polling answer that is not an approval; `approved` is the provider's to read. */
export function pendingPollFrom(res: JsonResponse, who: string): DevicePoll {
  switch (errorOf(res)) {
    case 'authorization_pending':
      return { status: 'pending' };
    case 'slow_down':
      return { status: 'slow_down' };
    case 'access_denied':
      return { status: 'denied' };
    case 'expired_token':
      return { status: 'expired' };
    default: {
      const error = errorOf(res);
      throw new ProviderUnavailableError(`the device login failed at ${who} (HTTP ${res.status}${error ? `, ${error}` : ''})`);
    }
  }
}

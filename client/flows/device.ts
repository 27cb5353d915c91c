/**
 * RFC 8628 device flow: show the URL, the code (always) and a QR code of
 * the complete URI on stderr, then poll (openid-client: at the server's
 * interval, slower on slow_down) until approval, denial or expiry.
 */
import { sanitizeForTerminal } from '../../shared/sanitize.js';
import { terminalQr } from '../../shared/qr.js';
import { LOGIN_SCOPES, LoginError, TokenEndpointError, type AuthServer, type DeviceAuthorization, type TokenSet } from '../auth-server.js';
import { countdown } from '../countdown.js';
import { say } from '../tty.js';

async function pollUntilDone(server: AuthServer, device: DeviceAuthorization, scope: string, deadline: number): Promise<TokenSet> {
  // openid-client polls at the server's interval and slows down on slow_down; we end it at expiry.
  // Whole milliseconds, within what a timer takes (AbortSignal.timeout refuses fractions and huge values).
  const expired = AbortSignal.timeout(Math.min(2 ** 31 - 1, Math.max(0, Math.ceil(deadline - Date.now()))));
  try {
    return await server.pollDevice(device, scope, expired);
  } catch (err) {
    if (expired.aborted || (err instanceof TokenEndpointError && err.error === 'expired_token')) throw new LoginError('the device code expired before it was approved; run the command again');
    if (err instanceof TokenEndpointError && err.error === 'access_denied') throw new LoginError('the login was denied at the authorization server');
    throw err;
  }
}

export async function deviceFlow(server: AuthServer, scope: string, publish: (url: string) => void): Promise<TokenSet> {
  const device = await server.deviceAuthorization(`${server.style.kind === 'globus' ? LOGIN_SCOPES : `${LOGIN_SCOPES} offline_access`} ${scope}`);
  const complete = device.verification_uri_complete ?? device.verification_uri;
  const qr = await terminalQr(complete, { invert: true });
  if (qr) say(qr);
  // The code on a line of its own: at 80 columns it must never wrap (GRPT-RHQ / H).
  say(`To log in, open ${sanitizeForTerminal(device.verification_uri)}\nand enter the code:\n  ${sanitizeForTerminal(device.user_code)}`);
  if (device.verification_uri_complete) say(`(or open ${sanitizeForTerminal(complete, 400)})`);
  publish(complete);
  const deadline = Date.now() + device.expires_in * 1000;
  const stop = countdown('Waiting for approval…', deadline);
  try {
    return await pollUntilDone(server, device, scope, deadline);
  } finally {
    stop();
  }
}

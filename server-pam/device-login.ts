/**
 * The device flow at the prompt, for plain ssh clients: when the token
 * prompt is answered with an empty line, start an RFC 8628 device
 * authorization with the provider and show the URL, the code (always) and a
 * QR code in ONE echo-off prompt (sshd holds info messages back until the
 * next prompt), ending "Press Enter once you have approved". Polling runs
 * while the prompt is up, at the provider's interval (+5 s on slow_down),
 * within a deadline below sshd's LoginGraceTime; an early Enter just keeps
 * waiting, with keep-alives to the bridge, until approval, denial or the
 * deadline. The device code is never shown or logged.
 */
import { errorMessage, InvalidTokenError, ProviderUnavailableError } from '../shared/errors.js';
import type { DeviceAuthorizationInfo, DeviceFlowProvider } from '../shared/providers/provider.js';
import { terminalQr } from '../shared/qr.js';
import { sanitizeForTerminal } from '../shared/sanitize.js';
import type { PamConversation } from './protocol.js';

const KEEPALIVE_MS = 5000;
/** The prompt must leave the URL on an 80x24 screen. */
const SCREEN = { columns: 80, rows: 24 };

export interface DeviceLoginOptions {
  deadlineSeconds: number;
  qr: boolean;
  /** With {qr}, {url}, {url_complete}, {code}; null = the built-in text. */
  template?: string | null;
  /** The QR code's quiet zone in modules (its size on screen). */
  qrMargin?: number;
}

/**
 * A text line first: ssh puts "(user@host) " before a prompt's first line, and a QR code there
 * would have its top row shifted right and not decode (measured). The code on a line of its own:
 * it must never wrap at 80 columns.
 */
const DEFAULT_TEMPLATE = 'Log in with your identity provider:\n{qr}Open {url}\nand enter the code:\n  {code}\nPress Enter once you have approved: ';

export async function devicePrompt(device: DeviceAuthorizationInfo, qr: boolean, template: string | null = null, qrMargin = 2): Promise<string> {
  const values: Record<string, string> = {
    url: sanitizeForTerminal(device.verificationUri, 300),
    url_complete: sanitizeForTerminal(device.verificationUriComplete ?? device.verificationUri, 400),
    code: sanitizeForTerminal(device.userCode, 40),
  };
  const fill = (text: string, picture: string) => text.replace(/\{(qr|url_complete|url|code)\}/g, (_, k: string) => (k === 'qr' ? picture : values[k]!));
  const withoutQr = fill(template ?? DEFAULT_TEMPLATE, '');
  let picture = '';
  if (qr && (template ?? DEFAULT_TEMPLATE).includes('{qr}')) {
    const drawn = await terminalQr(device.verificationUriComplete ?? device.verificationUri, { invert: true, margin: qrMargin });
    const lines = drawn?.split('\n') ?? [];
    // Only when the URL and code stay on an 80x24 screen with it.
    if (drawn && lines.length + withoutQr.split('\n').length <= SCREEN.rows && lines.every((l) => l.length <= SCREEN.columns)) picture = `${drawn}\n`;
  }
  return fill(template ?? DEFAULT_TEMPLATE, picture);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until a token, or throws: InvalidTokenError for denied/expired/too late, ProviderUnavailableError for outages. */
async function pollForToken(provider: DeviceFlowProvider, device: DeviceAuthorizationInfo, deadline: number, abandoned: AbortSignal): Promise<string> {
  let interval = device.interval;
  for (;;) {
    if (abandoned.aborted) throw new InvalidTokenError('the device login was abandoned');
    // Polling sooner than the interval breaks RFC 8628; if the next poll falls past the deadline, wait it out and stop.
    const left = deadline - Date.now();
    if (interval * 1000 > left) {
      if (left > 0) await sleep(left);
      throw new InvalidTokenError('the login was not approved in time; connect again to get a new code');
    }
    await sleep(interval * 1000);
    const poll = await provider.pollDevice(device.deviceCode);
    switch (poll.status) {
      case 'approved':
        return poll.accessToken;
      case 'slow_down':
        interval += 5;
        break;
      case 'denied':
        throw new InvalidTokenError('the login was denied at the authorization server');
      case 'expired':
        throw new InvalidTokenError('the code expired before it was approved; connect again to get a new one');
      case 'pending':
        break;
    }
  }
}

/** Runs the device login and returns the access token it produced. */
export async function deviceLogin(provider: DeviceFlowProvider, conv: PamConversation, user: string, options: DeviceLoginOptions): Promise<string> {
  const device = await provider.startDeviceAuthorization(user);
  const deadline = Date.now() + Math.min(options.deadlineSeconds, device.expiresIn) * 1000;
  const abandon = new AbortController();
  const token = pollForToken(provider, device, deadline, abandon.signal);
  token.catch(() => {}); // observed below; never an unhandled rejection while the prompt is up
  let answer: string | undefined;
  try {
    answer = await conv.prompt(await devicePrompt(device, options.qr, options.template ?? null, options.qrMargin ?? 2), false);
  } finally {
    // A user who hung up (or gave no answer) is not waited for: stop polling the provider.
    if (answer === undefined) abandon.abort();
  }
  if (answer === undefined) throw new InvalidTokenError('the device login was abandoned');
  const keepalive = setInterval(() => conv.keepalive(), KEEPALIVE_MS);
  try {
    return await token;
  } catch (err) {
    if (err instanceof InvalidTokenError || err instanceof ProviderUnavailableError) throw err;
    throw new ProviderUnavailableError(`device login failed: ${errorMessage(err)}`);
  } finally {
    clearInterval(keepalive);
  }
}

/**
 * The device verification pages (RFC 8628 3.3): enter the user code, sign
 * in as an identity, approve or deny. The control API approves the same way
 * without HTML, through `decideDevice`.
 */
import type { DevIdpContext } from './context.js';
import { html, OAuthHttpError, type DevRequest, type DevResponse, type Router } from './http.js';
import { authenticate, type LoginInput } from './login.js';
import { deviceApprovePage, deviceEntryPage, messagePage } from './pages.js';
import { normalizeUserCode, nowSeconds, type DeviceAuthorization } from './state.js';

export function pendingDevice(ctx: DevIdpContext, userCode: string): DeviceAuthorization {
  const device = ctx.state.deviceByCode(userCode);
  if (!device || device.status !== 'pending' || device.expiresAt <= nowSeconds()) {
    throw new OAuthHttpError(400, 'invalid_request', `no pending device authorization with code "${normalizeUserCode(userCode)}"`);
  }
  return device;
}

/** Approve as `login`, or deny (login undefined). */
export function decideDevice(ctx: DevIdpContext, userCode: string, login: LoginInput | undefined): void {
  const device = pendingDevice(ctx, userCode);
  if (login === undefined) {
    device.status = 'denied';
    return;
  }
  device.sessionId = authenticate(ctx, login).id;
  device.status = 'approved';
}

function entry(ctx: DevIdpContext, req: DevRequest): DevResponse {
  const userCode = req.method === 'GET' ? req.url.searchParams.get('user_code') : req.form.get('user_code');
  if (!userCode) return html(200, deviceEntryPage(''));
  const device = ctx.state.deviceByCode(userCode);
  if (!device || device.status !== 'pending' || device.expiresAt <= nowSeconds()) {
    return html(200, deviceEntryPage(userCode, 'That code is unknown, expired or already used. Check the code on your device.'));
  }
  return html(200, deviceApprovePage(ctx.directory, device.userCode, ctx.directory.client(device.clientId)!.name, device.scopes));
}

function decision(ctx: DevIdpContext, req: DevRequest): DevResponse {
  const userCode = req.form.get('user_code') ?? '';
  if (req.form.get('decision') !== 'allow') {
    decideDevice(ctx, userCode, undefined);
    return html(200, messagePage('Denied', 'The device was not given access. You can close this page.'));
  }
  decideDevice(ctx, userCode, { identity: req.form.get('identity') ?? '', mfa: req.form.get('mfa') === '1', authAge: 0 });
  return html(200, messagePage('Device approved', 'The device can continue now. You can close this page.'));
}

export function addDevicePageRoutes(router: Router, ctx: DevIdpContext): void {
  router
    .add('GET', '/v2/web/device', (req) => entry(ctx, req))
    .add('POST', '/v2/web/device', (req) => entry(ctx, req))
    .add('POST', '/v2/web/device/decision', (req) => decision(ctx, req));
}

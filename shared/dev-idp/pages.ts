/**
 * The few HTML pages a person sees: pick an identity (with an MFA box),
 * approve a client, enter a device code, copy an authorization code.
 * Every interpolated value goes through `esc`.
 */
import type { Directory } from './directory.js';

export function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · oauth-ssh dev IdP</title>
<style>
body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d2330}
h1{font-size:1.4rem} .box{border:1px solid #ccd;border-radius:8px;padding:1rem 1.2rem}
label{display:block;margin:.4rem 0} button{font-size:1rem;padding:.4rem 1rem;margin-right:.5rem}
code{font-size:1.3rem;background:#eef;padding:.2rem .4rem;border-radius:4px;word-break:break-all}
.muted{color:#667;font-size:.9rem} .err{color:#a00}
</style></head><body><h1>${esc(title)}</h1>${body}
<p class="muted">oauth-ssh-dev-idp: a local development authorization server. Never use it in production.</p>
</body></html>`;
}

function identityChoices(directory: Directory, allowed: string[]): string {
  const all = directory.allIdentities().filter(({ identity }) => allowed.length === 0 || allowed.includes(identity.id));
  return all
    .map(({ identity }, i) => {
      const idp = directory.idp(identity.idp);
      return `<label><input type="radio" name="identity" value="${esc(identity.id)}"${i === 0 ? ' checked' : ''}> ${esc(identity.username)} <span class="muted">(${esc(idp.name)})</span></label>`;
    })
    .join('\n');
}

export function loginPage(directory: Directory, requestId: string, clientName: string, allowed: string[]): string {
  return page(
    'Sign in',
    `<form class="box" method="post" action="/v2/web/login">
<p>Sign in to continue to <b>${esc(clientName)}</b>. Choose the identity to authenticate with:</p>
${identityChoices(directory, allowed)}
<label><input type="checkbox" name="mfa" value="1"> Authenticated with multi-factor (MFA)</label>
<input type="hidden" name="request" value="${esc(requestId)}">
<button type="submit">Sign in</button></form>`,
  );
}

export function consentPage(requestId: string, clientName: string, username: string, scopes: string[]): string {
  return page(
    'Allow access?',
    `<form class="box" method="post" action="/v2/web/consent">
<p><b>${esc(clientName)}</b> asks to act as <b>${esc(username)}</b> with these scopes:</p>
<ul>${scopes.map((s) => `<li><code style="font-size:.9rem">${esc(s)}</code></li>`).join('')}</ul>
<input type="hidden" name="request" value="${esc(requestId)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></form>`,
  );
}

export function deviceEntryPage(prefill: string, error?: string): string {
  return page(
    'Connect a device',
    `<form class="box" method="post" action="/v2/web/device">
${error ? `<p class="err">${esc(error)}</p>` : ''}
<label>Code shown on your device: <input name="user_code" value="${esc(prefill)}" autocomplete="off" autofocus></label>
<button type="submit">Continue</button></form>`,
  );
}

export function deviceApprovePage(directory: Directory, userCode: string, clientName: string, scopes: string[]): string {
  return page(
    'Approve device',
    `<form class="box" method="post" action="/v2/web/device/decision">
<p>A device using <b>${esc(clientName)}</b> with code <code>${esc(userCode)}</code> asks for:</p>
<ul>${scopes.map((s) => `<li><code style="font-size:.9rem">${esc(s)}</code></li>`).join('')}</ul>
<p>Sign in as:</p>
${identityChoices(directory, [])}
<label><input type="checkbox" name="mfa" value="1"> Authenticated with multi-factor (MFA)</label>
<input type="hidden" name="user_code" value="${esc(userCode)}">
<button type="submit" name="decision" value="allow">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button></form>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<div class="box"><p>${esc(message)}</p></div>`);
}

export function authCodePage(code: string): string {
  return page(
    'Authorization code',
    `<div class="box"><p>Copy this code and paste it into the program that asked for it:</p>
<p><code id="code">${esc(code)}</code></p><p class="muted">It works once and expires soon.</p></div>`,
  );
}

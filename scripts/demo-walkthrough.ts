/**
 * The demo's walkthrough against a running dev IdP: what oauth-ssh does on
 * the wire today. A device login for the CLI client (approved by you in the
 * browser, or by the demo as alice), the SSH service introspecting the
 * token, the identities lookup, and an aged session that policy would see.
 * Tokens are shown only as short hash prefixes.
 */
import { createInterface } from 'node:readline/promises';
import { secretHashPrefix } from '../shared/secret-hash.js';

const [issuer] = process.argv.slice(2);
if (!issuer) throw new Error('usage: demo-walkthrough ISSUER_URL');

const CLI_CLIENT = '5d5bdb54-44c4-4a2f-8ec9-46effb994ff3';
const SSH_SERVICE = '864f1f73-da90-4bcd-9a1c-30d9feb10907';
const SSH_SERVICE_SECRET = 'dev-only-secret-change-me';
const SCOPE = 'https://auth.globus.org/scopes/ssh.example.org/ssh';
const basic = `Basic ${Buffer.from(`${SSH_SERVICE}:${SSH_SERVICE_SECRET}`).toString('base64')}`;
const interactive = process.stdin.isTTY === true;

async function call(path: string, init: RequestInit & { form?: Record<string, string>; jsonBody?: unknown } = {}): Promise<any> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  let body: string | undefined;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  } else if (init.jsonBody !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.jsonBody);
  }
  const res = await fetch(`${issuer}${path}`, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body });
  return res.json();
}

const step = (text: string) => console.log(`\n== ${text}`);

step('1. The oauth-ssh client starts a device login for ssh.example.org');
const device = await call('/v2/oauth2/device_authorization', { form: { client_id: CLI_CLIENT, scope: `${SCOPE} offline_access` } });
console.log(`   open ${device.verification_uri} and enter the code ${device.user_code}`);
console.log(`   (or directly: ${device.verification_uri_complete})`);

if (interactive) {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  await rl.question('   Approve it in your browser, then press Enter (or just press Enter to let the demo approve as alice): ');
  rl.close();
}
const pending = await call('/_dev/devices');
if (pending.pending.some((d: { user_code: string }) => d.user_code === device.user_code)) {
  await call(`/_dev/devices/${device.user_code}/approve`, { jsonBody: { identity: 'alice@lab.example.net', mfa: true } });
  console.log('   approved as alice@lab.example.net with MFA (through the control API)');
}

let tokens: any;
for (;;) {
  tokens = await call('/v2/oauth2/token', { form: { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code, client_id: CLI_CLIENT } });
  if (tokens.error !== 'authorization_pending' && tokens.error !== 'slow_down') break;
  await new Promise((r) => setTimeout(r, device.interval * 1000));
}
if (tokens.error) throw new Error(`device login failed: ${tokens.error}: ${tokens.error_description}`);
console.log(`   token for ${tokens.resource_server} (sha256 ${secretHashPrefix(tokens.access_token)}…), expires in ${tokens.expires_in} s, refresh token: ${tokens.refresh_token ? 'yes' : 'no'}`);

step('2. The SSH server introspects the token with its own client credentials');
const intro = await call('/v2/oauth2/token/introspect', { form: { token: tokens.access_token, include: 'identities_set,session_info' }, headers: { authorization: basic } });
console.log(`   active=${intro.active} username=${intro.username} scope=${intro.scope}`);
for (const [id, a] of Object.entries<any>(intro.session_info.authentications)) {
  console.log(`   authenticated identity ${id} at IdP ${a.idp}, ${Math.round(Date.now() / 1000 - a.auth_time)} s ago, amr=${a.amr.join(',')}`);
}

step('3. It looks up the linked identities and their identity providers');
const ids = await call(`/v2/api/identities?ids=${intro.identities_set.join(',')}&include=identity_provider`, { headers: { authorization: basic } });
for (const i of ids.identities) console.log(`   ${i.username}  (${ids.included.identity_providers.find((p: any) => p.id === i.identity_provider).name})`);

step('4. Sessions age: after 2 hours, an authentication_timeout of 60 min would refuse it');
await call('/_dev/sessions/update', { jsonBody: { identity: 'alice@lab.example.net', auth_age: 7200 } });
const aged = await call('/v2/oauth2/token/introspect', { form: { token: tokens.access_token, include: 'session_info' }, headers: { authorization: basic } });
const age = Math.round(Date.now() / 1000 - (Object.values<any>(aged.session_info.authentications)[0].auth_time as number));
console.log(`   the same token now reports an authentication ${age} s ago`);

step('5. Logout revokes the token at the authorization server');
await call('/v2/oauth2/token/revoke', { form: { token: tokens.refresh_token, client_id: CLI_CLIENT } });
const after = await call('/v2/oauth2/token/introspect', { form: { token: tokens.access_token }, headers: { authorization: basic } });
console.log(`   active=${after.active}`);

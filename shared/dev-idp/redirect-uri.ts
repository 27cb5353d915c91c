/**
 * Redirect URI matching. Exact string match, except that for loopback IP
 * redirect URIs any port is accepted (RFC 8252 7.3), and the IdP's own
 * copy-paste page is open to every client (as Globus's auth-code page is).
 */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);

export const COPY_PASTE_PATH = '/v2/web/auth-code';

export function redirectUriAllowed(requested: string, registered: string[], issuer: string): boolean {
  if (requested === `${issuer}${COPY_PASTE_PATH}`) return true;
  if (registered.includes(requested)) return true;
  let req: URL;
  try {
    req = new URL(requested);
  } catch {
    return false;
  }
  if (req.protocol !== 'http:' || !LOOPBACK_HOSTS.has(req.hostname) || req.hash !== '') return false;
  return registered.some((r) => {
    const reg = new URL(r);
    return reg.protocol === 'http:' && reg.hostname === req.hostname && reg.pathname === req.pathname && reg.search === req.search;
  });
}

/**
 * Where tokens and secrets may be sent: https anywhere, plain http only to
 * this machine (the dev IdP and tests). One rule for the server's auth_url and
 * issuers and the client's auth_url and issuers.
 */
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

export function secureOrLoopback(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
}

/**
 * A JSON resource read with the user's own access token as a Bearer token:
 * the provider's view of the user (OIDC userinfo, Oracle IDCS's SCIM
 * /admin/v1/Me with the POSIX extension). Over the HTTP stack, so
 * http_timeout and the 429 back-off apply; the token goes only to https or
 * to this machine, and never into a message.
 */
import { ProviderUnavailableError } from '../errors.js';
import { isObject } from '../json.js';
import { secureOrLoopback } from '../url-policy.js';
import type { HttpStack } from './http-stack.js';

export async function fetchProtectedJson(url: string, token: string, http: HttpStack): Promise<Record<string, unknown>> {
  if (!secureOrLoopback(url)) throw new ProviderUnavailableError(`the user's attributes are not fetched from ${safeOrigin(url)}: an access token goes only to https URLs or to this machine`);
  const origin = new URL(url).origin;
  const res = await http.fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json, application/scim+json' },
    redirect: 'manual', // a redirect would carry the token on to wherever it points
    signal: AbortSignal.timeout(Math.round(http.timeoutSeconds * 1000)),
  });
  const body = (await res.json().catch(() => null)) as unknown;
  if (!res.ok || !isObject(body)) throw new ProviderUnavailableError(`${origin} answered HTTP ${res.status} for the user's attributes`);
  return body;
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'a malformed URL';
  }
}

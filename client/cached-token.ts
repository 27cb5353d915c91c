/**
 * A stored access token that is still fresh: the whole of the common case
 * (a connection with a cached token). Kept apart from tokens.ts so that this
 * path loads no OAuth code, no HTTP client and no flows.
 */
import type { HostRecord, TokenStore } from './store/token-store.js';

export async function cachedToken(store: TokenStore, key: string, minValidity: number): Promise<{ token: string; record: HostRecord } | null> {
  const record = store.record(key);
  if (!record || record.expiresAt - Math.floor(Date.now() / 1000) < minValidity) return null;
  const secrets = await store.secrets(record);
  return secrets ? { token: secrets.accessToken, record } : null;
}

import { createHash } from 'node:crypto';

/**
 * The only form in which a token, refresh token, device code or secret may
 * appear in logs, errors or cache keys: a short prefix of its SHA-256.
 */
export function secretHashPrefix(secret: string, length = 12): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, length);
}

/** Full SHA-256, for keying stores and caches by a secret without holding the secret as a key. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

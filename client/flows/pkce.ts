import { createHash, randomBytes } from 'node:crypto';

/** RFC 7636 S256 pair and an unguessable state value. */
export function pkce(): { verifier: string; challenge: string; state: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url'), state: randomBytes(16).toString('base64url') };
}

/**
 * Long tokens over keyboard-interactive. One answer that ssh takes from an
 * askpass program is cut at 1023 characters (measured with OpenSSH 9.2), and
 * JWT access tokens from Keycloak or Entra are often longer. So a long token
 * travels in parts: the first answer is `OAUTHSSH-PART 1/N <chunk>`, and the
 * server asks `Token part K/N: ` for each further part. Shared by the client
 * (splitting) and the server (joining), with one hard upper bound.
 */
export const PART_PREFIX = 'OAUTHSSH-PART ';
/** Characters of token per answer: the prefix and "K/N " fit in what ssh passes through. */
export const PART_SIZE = 960;
/** Hard upper bound on a token, in characters (and so on parts). */
export const MAX_TOKEN_LENGTH = 16384;
export const MAX_PARTS = Math.ceil(MAX_TOKEN_LENGTH / PART_SIZE);

export const partPrompt = (index: number, total: number) => `Token part ${index}/${total}: `;

/** Answers for a token: itself when short, else N prefixed parts. */
export function splitToken(token: string): string[] {
  if (token.length <= PART_SIZE + PART_PREFIX.length) return [token];
  if (token.length > MAX_TOKEN_LENGTH) throw new Error(`the token is ${token.length} characters long; the most oauth-ssh carries is ${MAX_TOKEN_LENGTH}`);
  const total = Math.ceil(token.length / PART_SIZE);
  return Array.from({ length: total }, (_, i) => {
    const chunk = token.slice(i * PART_SIZE, (i + 1) * PART_SIZE);
    return i === 0 ? `${PART_PREFIX}1/${total} ${chunk}` : chunk;
  });
}

/** The first answer of a parted token: its part count and first chunk, or null for an ordinary answer. */
export function parseFirstPart(answer: string): { total: number; chunk: string } | null {
  const m = /^OAUTHSSH-PART 1\/(\d{1,3}) (\S+)$/.exec(answer.trim());
  return m ? { total: Number(m[1]), chunk: m[2]! } : null;
}

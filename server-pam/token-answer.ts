/**
 * Reading the answer to the token prompt, including long tokens sent in
 * parts (shared/token-parts.ts): after `OAUTHSSH-PART 1/N <chunk>` the
 * server asks `Token part K/N: ` until it has them all. Bounded: at most
 * MAX_PARTS parts and MAX_TOKEN_LENGTH characters, each part non-empty and
 * free of whitespace; anything else is refused with a message.
 */
import { InvalidTokenError } from '../shared/errors.js';
import { MAX_PARTS, MAX_TOKEN_LENGTH, PART_SIZE, parseFirstPart, partPrompt } from '../shared/token-parts.js';
import type { PamConversation } from './protocol.js';

/** The whole answer, or undefined when the user gave none. Throws InvalidTokenError for a malformed or oversized parted token. */
export async function readTokenAnswer(conv: PamConversation, first: string): Promise<string> {
  const parted = parseFirstPart(first);
  if (!parted) {
    // The bound holds for every answer, not only parted ones: nothing larger goes to a provider.
    if (first.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError(`the answer is longer than ${MAX_TOKEN_LENGTH} characters, the most this host takes`);
    return first;
  }
  if (parted.total < 2 || parted.total > MAX_PARTS) {
    throw new InvalidTokenError(`a token in ${parted.total} parts is refused: the most this host takes is ${MAX_TOKEN_LENGTH} characters in ${MAX_PARTS} parts`);
  }
  const chunks = [parted.chunk];
  for (let index = 2; index <= parted.total; index++) {
    const part = (await conv.prompt(partPrompt(index, parted.total), false))?.trim();
    if (!part || /\s/.test(part) || part.length > PART_SIZE + 64) throw new InvalidTokenError(`token part ${index}/${parted.total} is missing or malformed`);
    chunks.push(part);
    if (chunks.join('').length > MAX_TOKEN_LENGTH) throw new InvalidTokenError(`the token is longer than ${MAX_TOKEN_LENGTH} characters`);
  }
  return chunks.join('');
}

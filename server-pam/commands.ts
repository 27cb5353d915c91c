/**
 * The answer to the token prompt: a raw access token (cut and paste), or a
 * Globus/XSEDE in-band command, base64 (standard alphabet, padded) of
 * {"command": {"op": ..., "access_token": ...}, "version": 1}. Replies are
 * base64 JSON too, sent once (the XSEDE module double-encoded two of them).
 */

import { encodeCommand, encodeReply } from '../shared/in-band.js';

export type Answer =
  | { kind: 'empty' }
  | { kind: 'token'; token: string }
  | { kind: 'command'; op: string; accessToken: string | undefined };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function parseAnswer(answer: string): Answer {
  const trimmed = answer.trim();
  if (trimmed === '') return { kind: 'empty' };
  // A JSON object in base64 always starts with "ey" ('{"' or '{ ').
  if (trimmed.startsWith('ey') && BASE64.test(trimmed)) {
    try {
      const doc = JSON.parse(Buffer.from(trimmed, 'base64').toString('utf8')) as { command?: { op?: unknown; access_token?: unknown } };
      if (doc && typeof doc === 'object' && doc.command && typeof doc.command === 'object' && typeof doc.command.op === 'string') {
        return { kind: 'command', op: doc.command.op, accessToken: typeof doc.command.access_token === 'string' ? doc.command.access_token : undefined };
      }
    } catch {
      // Not a command: fall through and treat it as a token.
    }
  }
  return { kind: 'token', token: trimmed };
}

export { encodeCommand, encodeReply };

export type ReplyErrorCode = 'INVALID_TOKEN' | 'SESSION_VIOLATION' | 'INVALID_ACCOUNT' | 'UNEXPECTED_ERROR' | 'UNKNOWN_COMMAND';

export function errorReply(code: ReplyErrorCode, description: string): string {
  return encodeReply({ error: { code, description } });
}

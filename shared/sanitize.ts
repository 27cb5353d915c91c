/**
 * Text from an authorization server (names, usernames, IdP names) is
 * untrusted: before it reaches a terminal, control characters (C0, DEL, C1,
 * including ESC) and bidirectional overrides are replaced, and length is bounded.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

export function sanitizeForTerminal(value: unknown, maxLength = 200): string {
  const text = String(value ?? '').replace(UNSAFE, '?');
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

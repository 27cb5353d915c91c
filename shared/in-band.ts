/**
 * The Globus/XSEDE in-band command encoding, shared by the server (which
 * reads commands and writes replies) and the client (the reverse): base64
 * (standard alphabet, padded) of one JSON object.
 */

export function encodeReply(reply: unknown): string {
  return Buffer.from(JSON.stringify(reply), 'utf8').toString('base64');
}

/** {"command": {"op": ..., "access_token": ...}, "version": 1}, as the XSEDE client sends it. */
export function encodeCommand(op: string, accessToken?: string): string {
  return encodeReply({ command: accessToken === undefined ? { op } : { op, access_token: accessToken }, version: 1 });
}

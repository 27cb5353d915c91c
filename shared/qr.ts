/**
 * QR codes for terminals: Unicode half blocks with a quiet zone, no ANSI
 * escapes (ssh escapes them in prompts, and they garble logs). Dark modules
 * are drawn as blocks, which reads right on light-on-dark terminals when
 * `invert` is set, the common case.
 */
import QRCode from 'qrcode';

/** Beyond this a QR code is too big for a 24-line terminal: skip it. */
export const MAX_QR_TEXT = 160;

export async function terminalQr(text: string, options: { invert?: boolean } = {}): Promise<string | null> {
  if (text.length > MAX_QR_TEXT) return null;
  const qr = await QRCode.toString(text, { type: 'utf8', margin: 2, errorCorrectionLevel: 'L' });
  if (!options.invert) return qr.replace(/\n+$/, '');
  const swap: Record<string, string> = { '█': ' ', ' ': '█', '▀': '▄', '▄': '▀' };
  return qr.replace(/\n+$/, '').replace(/[█▀▄ ]/g, (c) => swap[c]!);
}

/**
 * QR codes for terminals: Unicode half blocks with a quiet zone, no ANSI
 * escapes (ssh escapes them in prompts, and they garble logs). Dark modules
 * are drawn as blocks, which reads right on light-on-dark terminals when
 * `invert` is set, the common case.
 */
import QRCode from 'qrcode';

/** Beyond this a QR code is too big for a 24-line terminal: skip it. */
export const MAX_QR_TEXT = 160;

/** `margin` is the quiet zone in modules (the code's size on screen): 2 is compact, 4 what the standard asks; the renderer takes even margins only. */
export async function terminalQr(text: string, options: { invert?: boolean; margin?: number } = {}): Promise<string | null> {
  if (text.length > MAX_QR_TEXT) return null;
  const qr = await QRCode.toString(text, { type: 'utf8', margin: options.margin ?? 2, errorCorrectionLevel: 'L' });
  if (!options.invert) return qr.replace(/\n+$/, '');
  const swap: Record<string, string> = { '█': ' ', ' ': '█', '▀': '▄', '▄': '▀' };
  return qr.replace(/\n+$/, '').replace(/[█▀▄ ]/g, (c) => swap[c]!);
}

import test from 'ava';
import { devicePrompt } from '../../server-pam/device-login.js';

const device = {
  deviceCode: 'secret-device-code-never-shown',
  userCode: 'BCDF-GHJK',
  verificationUri: 'https://auth.example.org/device',
  verificationUriComplete: 'https://auth.example.org/device?user_code=BCDF-GHJK',
  expiresIn: 600,
  interval: 5,
};

test('the device prompt fits 80x24 with the QR code above the URL, and always shows the code', async (t) => {
  const prompt = await devicePrompt(device, true);
  const lines = prompt.split('\n');
  t.true(lines.length <= 24, `${lines.length} rows`);
  t.true(lines.every((l) => [...l].length <= 80));
  t.is(lines.at(-4), 'Open https://auth.example.org/device');
  t.is(lines.at(-2), '  BCDF-GHJK', 'the code on a line of its own: it never wraps');
  t.is(lines.at(-1), 'Press Enter once you have approved: ');
  t.is(lines[0], 'Log in with your identity provider:', 'text first: ssh prefixes the first line with "(user@host) "');
  t.regex(lines[1]!, /^[█▀▄ ]+$/);
  t.false(prompt.includes('secret-device-code'));
  t.false(/[\u0000-\u0009\u000b-\u001f\u007f]/.test(prompt), 'no control characters but newlines');
  t.snapshot(prompt, 'layout at 80x24');
});

test('no QR when switched off or when it would push the URL off a 24-row screen; IdP strings sanitized', async (t) => {
  t.false(/[█▀▄]/.test(await devicePrompt(device, false)));
  const long = { ...device, verificationUriComplete: `https://auth.example.org/device?user_code=BCDF-GHJK&${'x'.repeat(120)}` };
  t.false(/[█▀▄]/.test(await devicePrompt(long, true)));
  const hostile = { ...device, verificationUri: 'https://evil.example/\u001b[2J\u001b]0;x\u0007', userCode: 'AB\nCD' };
  const prompt = await devicePrompt(hostile, false);
  t.false(/[\u001b\u0007]/.test(prompt));
  t.true(prompt.includes('  AB?CD'));
});

test('a prompt template replaces the built-in text; the QR code only where {qr} stands', async (t) => {
  const custom = await devicePrompt(device, true, 'Example Corp SSO\n{qr}Visit {url_complete}\nCode: {code}\nThen press Enter: ');
  const lines = custom.split('\n');
  t.is(lines[0], 'Example Corp SSO');
  t.regex(lines[1]!, /^[█▀▄ ]+$/);
  t.is(lines.at(-3), 'Visit https://auth.example.org/device?user_code=BCDF-GHJK');
  t.is(lines.at(-2), 'Code: BCDF-GHJK');
  t.true(lines.length <= 24);
  t.false(/[█▀▄]/.test(await devicePrompt(device, true, 'Open {url}, code {code}: ')), 'no {qr}, no QR code');
});

test('the QR code\'s size follows its margin', async (t) => {
  const rows = async (margin: number) => (await devicePrompt(device, true, null, margin)).split('\n').filter((l) => /^[█▀▄ ]+$/.test(l)).length;
  t.true((await rows(2)) < (await rows(4)));
  t.true((await rows(4)) <= 24 - 4, 'never pushes the text off the screen');
});

/** What a terminal shows, as pixels: half blocks are two modules tall; other characters are background. */
function screenshot(lines: string[], cell = 4): { data: Uint8ClampedArray; width: number; height: number } {
  const columns = Math.max(...lines.map((l) => [...l].length)) + 4;
  const width = columns * cell;
  const height = (lines.length + 2) * cell * 2;
  const data = new Uint8ClampedArray(width * height * 4).fill(255);
  const paint = (x: number, y: number, dark: boolean) => {
    for (let dy = 0; dy < cell; dy++) {
      for (let dx = 0; dx < cell; dx++) {
        const i = ((y + dy) * width + x + dx) * 4;
        data[i] = data[i + 1] = data[i + 2] = dark ? 0 : 255;
      }
    }
  };
  lines.forEach((line, row) => {
    [...line].forEach((ch, col) => {
      const x = (col + 2) * cell;
      const y = (row + 1) * cell * 2;
      // The renderer draws light modules with blocks (invert: for dark terminals); dark is the terminal's background.
      paint(x, y, !(ch === '█' || ch === '▀'));
      paint(x, y + cell, !(ch === '█' || ch === '▄'));
    });
  });
  return { data, width, height };
}

test('the QR code decodes as ssh shows it: after the "(user@host) " that ssh puts before the first line', async (t) => {
  // jsqr is CommonJS: its function is the default export, one level down under ESM interop.
  type Decode = (data: Uint8ClampedArray, width: number, height: number, options?: { inversionAttempts?: string }) => { data: string } | null;
  const mod = (await import('jsqr')) as unknown as { default: Decode | { default: Decode } };
  const jsQR: Decode = typeof mod.default === 'function' ? mod.default : mod.default.default;
  const asShown = (prompt: string) => {
    const lines = prompt.split('\n');
    lines[0] = `(oast1234abcd@127.0.0.1) ${lines[0]}`;
    return lines;
  };
  for (const margin of [2, 4]) {
    const shot = screenshot(asShown(await devicePrompt(device, true, null, margin)));
    const decoded = jsQR(shot.data, shot.width, shot.height, { inversionAttempts: 'attemptBoth' });
    t.is(decoded?.data, device.verificationUriComplete, `margin ${margin}`);
  }
  // The layout before: the QR code's top row first, shifted by ssh's prefix: measured not to decode.
  const qrFirst = asShown(await devicePrompt(device, true, '{qr}Open {url}\nand enter the code: {code}\n\nPress Enter once you have approved: ', 2));
  const shot = screenshot(qrFirst);
  t.is(jsQR(shot.data, shot.width, shot.height, { inversionAttempts: 'attemptBoth' })?.data, undefined, 'a shifted top row breaks the code');
});

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
  t.is(lines.at(-4), 'To log in, open https://auth.example.org/device');
  t.is(lines.at(-3), 'and enter the code: BCDF-GHJK');
  t.is(lines.at(-1), 'Press Enter once you have approved: ');
  t.regex(lines[0]!, /^[█▀▄ ]+$/);
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
  t.true(prompt.includes('and enter the code: AB?CD'));
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

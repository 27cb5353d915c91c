import test from 'ava';
import { encodeCommand, encodeReply, parseAnswer } from '../../server-pam/commands.js';
import { decodeValue, encodeValue, parseRequestLine, ProtocolError } from '../../server-pam/protocol.js';

test('values round-trip through percent-encoding; only the unsafe bytes are escaped', (t) => {
  for (const v of ['plain', 'with space', '100%', 'line\nbreak\r\t', 'ünïcødé ✓', '\u007f', 'a=b&c']) t.is(decodeValue(encodeValue(v)), v);
  t.is(encodeValue('Enter your OAuth token: '), 'Enter%20your%20OAuth%20token:%20');
  t.is(encodeValue('a%b\n'), 'a%25b%0A');
});

test('malformed values and requests are protocol errors', (t) => {
  for (const bad of ['%zz', '%0', '%00', 'x%']) t.throws(() => decodeValue(bad), { instanceOf: ProtocolError }, bad);
  t.throws(() => parseRequestLine('OAUTH-SSH/2 AUTH user=a'), { message: /unsupported protocol version/ });
  t.throws(() => parseRequestLine('OAUTH-SSH/1 HELLO user=a'), { message: /unknown request/ });
  t.throws(() => parseRequestLine('OAUTH-SSH/1 AUTH service=sshd'), { message: /without user/ });
  t.deepEqual(parseRequestLine('OAUTH-SSH/1 AUTH user=al%20ice service=sshd rhost=10.0.0.1 tty=ssh'), { user: 'al ice', service: 'sshd', rhost: '10.0.0.1', tty: 'ssh' });
});

test('answers: raw tokens, in-band commands, and things that only look like commands', (t) => {
  t.deepEqual(parseAnswer('  AgTokenValue123 \n'), { kind: 'token', token: 'AgTokenValue123' });
  t.deepEqual(parseAnswer(''), { kind: 'empty' });
  t.deepEqual(parseAnswer(encodeCommand('get_security_policy')), { kind: 'command', op: 'get_security_policy', accessToken: undefined });
  t.deepEqual(parseAnswer(encodeCommand('login', 'tok')), { kind: 'command', op: 'login', accessToken: 'tok' });
  // Base64 JSON without a command, and a JWT (dots), are tokens.
  t.deepEqual(parseAnswer(encodeReply({ hello: 1 })).kind, 'token');
  t.deepEqual(parseAnswer('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig').kind, 'token');
  // The XSEDE client's exact encoding.
  const xsede = Buffer.from('{"command": {"op": "get_account_map", "access_token": "AT"}, "version": 1}').toString('base64');
  t.deepEqual(parseAnswer(xsede), { kind: 'command', op: 'get_account_map', accessToken: 'AT' });
});

test('sshd\'s invalid-user answer is recognised at any length, and nothing else is', async (t) => {
  const { isSshdInvalidUserAnswer } = await import('../../server-pam/handle-auth.js');
  const bad = '\b\n\r\x7fINCORRECT';
  t.true(isSshdInvalidUserAnswer(bad));
  t.true(isSshdInvalidUserAnswer(bad.repeat(40).slice(0, 300)), 'repeated to the length of a real token');
  t.true(isSshdInvalidUserAnswer('\b\n\r'), 'a short answer');
  t.false(isSshdInvalidUserAnswer(''));
  t.false(isSshdInvalidUserAnswer(`${bad}x`));
  t.false(isSshdInvalidUserAnswer('AgExampleGlobusToken'));
});

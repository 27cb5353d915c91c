/**
 * pam_oauth_ssh.so against a misbehaving peer, driven by real Linux-PAM
 * (pamtester). Every unhappy peer must end in PAM_AUTHINFO_UNAVAIL within
 * the module's timeout, never in success.
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { run } from '../helpers/processes.js';
import { startFakeDaemon, type PeerConnection } from '../helpers/fake-daemon.js';
import { BRIDGE_SO, installPamService, PAM_TEXT, pamtester } from '../helpers/pam.js';
import { tempDir } from '../helpers/temp.js';

async function bridgeService(t: Parameters<typeof installPamService>[0], socketPath: string, args = 'timeout=1'): Promise<string> {
  return installPamService(t, [`auth required ${BRIDGE_SO} socket=${socketPath} ${args}`, `account sufficient ${BRIDGE_SO}`, 'account required pam_deny.so'].join('\n'));
}

/** Reads the bridge's request line, then does `then`. */
const afterRequest = (then: (peer: PeerConnection) => Promise<void> | void) => async (peer: PeerConnection) => {
  await peer.line();
  await then(peer);
};

test('exports all six pam_sm_* entry points and nothing else', async (t) => {
  const symbols = (await run('nm', ['-D', '--defined-only', BRIDGE_SO])).stdout;
  const exported = [...symbols.matchAll(/ T (\S+)/g)].map((m) => m[1]).sort();
  t.deepEqual(exported, ['pam_sm_acct_mgmt', 'pam_sm_authenticate', 'pam_sm_chauthtok', 'pam_sm_close_session', 'pam_sm_open_session', 'pam_sm_setcred']);
});

test('compiles without a warning under -Wall -Wextra', async (t) => {
  const result = await run('cc', ['-std=c11', '-Wall', '-Wextra', '-Wformat=2', '-Wshadow', '-Werror', '-fsyntax-only', 'server-pam/pam_oauth_ssh.c']);
  t.is(result.code, 0, result.stderr);
  t.is(result.stderr, '');
});

test('happy path: request fields, prompt, answer, info, SUCCESS; acct_mgmt then passes', async (t) => {
  let request = '';
  let answer = '';
  const peer = await startFakeDaemon(t, async (p) => {
    request = await p.line();
    p.send('PROMPT_OFF Enter%20your%20OAuth%20token:%20\n');
    answer = await p.line();
    p.send(`INFO welcome%0Aback\nTICKET ${'ab'.repeat(32)}\nRESULT SUCCESS\n`);
  });
  const service = await bridgeService(t, peer.socketPath);
  const result = await pamtester(service, 'root', ['authenticate', 'acct_mgmt'], 'tok%en with spaces\n');
  t.is(result.code, 0, result.stderr);
  t.regex(request, new RegExp(`^OAUTH-SSH/1 AUTH user=root service=${service} rhost= tty=$`));
  t.is(answer, 'ANSWER tok%25en%20with%20spaces');
  t.true(result.stderr.includes('Enter your OAuth token: '), 'the prompt, decoded');
  t.true(result.stdout.includes('welcome\nback'), 'the info message, decoded');
  t.regex(result.stdout, /account management done/);
});

test('acct_mgmt and setcred ignore logins the module did not authenticate, even with a forged mark in the PAM environment', async (t) => {
  // `sufficient` + pam_deny tells PAM_IGNORE (falls through to the deny) from PAM_SUCCESS (stops there).
  const peer = await startFakeDaemon(t, async (p) => {
    await p.line();
    p.send('RESULT IGNORE\n'); // a CHECK for a ticket the daemon never issued
  });
  const dir = await tempDir(t);
  for (const forged of ['OAUTH_SSH_AUTHENTICATED=1', `OAUTH_SSH_TICKET=${'0'.repeat(64)}`]) {
    await writeFile(`${dir}/env`, `${forged}\n`);
    // pam_env puts the forged mark into the PAM environment at setcred, before acct_mgmt runs.
    const service = await installPamService(t, [
      'auth required pam_permit.so',
      `auth optional pam_env.so envfile=${dir}/env conffile=/dev/null readenv=1 user_readenv=0`,
      `auth optional ${BRIDGE_SO} socket=${peer.socketPath} timeout=1`,
      `account sufficient ${BRIDGE_SO} socket=${peer.socketPath} timeout=1`,
      'account required pam_deny.so',
    ].join('\n'));
    const result = await pamtester(service, 'root', ['setcred', 'acct_mgmt']);
    t.not(result.code, 0, `${forged}: ${result.stdout}${result.stderr}`);
    t.regex(result.stderr, /Permission denied|acct_mgmt/, forged);
  }
});

for (const [code, text] of [['AUTH_ERR', PAM_TEXT.AUTH_ERR], ['USER_UNKNOWN', PAM_TEXT.USER_UNKNOWN], ['MAXTRIES', PAM_TEXT.MAXTRIES], ['SYSTEM_ERR', PAM_TEXT.SYSTEM_ERR], ['AUTHINFO_UNAVAIL', PAM_TEXT.AUTHINFO_UNAVAIL]] as const) {
  test(`RESULT ${code} maps to its PAM code`, async (t) => {
    const peer = await startFakeDaemon(t, afterRequest((p) => p.send(`RESULT ${code}\n`)));
    const result = await pamtester(await bridgeService(t, peer.socketPath), 'root', ['authenticate']);
    t.is(result.code, 1);
    t.true(result.stderr.includes(text), result.stderr);
  });
}

const unhappy: Array<[string, (peer: PeerConnection) => Promise<void> | void]> = [
  ['silent daemon', () => {}],
  ['silent after a prompt was answered', afterRequest(async (p) => {
    p.send('PROMPT_OFF token:\n');
    await p.line();
  })],
  ['hangs up mid-line', afterRequest((p) => {
    p.send('PROMPT_OFF Ent');
    p.socket.end();
  })],
  ['hangs up before the result', afterRequest((p) => {
    p.socket.end();
  })],
  ['oversized line', afterRequest((p) => p.send('INFO ' + 'A'.repeat(70_000)))],
  ['garbage', afterRequest((p) => p.send('HELLO there\n'))],
  ['binary noise', afterRequest((p) => p.send(Buffer.from([0xff, 0x00, 0x13, 0x0a]).toString('latin1')))],
  ['unknown result code', afterRequest((p) => p.send('RESULT PERHAPS\n'))],
  ['lower-case success', afterRequest((p) => p.send('RESULT success\n'))],
  ['result without code', afterRequest((p) => p.send('RESULT\n'))],
  ['malformed percent-encoding', afterRequest((p) => p.send('INFO bad%zz\nRESULT SUCCESS\n'))],
  ['encoded NUL', afterRequest((p) => p.send('INFO a%00b\nRESULT SUCCESS\n'))],
  ['more than 64 lines', afterRequest((p) => p.send('INFO x\n'.repeat(65) + 'RESULT SUCCESS\n'))],
  ['SUCCESS glued to a broken line', afterRequest((p) => p.send('PROMPT_OFF\nRESULT SUCCESS\n'))],
  ['a raw NUL inside a RESULT line', afterRequest((p) => p.send('RESULT SUCCESS\u0000AUTH_ERR\n'))],
  ['a raw control byte in an INFO line', afterRequest((p) => p.send('INFO a\u0001b\nRESULT SUCCESS\n'))],
  ['a raw carriage return in a prompt', afterRequest((p) => p.send('PROMPT_OFF token:\r\nRESULT SUCCESS\n'))],
  ['more than 1024 keep-alives', afterRequest((p) => p.send('KEEPALIVE\n'.repeat(1025) + 'RESULT SUCCESS\n'))],
  ['a malformed ticket before SUCCESS', afterRequest((p) => p.send('TICKET not-hex\nRESULT SUCCESS\n'))],
];

for (const [name, script] of unhappy) {
  test(`fails closed: ${name}`, async (t) => {
    const peer = await startFakeDaemon(t, script);
    const result = await pamtester(await bridgeService(t, peer.socketPath), 'root', ['authenticate'], 'answer\n');
    t.is(result.code, 1);
    t.true(result.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL), result.stderr);
    t.true(result.elapsedMs < 5000, `bounded: took ${result.elapsedMs} ms with timeout=1`);
  });
}

test('fails closed: no daemon at the socket path', async (t) => {
  const dir = await tempDir(t);
  const result = await pamtester(await bridgeService(t, `${dir}/missing.sock`), 'root', ['authenticate']);
  t.true(result.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL));
});

test('fails closed: the peer does not run as the expected uid', async (t) => {
  const peer = await startFakeDaemon(t, afterRequest((p) => p.send('RESULT SUCCESS\n')));
  const result = await pamtester(await bridgeService(t, peer.socketPath, 'timeout=1 daemon_uid=4242'), 'root', ['authenticate']);
  t.true(result.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL));
  t.deepEqual(peer.lines, [], 'not a byte was sent to the wrong peer');
});

test('fails closed: the peer runs as the right uid but another gid', async (t) => {
  const dir = await tempDir(t);
  const socketPath = `${dir}/gid.sock`;
  // A peer that is root but not in root's group: a process only half dropped or half set up.
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', `process.setgid(4242); require('net').createServer((s) => { s.on('data', () => s.end('RESULT SUCCESS\\n')); }).listen(${JSON.stringify(socketPath)}, () => console.log('up'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill());
  await new Promise((resolve) => child.stdout!.once('data', resolve));
  const result = await pamtester(await bridgeService(t, socketPath), 'root', ['authenticate'], 'x\n');
  t.true(result.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL), result.stderr);
  const allowed = await pamtester(await bridgeService(t, socketPath, 'timeout=1 daemon_gid=4242'), 'root', ['authenticate'], 'x\n');
  t.is(allowed.code, 0, 'daemon_gid= names the expected group');
});

test('PAM_SILENT: no messages reach the user', async (t) => {
  const peer = await startFakeDaemon(t, afterRequest((p) => p.send('INFO visible%20info\nERROR visible%20error\nRESULT AUTH_ERR\n')));
  const service = await bridgeService(t, peer.socketPath);
  const loud = await pamtester(service, 'root', ['authenticate']);
  t.regex(loud.output, /visible info/);
  const silent = await pamtester(service, 'root', ['authenticate(PAM_SILENT)']);
  t.notRegex(silent.output, /visible/);
  t.true(silent.stderr.includes(PAM_TEXT.AUTH_ERR));
});

test('fails closed: bad module arguments', async (t) => {
  const peer = await startFakeDaemon(t, afterRequest((p) => p.send('RESULT SUCCESS\n')));
  const result = await pamtester(await bridgeService(t, peer.socketPath, 'timeout=abc'), 'root', ['authenticate']);
  t.true(result.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL));
});

test('NOANSWER when the application gives no answer', async (t) => {
  let reply = '';
  const peer = await startFakeDaemon(t, afterRequest(async (p) => {
    p.send('PROMPT_OFF token:\n');
    reply = await p.line();
    p.send('RESULT AUTH_ERR\n');
  }));
  const result = await pamtester(await bridgeService(t, peer.socketPath), 'root', ['authenticate'], '');
  t.is(reply, 'NOANSWER');
  t.true(result.stderr.includes(PAM_TEXT.AUTH_ERR));
});

test('KEEPALIVE holds the idle timeout off; the overall deadline still ends it', async (t) => {
  const keepalive = (ms: number, then?: string) => afterRequest(async (p) => {
    const end = Date.now() + ms;
    while (Date.now() < end && !p.socket.destroyed) {
      p.send('KEEPALIVE\n');
      await new Promise((r) => setTimeout(r, 300));
    }
    if (then) p.send(then);
  });
  const patient = await startFakeDaemon(t, keepalive(2500, 'RESULT SUCCESS\n'));
  const ok = await pamtester(await bridgeService(t, patient.socketPath, 'timeout=1'), 'root', ['authenticate']);
  t.is(ok.code, 0, ok.stderr);
  t.true(ok.elapsedMs >= 2500);

  const endless = await startFakeDaemon(t, keepalive(20_000));
  const cut = await pamtester(await bridgeService(t, endless.socketPath, 'timeout=1 deadline=2'), 'root', ['authenticate']);
  t.true(cut.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL));
  t.true(cut.elapsedMs < 4000, `deadline=2 ended it after ${cut.elapsedMs} ms`);
});

test('mutation check: a bridge whose default result is success is caught by the silent-peer case', async (t) => {
  // Put a known bypass back into a copy of the bridge: if the unhappy-peer
  // tests could not tell, they would not be worth having.
  const dir = await tempDir(t);
  const source = (await run('cat', ['server-pam/pam_oauth_ssh.c'])).stdout;
  const mutated = source.replace('int result = PAM_AUTHINFO_UNAVAIL;', 'int result = PAM_SUCCESS;');
  t.not(mutated, source, 'the mutation applies');
  await writeFile(`${dir}/mutant.c`, mutated);
  const built = await run('cc', ['-std=c11', '-fPIC', '-shared', '-o', `${dir}/mutant.so`, `${dir}/mutant.c`, '-lpam']);
  t.is(built.code, 0, built.stderr);
  const peer = await startFakeDaemon(t, () => {});
  const service = await installPamService(t, `auth required ${dir}/mutant.so socket=${peer.socketPath} timeout=1`);
  const result = await pamtester(service, 'root', ['authenticate']);
  t.is(result.code, 0, 'the mutant lets a silent daemon authenticate, which "fails closed: silent daemon" rejects');
});

/**
 * pam_oauth_ssh.so against a misbehaving peer, driven by real Linux-PAM
 * (pamtester). Every unhappy peer must end in PAM_AUTHINFO_UNAVAIL within
 * the module's timeout, never in success.
 */
import test from 'ava';
import { run } from '../helpers/processes.js';
import { startFakeDaemon } from '../helpers/fake-daemon.js';
import { afterRequest, BRIDGE_CASES, runBridgeCase } from '../helpers/bridge-cases.js';
import { BRIDGE_SO, installPamService, PAM_TEXT, pamtester } from '../helpers/pam.js';
import { tempDir } from '../helpers/temp.js';

async function bridgeService(t: Parameters<typeof installPamService>[0], socketPath: string, args = 'timeout=1'): Promise<string> {
  return installPamService(t, [`auth required ${BRIDGE_SO} socket=${socketPath} ${args}`, `account sufficient ${BRIDGE_SO}`, 'account required pam_deny.so'].join('\n'));
}


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

test('acct_mgmt ignores a login another module authenticated (sufficient + pam_deny tells IGNORE from SUCCESS)', async (t) => {
  const service = await installPamService(t, ['auth required pam_permit.so', `account sufficient ${BRIDGE_SO}`, 'account required pam_deny.so'].join('\n'));
  const result = await pamtester(service, 'root', ['authenticate', 'acct_mgmt']);
  t.not(result.code, 0, 'PAM_IGNORE falls through to pam_deny');
  t.false(result.stdout.includes('account management done'));
});

for (const [code, text] of [['AUTH_ERR', PAM_TEXT.AUTH_ERR], ['USER_UNKNOWN', PAM_TEXT.USER_UNKNOWN], ['MAXTRIES', PAM_TEXT.MAXTRIES], ['SYSTEM_ERR', PAM_TEXT.SYSTEM_ERR], ['AUTHINFO_UNAVAIL', PAM_TEXT.AUTHINFO_UNAVAIL]] as const) {
  test(`RESULT ${code} maps to its PAM code`, async (t) => {
    const peer = await startFakeDaemon(t, afterRequest((p) => p.send(`RESULT ${code}\n`)));
    const result = await pamtester(await bridgeService(t, peer.socketPath), 'root', ['authenticate']);
    t.is(result.code, 1);
    t.true(result.stderr.includes(text), result.stderr);
  });
}

for (const c of BRIDGE_CASES) {
  test(`fails closed: ${c.name}`, async (t) => {
    const { result, peer } = await runBridgeCase(t, BRIDGE_SO, c);
    t.true(c.holds(result, peer), `expected ${c.expected}; got: ${result.stderr}${result.stdout}`);
  });
}

test('fails closed: no daemon at the socket path', async (t) => {
  const dir = await tempDir(t);
  const result = await pamtester(await bridgeService(t, `${dir}/missing.sock`), 'root', ['authenticate']);
  t.true(result.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL));
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

test('daemon_user=NAME: a daemon that runs as its own account (uid and group from NSS)', async (t) => {
  const { createTestUser } = await import('../helpers/users.js');
  const { chown } = await import('node:fs/promises');
  const account = await createTestUser(t, { system: true });
  const dir = await tempDir(t);
  await chown(dir, account.uid, account.uid);
  const socketPath = `${dir}/pam.sock`;
  const gid = Number((await run('id', ['-g', account.name])).stdout.trim());
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', `process.setgid(${gid}); process.setuid(${account.uid}); require('net').createServer((s) => { s.on('data', () => s.end('RESULT SUCCESS\\n')); }).listen(${JSON.stringify(socketPath)}, () => console.log('up'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill());
  await new Promise((resolve) => child.stdout!.once('data', resolve));
  t.is((await pamtester(await bridgeService(t, socketPath, `timeout=1 daemon_user=${account.name}`), 'root', ['authenticate'], 'x\n')).code, 0, 'the account\'s uid and group');
  t.true((await pamtester(await bridgeService(t, socketPath, 'timeout=1'), 'root', ['authenticate'], 'x\n')).stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL), 'expected root: refused');
  t.true((await pamtester(await bridgeService(t, socketPath, 'timeout=1 daemon_user=oastnosuchaccount'), 'root', ['authenticate'], 'x\n')).stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL), 'an account that does not exist');
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

test('KEEPALIVE holds the idle timeout off', async (t) => {
  // 8 keep-alives 300 ms apart span more than the 1 s idle timeout: the bridge must still be there for the result.
  let sent = 0;
  const patient = await startFakeDaemon(t, afterRequest(async (p) => {
    for (; sent < 8; sent++) {
      p.send('KEEPALIVE\n');
      await new Promise((r) => setTimeout(r, 300));
    }
    p.send('RESULT SUCCESS\n');
  }));
  const ok = await pamtester(await bridgeService(t, patient.socketPath, 'timeout=1'), 'root', ['authenticate']);
  t.is(ok.code, 0, ok.stderr);
  t.is(sent, 8);
});

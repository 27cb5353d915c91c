/**
 * The unhappy-peer table for pam_oauth_ssh.so: what a broken, hostile or
 * impostor daemon (or a forged PAM environment) can do, and what the bridge
 * must answer. One table, run against the real bridge (pam-bridge.test.ts)
 * and against mutants with one defence removed each (pam-bridge-mutants.test.ts),
 * so that a defence nobody tests shows up as a surviving mutant.
 */
import { writeFile } from 'node:fs/promises';
import { startFakeDaemon, type PeerConnection } from './fake-daemon.js';
import { installPamService, PAM_TEXT, pamtester, type PamtesterResult } from './pam.js';
import type { Teardown } from './teardown.js';
import { tempDir } from './temp.js';

export interface BridgeCase {
  name: string;
  /** The fake daemon's behaviour for every connection. */
  script: (peer: PeerConnection) => Promise<void> | void;
  /** Module arguments beside socket=. */
  args?: string;
  ops?: string[];
  input?: string;
  /** A whole PAM stack instead of the default one (auth, then account sufficient + pam_deny). */
  stack?: (bridge: string, socketPath: string, dir: string) => Promise<string>;
  /** Did the bridge behave? (For a mutant: false means this case killed it.) */
  holds: (result: PamtesterResult, peer: { lines: string[]; hungUpFirst: boolean }) => boolean;
  /** Why `holds` failed, for the message. */
  expected: string;
}

/** Reads the bridge's request line, then does `then`. */
export const afterRequest = (then: (peer: PeerConnection) => Promise<void> | void) => async (peer: PeerConnection) => {
  await peer.line();
  await then(peer);
};

const unavailable = (r: PamtesterResult) => r.code !== 0 && r.stderr.includes(PAM_TEXT.AUTHINFO_UNAVAIL);
const failClosed = (name: string, script: BridgeCase['script'], args?: string): BridgeCase => ({ name, script, args, holds: unavailable, expected: 'PAM_AUTHINFO_UNAVAIL' });

export function defaultStack(bridge: string, socketPath: string, args = 'timeout=1'): string {
  return [`auth required ${bridge} socket=${socketPath} ${args}`, `account sufficient ${bridge} socket=${socketPath} ${args}`, 'account required pam_deny.so'].join('\n');
}

/** Fast cases first: a mutant run stops at the first case that kills it. */
export const BRIDGE_CASES: BridgeCase[] = [
  failClosed('garbage', afterRequest((p) => p.send('HELLO there\n'))),
  failClosed('binary noise', afterRequest((p) => p.send(Buffer.from([0xff, 0x00, 0x13, 0x0a]).toString('latin1')))),
  failClosed('unknown result code', afterRequest((p) => p.send('RESULT PERHAPS\n'))),
  failClosed('lower-case success', afterRequest((p) => p.send('RESULT success\n'))),
  failClosed('result without code', afterRequest((p) => p.send('RESULT\n'))),
  failClosed('malformed percent-encoding', afterRequest((p) => p.send('INFO bad%zz\nRESULT SUCCESS\n'))),
  failClosed('encoded NUL', afterRequest((p) => p.send('INFO a%00b\nRESULT SUCCESS\n'))),
  failClosed('a raw NUL inside a RESULT line', afterRequest((p) => p.send('RESULT SUCCESS\u0000AUTH_ERR\n'))),
  failClosed('a raw control byte in an INFO line', afterRequest((p) => p.send('INFO a\u0001b\nRESULT SUCCESS\n'))),
  failClosed('a raw carriage return in a prompt', afterRequest((p) => p.send('PROMPT_OFF token:\r\nRESULT SUCCESS\n'))),
  failClosed('more than 64 lines', afterRequest((p) => p.send('INFO x\n'.repeat(65) + 'RESULT SUCCESS\n'))),
  failClosed('more than 1024 keep-alives', afterRequest((p) => p.send('KEEPALIVE\n'.repeat(1025) + 'RESULT SUCCESS\n'))),
  failClosed('SUCCESS glued to a broken line', afterRequest((p) => p.send('PROMPT_OFF\nRESULT SUCCESS\n'))),
  failClosed('a malformed ticket before SUCCESS', afterRequest((p) => p.send('TICKET not-hex\nRESULT SUCCESS\n'))),
  failClosed('oversized line', afterRequest((p) => p.send('INFO ' + 'A'.repeat(70_000)))),
  failClosed('hangs up mid-line', afterRequest((p) => {
    p.send('PROMPT_OFF Ent');
    p.socket.end();
  })),
  failClosed('hangs up before the result', afterRequest((p) => void p.socket.end())),
  {
    // The fake daemon runs as root (uid 0, gid 0); the module expects uid 4242 with gid 0.
    name: 'the peer does not run as the expected uid',
    script: afterRequest((p) => p.send('RESULT SUCCESS\n')),
    args: 'timeout=1 daemon_uid=4242 daemon_gid=0',
    holds: (r, peer) => unavailable(r) && peer.lines.length === 0,
    expected: 'PAM_AUTHINFO_UNAVAIL before a byte is sent',
  },
  {
    name: 'acct_mgmt with a forged mark in the PAM environment',
    // A CHECK for a ticket the daemon never issued.
    script: afterRequest((p) => p.send('RESULT IGNORE\n')),
    ops: ['setcred', 'acct_mgmt'],
    stack: async (bridge, socketPath, dir) => {
      // pam_env puts the forged mark into the PAM environment at setcred, before acct_mgmt runs.
      await writeFile(`${dir}/env`, `OAUTH_SSH_TICKET=${'0'.repeat(64)}\nOAUTH_SSH_AUTHENTICATED=1\n`);
      return [
        'auth required pam_permit.so',
        `auth optional pam_env.so envfile=${dir}/env conffile=/dev/null readenv=1 user_readenv=0`,
        `auth optional ${bridge} socket=${socketPath} timeout=1`,
        `account sufficient ${bridge} socket=${socketPath} timeout=1`,
        'account required pam_deny.so',
      ].join('\n');
    },
    holds: (r) => r.code !== 0,
    expected: 'acct_mgmt PAM_IGNORE (then pam_deny)',
  },
  failClosed('silent daemon', () => {}),
  failClosed('silent after a prompt was answered', afterRequest(async (p) => {
    p.send('PROMPT_OFF token:\n');
    await p.line();
  })),
  {
    // Keep-alives hold the idle timeout off; the overall deadline must still end it, before the daemon says yes.
    name: 'keep-alives past the deadline, then SUCCESS',
    script: afterRequest(async (p) => {
      for (let i = 0; i < 40 && !p.socket.destroyed; i++) {
        p.send('KEEPALIVE\n');
        await new Promise((r) => setTimeout(r, 100));
      }
      p.send('RESULT SUCCESS\n');
    }),
    args: 'timeout=1 deadline=1',
    holds: (r, peer) => unavailable(r) && peer.hungUpFirst,
    expected: 'PAM_AUTHINFO_UNAVAIL, the bridge hanging up first',
  },
];

/** Runs one case against `bridge` (a .so path): the result, and what the fake daemon saw. */
export async function runBridgeCase(t: Teardown, bridge: string, c: BridgeCase): Promise<{ result: PamtesterResult; peer: { lines: string[]; hungUpFirst: boolean } }> {
  let hungUpFirst = false;
  const peer = await startFakeDaemon(t, async (p) => {
    let finished = false;
    // The bridge's FIN or reset is the hang-up. 'close' alone comes a loop turn after the socket is
    // destroyed, and a script timer can finish in between: that read as "the daemon finished first".
    const hangUp = () => (hungUpFirst ||= !finished);
    for (const event of ['end', 'error', 'close']) p.socket.once(event, hangUp);
    await c.script(p);
    finished = true;
  });
  const dir = await tempDir(t, 'oauth-ssh-test-case-');
  const stack = c.stack ? await c.stack(bridge, peer.socketPath, dir) : defaultStack(bridge, peer.socketPath, c.args);
  const service = await installPamService(t, stack);
  const result = await pamtester(service, 'root', c.ops ?? ['authenticate'], c.input ?? 'answer\n');
  return { result, peer: { lines: peer.lines, hungUpFirst } };
}

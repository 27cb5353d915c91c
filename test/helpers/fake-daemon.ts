/**
 * A misbehaving (or well-behaved) peer for the PAM bridge: a Unix socket in
 * a private temp dir whose behaviour per connection is the test's script.
 * Only for faults the real daemon cannot be made to produce.
 */
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Teardown } from './teardown.js';
import { tempDir } from './temp.js';

export interface PeerConnection {
  socket: Socket;
  /** Next full line from the bridge (without newline). */
  line(): Promise<string>;
  send(text: string): void;
}

export async function startFakeDaemon(t: Teardown, script: (peer: PeerConnection) => Promise<void> | void): Promise<{ socketPath: string; lines: string[] }> {
  const dir = await tempDir(t, 'oauth-ssh-test-peer-');
  const socketPath = join(dir, 'pam.sock');
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let buffer = '';
    const waiters: Array<(l: string) => void> = [];
    const pending: string[] = [];
    socket.on('data', (d: Buffer) => {
      buffer += d.toString('utf8');
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const l = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        received.push(l);
        const w = waiters.shift();
        if (w) w(l);
        else pending.push(l);
      }
    });
    socket.on('error', () => {});
    const peer: PeerConnection = {
      socket,
      line: () => new Promise((resolve) => (pending.length ? resolve(pending.shift()!) : waiters.push(resolve))),
      send: (text) => void (!socket.destroyed && socket.write(text)),
    };
    void Promise.resolve(script(peer)).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        // Sockets left open by "silent" peers must not keep the server alive.
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { socketPath, lines: received };
}

/**
 * Proves the Secret Service harness: a secret stored through @napi-rs/keyring
 * (what the client's token store will use) in one process is seen by
 * libsecret's own secret-tool, and read back and deleted from another process.
 */
import test from 'ava';
import { run } from '../helpers/processes.js';
import { startSecretService } from '../helpers/secret-service.js';

const nodeKeyring = (env: NodeJS.ProcessEnv, script: string) =>
  run(process.execPath, ['--input-type=module', '-e', `import { Entry } from '@napi-rs/keyring';\n${script}`], { env, cwd: process.cwd(), input: 'value-from-stdin-not-argv' });

test('keychain round trip through a real gnome-keyring Secret Service', async (t) => {
  const service = await startSecretService(t);
  const stored = await nodeKeyring(
    service.env,
    `const chunks = []; for await (const c of process.stdin) chunks.push(c);
     new Entry('oauth-ssh-harness', 'alice').setPassword(Buffer.concat(chunks).toString());`,
  );
  t.is(stored.code, 0, stored.stderr);

  const lookup = await run('secret-tool', ['lookup', 'service', 'oauth-ssh-harness', 'username', 'alice'], { env: service.env });
  t.is(lookup.stdout, 'value-from-stdin-not-argv', lookup.stderr);

  const read = await nodeKeyring(service.env, `process.stdout.write(new Entry('oauth-ssh-harness', 'alice').getPassword() ?? '<none>');`);
  t.is(read.stdout, 'value-from-stdin-not-argv', read.stderr);

  const deleted = await nodeKeyring(service.env, `new Entry('oauth-ssh-harness', 'alice').deletePassword(); process.stdout.write(String(new Entry('oauth-ssh-harness', 'alice').getPassword()));`);
  t.is(deleted.stdout, 'null', deleted.stderr);
});

test('without a Secret Service the keyring reports an error instead of storing anywhere', async (t) => {
  const service = await startSecretService(t);
  const env = { ...service.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${service.home}/no-such-bus` };
  const result = await nodeKeyring(env, `new Entry('oauth-ssh-harness', 'bob').setPassword('x');`);
  t.not(result.code, 0);
  t.regex(result.stderr, /Error/);
});

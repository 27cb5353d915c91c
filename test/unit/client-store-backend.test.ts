/**
 * Which store the client's tokens go to. The keyring binding, left to
 * itself, falls back from the Secret Service to the Linux kernel keyring
 * without a word, and the kernel keyring does not survive a reboot. This
 * machine's kernel refuses that silent fallback, so a stand-in for the
 * binding plays a Linux laptop where it succeeds: the one fault a real part
 * here cannot produce. The real Secret Service is exercised in
 * test/e2e/client-store.test.ts; the real kernel keyring is not, because on
 * this machine whether a key is usable depends on how the process was started.
 */
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import type { KeyringModule } from '../../client/store/secret-store.js';
import { TokenStore } from '../../client/store/token-store.js';
import type { Backend } from '../../client/config.js';
import { tempDir } from '../helpers/temp.js';

type LinuxStore = 'secret-service' | 'keyutils' | 'default';

/** A stand-in for @napi-rs/keyring on Linux: the kernel keyring always works; the Secret Service only when `secretService`. */
function fakeKeyring(secretService: boolean): { module: () => Promise<KeyringModule>; used: LinuxStore[]; kept: Map<string, string> } {
  const kept = new Map<string, string>();
  const used: LinuxStore[] = [];
  class AsyncEntry {
    private readonly where: LinuxStore;
    constructor(
      private readonly service: string,
      private readonly user: string,
      options?: { linux?: { store?: 'secret-service' | 'keyutils' } },
    ) {
      const pinned = options?.linux?.store;
      if (pinned === 'secret-service' && !secretService) throw new Error('Platform failure: DBus error: Failed to connect to socket /nonexistent');
      // Unpinned, the real binding quietly takes the kernel keyring when there is no Secret Service.
      this.where = pinned ?? 'default';
      used.push(this.where);
    }
    private get id() {
      return `${this.where}/${this.service}/${this.user}`;
    }
    async setPassword(value: string) {
      kept.set(this.id, value);
    }
    async getPassword() {
      return kept.get(this.id) ?? null;
    }
    async deletePassword() {
      return kept.delete(this.id);
    }
  }
  return { module: async () => ({ AsyncEntry }) as unknown as KeyringModule, used, kept };
}

async function storeFor(t: ExecutionContext, choice: Backend, secretService: boolean) {
  process.env.XDG_DATA_HOME = join(await tempDir(t), 'data');
  const warnings: string[] = [];
  const keyring = fakeKeyring(secretService);
  const open = () => TokenStore.open(choice, (m) => warnings.push(m), keyring.module);
  return { open, warnings, used: keyring.used, kept: keyring.kept };
}

test.serial('auto on Linux without a Secret Service: the 0600 file with a warning, never the kernel keyring', async (t) => {
  const { open, warnings, used } = await storeFor(t, 'auto', false);
  t.is((await open().backend()).name, 'file');
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /no keychain available; keeping tokens in .*tokens\.json \(mode 0600\)/);
  t.false(used.includes('default'), 'no entry was left to the binding’s own choice');
  t.false(used.includes('keyutils'));
  t.is((await open().backend()).name, 'file');
  t.is(warnings.length, 1, 'the warning comes once per user, not per connection');
});

test.serial('auto with a Secret Service: the keychain, pinned to the Secret Service', async (t) => {
  const { open, warnings, used } = await storeFor(t, 'auto', true);
  t.is((await open().backend()).name, 'keychain');
  t.deepEqual(warnings, []);
  t.true(used.length > 0 && used.every((s) => s === 'secret-service'), used.join(','));
});

test.serial('keychain required without a Secret Service: an error naming the choices', async (t) => {
  const { open } = await storeFor(t, 'keychain', false);
  await t.throwsAsync(open().backend(), { message: /no keychain is available .*"backend: file".*"backend: kernel-keyring" keeps tokens until reboot only/ });
});

test.serial('kernel-keyring only when asked for, and it says what that means, once', async (t) => {
  const { open, warnings, used } = await storeFor(t, 'kernel-keyring', false);
  const store = open();
  t.is((await store.backend()).name, 'kernel-keyring');
  t.true(used.length > 0 && used.every((s) => s === 'keyutils'), used.join(','));
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /Linux kernel keyring, which lives in memory: they are lost at reboot/);
  await open().backend();
  t.is(warnings.length, 1);
  const record = await store.save(
    { key: 'h@idp', fqdn: 'h', authUrl: 'https://idp', clientId: 'c', resourceServer: 'r', scope: 's', expiresAt: 0, hasRefresh: false, identity: null, idp: null, idpId: null, authTime: null, mfa: null },
    { accessToken: 'at', refreshToken: null },
  );
  t.is(record.backend, 'kernel-keyring');
  t.deepEqual(await store.secrets(record), { accessToken: 'at', refreshToken: null });
});

test.serial('a keychain token stored before entries were pinned (so in the kernel keyring) is still read, and logout removes it', async (t) => {
  const { open, kept } = await storeFor(t, 'file', false);
  kept.set('default/oauth-ssh/h@idp', JSON.stringify({ accessToken: 'old-at', refreshToken: 'old-rt' }));
  const store = open();
  const record = { key: 'h@idp', fqdn: 'h', authUrl: 'https://idp', clientId: 'c', resourceServer: 'r', scope: 's', expiresAt: 0, hasRefresh: true, identity: null, idp: null, idpId: null, authTime: null, mfa: null, backend: 'keychain' as const, updatedAt: 0 };
  t.deepEqual(await store.secrets(record), { accessToken: 'old-at', refreshToken: 'old-rt' });
  await store.remove(record);
  t.false(kept.has('default/oauth-ssh/h@idp'), 'the old entry is deleted');
});

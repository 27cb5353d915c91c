/**
 * Where access and refresh tokens live. The OS keychain through
 * @napi-rs/keyring (Secret Service on Linux, Keychain on macOS, Credential
 * Manager on Windows), or a 0600 JSON file in a 0700 directory when no
 * keychain is available. Both sit behind one small interface.
 */
import type { AsyncEntry } from '@napi-rs/keyring';
import { join } from 'node:path';
import { OAuthSshError, errorMessage } from '../../shared/errors.js';
import { dataDir } from '../paths.js';
import { JsonFile } from './json-file.js';

export interface Secrets {
  accessToken: string;
  refreshToken: string | null;
}

export interface SecretStore {
  readonly name: 'keychain' | 'kernel-keyring' | 'file';
  get(key: string): Promise<Secrets | null>;
  set(key: string, secrets: Secrets): Promise<void>;
  delete(key: string): Promise<void>;
}

/** How a store is named to a person: what it means for the tokens kept there. */
export function describeStore(name: SecretStore['name']): string {
  return name === 'kernel-keyring' ? 'kernel keyring (in memory: lost at reboot)' : name;
}

export class TokenStoreError extends OAuthSshError {
  constructor(message: string) {
    super('TOKEN_STORE', message);
  }
}

const SERVICE = 'oauth-ssh';

function parseSecrets(text: string | null): Secrets | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Partial<Secrets>;
    if (typeof v.accessToken === 'string') return { accessToken: v.accessToken, refreshToken: typeof v.refreshToken === 'string' ? v.refreshToken : null };
  } catch {
    // fall through: an unreadable entry is treated as absent (a fresh login replaces it)
  }
  return null;
}

/** The part of @napi-rs/keyring used here; injectable so that a test can stand in for a platform this machine is not. */
export type KeyringModule = Pick<typeof import('@napi-rs/keyring'), 'AsyncEntry'>;
const loadKeyring = (): Promise<KeyringModule> => import('@napi-rs/keyring');

/**
 * The OS keychain, or on request the Linux kernel keyring. Each entry is
 * pinned to its Linux store: left to itself the binding falls back from the
 * Secret Service to the kernel keyring without a word, and the kernel
 * keyring lives in memory, so tokens would vanish at reboot while `token
 * list` said "keychain". (The pin is ignored on macOS and Windows.)
 */
export class KeychainStore implements SecretStore {
  constructor(
    readonly name: 'keychain' | 'kernel-keyring' = 'keychain',
    /** The native module is loaded only when a keychain is actually used. */
    private readonly load: () => Promise<KeyringModule> = loadKeyring,
  ) {}

  private async entry(key: string): Promise<AsyncEntry> {
    const { AsyncEntry } = await this.load();
    return new AsyncEntry(SERVICE, key, { linux: { store: this.name === 'keychain' ? 'secret-service' : 'keyutils' } });
  }

  /**
   * True when the store keeps and returns a value. A read alone is not
   * enough: without a Secret Service some platforms read "no entry" happily
   * and only fail on write.
   */
  async available(): Promise<boolean> {
    try {
      // A name of its own: a kernel key left by another login session is
      // visible but not ours to update, and would fail the probe for good.
      const probe = await this.entry(`__probe__.${process.pid}`);
      await probe.setPassword('probe');
      const ok = (await probe.getPassword()) === 'probe';
      await probe.deletePassword();
      return ok;
    } catch {
      return false;
    }
  }

  private get label(): string {
    return this.name === 'keychain' ? 'the keychain' : 'the kernel keyring';
  }

  /**
   * Before entries were pinned, the binding chose the Linux store itself, so
   * a 'keychain' record may have its secret in the kernel keyring. Reading
   * and deleting look there too, so that such a token still works and
   * `logout` still removes it. (Unpinned means the Secret Service when there
   * is one: the same entry, never written through here.)
   */
  private async legacyEntry(key: string): Promise<AsyncEntry | null> {
    if (this.name !== 'keychain' || process.platform !== 'linux') return null;
    const { AsyncEntry } = await this.load();
    return new AsyncEntry(SERVICE, key);
  }

  async get(key: string): Promise<Secrets | null> {
    let failure: unknown;
    try {
      const found = parseSecrets(await (await this.entry(key)).getPassword());
      if (found) return found;
    } catch (err) {
      failure = err;
    }
    try {
      const legacy = await this.legacyEntry(key);
      const found = legacy && parseSecrets(await legacy.getPassword());
      if (found) return found;
    } catch {
      // no older entry either; report the pinned store's failure, if any
    }
    if (failure === undefined) return null;
    throw new TokenStoreError(`${this.label} could not be read: ${errorMessage(failure)}; set "backend: file" in the client config and log in again to use a file instead`);
  }

  async set(key: string, secrets: Secrets): Promise<void> {
    try {
      await (await this.entry(key)).setPassword(JSON.stringify(secrets));
    } catch (err) {
      throw new TokenStoreError(`${this.label} could not store the token: ${errorMessage(err)}`);
    }
  }

  async delete(key: string): Promise<void> {
    for (const entry of [() => this.entry(key), () => this.legacyEntry(key)]) {
      try {
        await (await entry())?.deletePassword();
      } catch {
        // already gone, or that store is not there
      }
    }
  }
}

export class FileStore implements SecretStore {
  readonly name = 'file' as const;
  private readonly file: JsonFile<Record<string, Secrets>>;

  constructor(path = join(dataDir(), 'tokens.json')) {
    this.file = new JsonFile(path, 'token file');
  }

  async get(key: string): Promise<Secrets | null> {
    const entry = this.file.read()[key];
    return entry ? parseSecrets(JSON.stringify(entry)) : null;
  }

  async set(key: string, secrets: Secrets): Promise<void> {
    await this.file.update((all) => ({ ...all, [key]: secrets }));
  }

  async delete(key: string): Promise<void> {
    await this.file.update((all) => {
      const { [key]: _gone, ...rest } = all;
      return rest;
    });
  }
}

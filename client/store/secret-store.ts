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
  readonly name: 'keychain' | 'file';
  get(key: string): Promise<Secrets | null>;
  set(key: string, secrets: Secrets): Promise<void>;
  delete(key: string): Promise<void>;
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

export class KeychainStore implements SecretStore {
  readonly name = 'keychain' as const;

  /** The native keyring module is loaded only when a keychain is actually used. */
  private static async entry(key: string): Promise<AsyncEntry> {
    const { AsyncEntry } = await import('@napi-rs/keyring');
    return new AsyncEntry(SERVICE, key);
  }

  private entry(key: string): Promise<AsyncEntry> {
    return KeychainStore.entry(key);
  }

  /**
   * True when a keychain stores and returns a value. A read alone is not
   * enough: without a Secret Service some platforms read "no entry" happily
   * and only fail on write.
   */
  static async available(): Promise<boolean> {
    try {
      const probe = await KeychainStore.entry('__probe__');
      await probe.setPassword('probe');
      const ok = (await probe.getPassword()) === 'probe';
      await probe.deletePassword();
      return ok;
    } catch {
      return false;
    }
  }

  async get(key: string): Promise<Secrets | null> {
    try {
      return parseSecrets(await (await this.entry(key)).getPassword());
    } catch (err) {
      throw new TokenStoreError(`the keychain could not be read: ${errorMessage(err)}; set "backend: file" in the client config to use a file instead`);
    }
  }

  async set(key: string, secrets: Secrets): Promise<void> {
    try {
      await (await this.entry(key)).setPassword(JSON.stringify(secrets));
    } catch (err) {
      throw new TokenStoreError(`the keychain could not store the token: ${errorMessage(err)}`);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await (await this.entry(key)).deletePassword();
    } catch {
      // already gone
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

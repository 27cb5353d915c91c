/**
 * Tokens per host: secrets (access and refresh token) in the chosen secret
 * store, and non-secret metadata (host, client, identity, IdP, expiry, auth
 * time) in a plain 0600 file, so that listing never unlocks a keychain.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../config.js';
import { dataDir, privateDir } from '../paths.js';
import { JsonFile } from './json-file.js';
import { FileStore, KeychainStore, TokenStoreError, type Secrets, type SecretStore } from './secret-store.js';

export interface HostRecord {
  key: string;
  fqdn: string;
  authUrl: string;
  clientId: string;
  /** The SSH service's client id (the token's resource server). */
  resourceServer: string;
  scope: string;
  expiresAt: number;
  identity: string | null;
  idp: string | null;
  idpId: string | null;
  authTime: number | null;
  mfa: boolean | null;
  hasRefresh: boolean;
  backend: SecretStore['name'];
  updatedAt: number;
}

export const hostKey = (authUrl: string, fqdn: string): string => `${fqdn}@${new URL(authUrl).host}`;

export class TokenStore {
  private readonly metadata = new JsonFile<Record<string, HostRecord>>(join(dataDir(), 'hosts.json'), 'host metadata file');
  private readonly stores: Record<SecretStore['name'], SecretStore>;

  private constructor(
    readonly backend: SecretStore,
    keychain: SecretStore,
    file: SecretStore,
  ) {
    this.stores = { keychain, file };
  }

  static async open(choice: Backend, warn: (m: string) => void = (m) => process.stderr.write(`oauth-ssh: ${m}\n`)): Promise<TokenStore> {
    const keychain = new KeychainStore();
    const file = new FileStore();
    if (choice === 'file') return new TokenStore(file, keychain, file);
    if (await KeychainStore.available()) return new TokenStore(keychain, keychain, file);
    if (choice === 'keychain') throw new TokenStoreError('no keychain is available (on Linux: no Secret Service on the session D-Bus); start one, or set "backend: file" in the client config');
    const marker = join(privateDir(dataDir()), '.file-backend-warned');
    if (!existsSync(marker)) {
      warn(`no keychain available; keeping tokens in ${join(dataDir(), 'tokens.json')} (mode 0600). Set "backend: file" in the client config to silence this.`);
      writeFileSync(marker, '', { mode: 0o600 });
    }
    return new TokenStore(file, keychain, file);
  }

  /** For reading metadata only (`token list`): touches no keychain, so it never prompts or fails on one. */
  static forListing(): TokenStore {
    const file = new FileStore();
    return new TokenStore(file, new KeychainStore(), file);
  }

  list(): HostRecord[] {
    return Object.values(this.metadata.read()).sort((a, b) => a.fqdn.localeCompare(b.fqdn));
  }

  record(key: string): HostRecord | null {
    return this.metadata.read()[key] ?? null;
  }

  async secrets(record: HostRecord): Promise<Secrets | null> {
    return this.stores[record.backend].get(record.key);
  }

  async save(record: Omit<HostRecord, 'backend' | 'updatedAt'>, secrets: Secrets): Promise<HostRecord> {
    const previous = this.record(record.key);
    await this.backend.set(record.key, secrets);
    if (previous && previous.backend !== this.backend.name) await this.stores[previous.backend].delete(record.key);
    const full: HostRecord = { ...record, backend: this.backend.name, updatedAt: Math.floor(Date.now() / 1000) };
    await this.metadata.update((all) => ({ ...all, [record.key]: full }));
    return full;
  }

  async remove(record: HostRecord): Promise<void> {
    await this.stores[record.backend].delete(record.key);
    await this.metadata.update((all) => {
      const { [record.key]: _gone, ...rest } = all;
      return rest;
    });
  }
}

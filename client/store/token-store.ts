/**
 * Tokens per host: secrets (access and refresh token) in the chosen secret
 * store, and non-secret metadata (host, client, identity, IdP, expiry, auth
 * time) in a plain 0600 file, so that listing never unlocks a keychain.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../config.js';
import { dataDir, privateDir } from '../paths.js';
import type { ServerStyle } from '../auth-server.js';
import type { LoginFacts } from '../id-token.js';
import { JsonFile } from './json-file.js';
import { FileStore, KeychainStore, TokenStoreError, type KeyringModule, type Secrets, type SecretStore } from './secret-store.js';

/** Which host a token is for: the authorization server, the CLI's client there, and the SSH service's client and scope. */
export interface HostTarget {
  key: string;
  fqdn: string;
  authUrl: string;
  clientId: string;
  /** The SSH service's client id (the token's resource server). */
  resourceServer: string;
  scope: string;
  /** Globus Auth, or a generic OIDC provider (then with its resource indicator). */
  style?: ServerStyle;
}

export interface HostRecord extends HostTarget, LoginFacts {
  expiresAt: number;
  hasRefresh: boolean;
  backend: SecretStore['name'];
  updatedAt: number;
}

/** A logout whose revocation the provider refused: the refresh token may still be valid there. No secret is kept. */
export interface UnrevokedNote {
  key: string;
  fqdn: string;
  authUrl: string;
  loggedOutAt: number;
  reason: string;
}

export const hostKey = (authUrl: string, fqdn: string): string => `${fqdn}@${new URL(authUrl).host}`;

export class TokenStore {
  private readonly metadata = new JsonFile<Record<string, HostRecord>>(join(dataDir(), 'hosts.json'), 'host metadata file');
  private readonly unrevokedNotes = new JsonFile<Record<string, UnrevokedNote>>(join(dataDir(), 'unrevoked.json'), 'unrevoked-logout notes file', 'notes about logouts the provider did not revoke are lost');
  private readonly stores: { keychain: KeychainStore; 'kernel-keyring': KeychainStore; file: FileStore };
  private chosen: Promise<SecretStore> | undefined;

  private constructor(
    private readonly choice: Backend,
    private readonly warn: (m: string) => void,
    loadKeyring?: () => Promise<KeyringModule>,
  ) {
    this.stores = { keychain: new KeychainStore('keychain', loadKeyring), 'kernel-keyring': new KeychainStore('kernel-keyring', loadKeyring), file: new FileStore() };
  }

  /**
   * Opening is free: reading a cached token uses the store its record names.
   * Which store new secrets go to is decided (keychain probe and all) by
   * `backend()`, on the first write or before a login starts.
   */
  static open(choice: Backend, warn: (m: string) => void = (m) => process.stderr.write(`oauth-ssh: ${m}\n`), loadKeyring?: () => Promise<KeyringModule>): TokenStore {
    return new TokenStore(choice, warn, loadKeyring);
  }

  /** For reading metadata only (`token list`): touches no keychain, so it never prompts or fails on one. */
  static forListing(): TokenStore {
    return new TokenStore('file', () => {});
  }

  backend(): Promise<SecretStore> {
    this.chosen ??= this.decide();
    return this.chosen;
  }

  private async decide(): Promise<SecretStore> {
    if (this.choice === 'file') return this.stores.file;
    if (this.choice === 'kernel-keyring') {
      if (!(await this.stores['kernel-keyring'].available())) throw new TokenStoreError('the Linux kernel keyring is not available here (keyctl refused); set "backend: file" in the client config');
      this.warnOnce('.kernel-keyring-warned', 'tokens are kept in the Linux kernel keyring, which lives in memory: they are lost at reboot, and you log in again then. For tokens that last, use "backend: auto" with a Secret Service (gnome-keyring, KWallet, KeePassXC) or "backend: file".');
      return this.stores['kernel-keyring'];
    }
    if (await this.stores.keychain.available()) return this.stores.keychain;
    if (this.choice === 'keychain') throw new TokenStoreError('no keychain is available (on Linux: no Secret Service on the session D-Bus); start one, or set "backend: file" in the client config ("backend: kernel-keyring" keeps tokens until reboot only)');
    this.warnOnce('.file-backend-warned', `no keychain available; keeping tokens in ${join(dataDir(), 'tokens.json')} (mode 0600). Set "backend: file" in the client config to silence this.`);
    return this.stores.file;
  }

  /** A warning that is said once per user, not on every connection. */
  private warnOnce(markerName: string, message: string): void {
    const marker = join(privateDir(dataDir()), markerName);
    if (existsSync(marker)) return;
    this.warn(message);
    writeFileSync(marker, '', { mode: 0o600 });
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
    const backend = await this.backend();
    await backend.set(record.key, secrets);
    if (previous && previous.backend !== backend.name) await this.stores[previous.backend].delete(record.key);
    const full: HostRecord = { ...record, backend: backend.name, updatedAt: Math.floor(Date.now() / 1000) };
    await this.metadata.update((all) => ({ ...all, [record.key]: full }));
    return full;
  }

  /** The access token stopped working before its time (revoked): the next use refreshes or logs in. */
  async markExpired(key: string): Promise<void> {
    await this.metadata.update((all) => (all[key] ? { ...all, [key]: { ...all[key]!, expiresAt: 0 } } : all));
  }

  /** Logouts the provider did not revoke, so that `token list` can say so. */
  unrevoked(): UnrevokedNote[] {
    return Object.values(this.unrevokedNotes.read()).sort((a, b) => a.fqdn.localeCompare(b.fqdn));
  }

  async noteUnrevoked(record: HostRecord, reason: string): Promise<void> {
    const note: UnrevokedNote = { key: record.key, fqdn: record.fqdn, authUrl: record.authUrl, loggedOutAt: Math.floor(Date.now() / 1000), reason };
    await this.unrevokedNotes.update((all) => ({ ...all, [record.key]: note }));
  }

  /** True when there was a note to drop. */
  async dropUnrevoked(key: string): Promise<boolean> {
    let had = false;
    await this.unrevokedNotes.update((all) => {
      had = key in all;
      const { [key]: _gone, ...rest } = all;
      return rest;
    });
    return had;
  }

  async remove(record: HostRecord): Promise<void> {
    await this.stores[record.backend].delete(record.key);
    await this.metadata.update((all) => {
      const { [record.key]: _gone, ...rest } = all;
      return rest;
    });
  }
}

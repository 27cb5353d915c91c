/**
 * Local accounts through NSS (`getent passwd`), so LDAP/SSSD users count as
 * they do for sshd. Names are validated first, so nothing user-supplied can
 * become an option. Results are cached briefly: a login asks for few names.
 */
import { execFile } from 'node:child_process';
import { TtlCache } from '../shared/ttl-cache.js';

export interface LocalAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export const ACCOUNT_NAME = /^[a-z_][a-z0-9_.-]{0,31}\$?$/i;
const CACHE_MS = 30_000;
const cache = new TtlCache<LocalAccount | null>(1000);

export type AccountLookup = (name: string) => Promise<LocalAccount | null>;

export const lookupAccount: AccountLookup = async (name) => {
  if (!ACCOUNT_NAME.test(name)) return null;
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const line = await new Promise<string | null>((resolve, reject) => {
    execFile('getent', ['passwd', '--', name], { timeout: 5000 }, (err, stdout) => {
      // getent exits 2 for "not found"; anything else is a real failure (fail closed).
      if (err && (err as { code?: unknown }).code === 2) resolve(null);
      else if (err) reject(new Error(`getent passwd failed: ${err.message}`));
      else resolve(stdout.split('\n')[0] ?? null);
    });
  });
  const fields = line?.split(':');
  const account = fields && fields.length >= 7 && fields[0] === name
    ? { name, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5]!, shell: fields[6]! }
    : null;
  cache.set(name, account, Date.now() + CACHE_MS);
  return account;
};

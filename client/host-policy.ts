/**
 * A host's session policy as the client sees it: asked in-band
 * (get_security_policy), cached per host for `policy_cache_ttl` seconds, and
 * compared with what we know of our login, so that a login too old or from
 * the wrong identity provider is renewed before a doomed connection.
 */
import { join } from 'node:path';
import { errorMessage } from '../shared/errors.js';
import { NotAskedError, queryHost } from './in-band.js';
import { dataDir } from './paths.js';
import type { SshArgs } from './ssh-args.js';
import type { ResolvedDestination } from './ssh-resolve.js';
import { JsonFile } from './store/json-file.js';
import type { HostRecord } from './store/token-store.js';

export interface HostPolicy {
  permittedIdps: string[];
  /** Minutes, or null. */
  authenticationTimeout: number | null;
  mfa: boolean;
}

export function parsePolicy(reply: Record<string, unknown>): HostPolicy {
  const p = (reply.policy ?? {}) as { permitted_idps?: unknown; authentication_timeout?: unknown; mfa?: unknown };
  return {
    permittedIdps: Array.isArray(p.permitted_idps) ? p.permitted_idps.filter((x): x is string => typeof x === 'string').map((x) => x.toLowerCase()) : [],
    authenticationTimeout: typeof p.authentication_timeout === 'number' && p.authentication_timeout > 0 ? p.authentication_timeout : null,
    mfa: p.mfa === true,
  };
}

export type PolicyVerdict = { ok: true } | { ok: false; reason: string; idp?: string };

/** Does the cached login meet the host's policy? Unknown facts count as meeting it: the server has the last word. */
export function loginMeetsPolicy(record: HostRecord, policy: HostPolicy, now = Date.now() / 1000): PolicyVerdict {
  if (policy.permittedIdps.length > 0) {
    const domain = record.identity?.split('@').slice(1).join('@').toLowerCase();
    const known = record.idpId !== null || domain !== undefined;
    const matches = (record.idpId !== null && policy.permittedIdps.includes(record.idpId.toLowerCase())) || (domain !== undefined && policy.permittedIdps.includes(domain));
    if (known && !matches) {
      const hint = policy.permittedIdps.find((p) => p.includes('.'));
      return { ok: false, reason: `the host accepts logins only from ${policy.permittedIdps.join(', ')}`, ...(hint ? { idp: hint } : {}) };
    }
  }
  if (policy.authenticationTimeout !== null && record.authTime !== null && now - record.authTime > policy.authenticationTimeout * 60) {
    return { ok: false, reason: `the host requires a login within the last ${policy.authenticationTimeout} min` };
  }
  if (policy.mfa && record.mfa === false) return { ok: false, reason: 'the host requires multi-factor authentication' };
  return { ok: true };
}

/** A host that did not answer is remembered too (policy null), so it is not asked again on every connection. */
const cacheFile = () => new JsonFile<Record<string, { policy: HostPolicy | null; fetchedAt: number }>>(join(dataDir(), 'policies.json'), 'policy cache', 'host policies are asked for again');

/** The host's policy, from the cache while fresh; null when the host does not answer (the server decides then). */
export async function hostPolicy(args: SshArgs, resolved: ResolvedDestination, key: string, queryAccount: string, ttl: number, warn: (m: string) => void): Promise<HostPolicy | null> {
  const file = cacheFile();
  const cached = file.read()[key];
  if (cached && Date.now() / 1000 - cached.fetchedAt < ttl) return cached.policy;
  let policy: HostPolicy | null = null;
  try {
    policy = parsePolicy(await queryHost(args, resolved, queryAccount, 'get_security_policy'));
  } catch (err) {
    warn(`oauth-ssh: could not ask ${resolved.hostname} for its login policy (${errorMessage(err)}); connecting anyway`);
    // A refused host key or a network failure says nothing about the host's policy: ask again next time.
    if (err instanceof NotAskedError) return null;
  }
  await file.update((all) => ({ ...all, [key]: { policy, fetchedAt: Math.floor(Date.now() / 1000) } }));
  return policy;
}

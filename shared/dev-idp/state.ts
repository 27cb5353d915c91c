/**
 * The dev IdP's mutable state, in memory: login sessions, pending
 * authorization requests, codes, tokens and device authorizations.
 * Secrets (codes, tokens, device codes) are keyed by their SHA-256 so the
 * raw values live only in the responses that hand them out.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { secretHash } from '../secret-hash.js';

export interface Authentication {
  idp: string;
  /** Epoch seconds. */
  authTime: number;
  amr: string[];
}

/** A login session: which identities authenticated, where, when, how. */
export interface Session {
  id: string;
  /** Primary identity of the account the session belongs to. */
  sub: string;
  authentications: Map<string, Authentication>;
  /** The identity that authenticated most recently. */
  lastIdentity: string;
}

export interface AuthorizationRequest {
  id: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | undefined;
  nonce: string | undefined;
  codeChallenge: string | undefined;
  offline: boolean;
  forceLogin: boolean;
  requiredIdentities: string[];
  createdAt: number;
}

export interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string | undefined;
  nonce: string | undefined;
  offline: boolean;
  sessionId: string;
  expiresAt: number;
  used: boolean;
  /** Families issued from this code, revoked if the code is replayed (RFC 6749 4.1.2). */
  families: string[];
}

export interface IssuedToken {
  kind: 'access' | 'refresh';
  clientId: string;
  resourceServer: string;
  scopes: string[];
  sessionId: string;
  sub: string;
  issuedAt: number;
  expiresAt: number;
  /** Tokens from one original grant share a family; revoking or replaying revokes the family. */
  family: string;
  offline: boolean;
  revoked: boolean;
}

export type DeviceStatus = 'pending' | 'approved' | 'denied' | 'consumed';

export interface DeviceAuthorization {
  userCode: string;
  clientId: string;
  scopes: string[];
  offline: boolean;
  createdAt: number;
  expiresAt: number;
  interval: number;
  lastPolledAt: number | undefined;
  status: DeviceStatus;
  sessionId: string | undefined;
}

/** How to answer the next logins without a browser (tests, demo). */
export interface AutoApproval {
  identity: string;
  mfa: boolean;
  authAge: number;
}

/** A configured misbehaviour for requests whose path starts with `pathPrefix`. */
export interface Fault {
  pathPrefix: string;
  /** Match the path exactly instead of by prefix. */
  exact: boolean;
  status: number;
  retryAfter: number | undefined;
  delayMs: number;
  remaining: number;
  body: string | undefined;
  /** The body's content type (text/plain unless given: a provider's error page). */
  contentType: string;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Opaque, dot-free (so never mistaken for a JWT), 256 bits. */
export const newSecret = (): string => randomBytes(32).toString('base64url');

const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ'; // RFC 8628 6.1: no vowels, no ambiguous characters

export function newUserCode(): string {
  const bytes = randomBytes(8);
  let code = '';
  for (let i = 0; i < 8; i++) code += USER_CODE_ALPHABET[bytes[i]! % USER_CODE_ALPHABET.length];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

export function normalizeUserCode(input: string): string {
  const letters = input.toUpperCase().replace(/[^A-Z]/g, '');
  return letters.length === 8 ? `${letters.slice(0, 4)}-${letters.slice(4)}` : letters;
}

export class DevIdpState {
  readonly sessions = new Map<string, Session>();
  readonly authorizationRequests = new Map<string, AuthorizationRequest>();
  readonly codes = new Map<string, AuthorizationCode>();
  readonly tokens = new Map<string, IssuedToken>();
  readonly devices = new Map<string, DeviceAuthorization>();
  readonly deviceByUserCode = new Map<string, string>();
  autoApproval: AutoApproval | undefined;
  faults: Fault[] = [];
  /** Requests held by a delay fault right now, and the most at once: tests see concurrency as a count, not a time. */
  delayedNow = 0;
  delayedMost = 0;

  newSession(sub: string, identityId: string, auth: Authentication): Session {
    const session: Session = { id: randomUUID(), sub, authentications: new Map([[identityId, auth]]), lastIdentity: identityId };
    this.sessions.set(session.id, session);
    return session;
  }

  session(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  storeCode(code: string, data: AuthorizationCode): void {
    this.codes.set(secretHash(code), data);
  }

  code(code: string): AuthorizationCode | undefined {
    return this.codes.get(secretHash(code));
  }

  storeToken(token: string, data: IssuedToken): void {
    this.tokens.set(secretHash(token), data);
  }

  token(token: string): IssuedToken | undefined {
    return this.tokens.get(secretHash(token));
  }

  revokeFamily(family: string): void {
    for (const t of this.tokens.values()) if (t.family === family) t.revoked = true;
  }

  storeDevice(deviceCode: string, data: DeviceAuthorization): void {
    const key = secretHash(deviceCode);
    this.devices.set(key, data);
    this.deviceByUserCode.set(data.userCode, key);
  }

  device(deviceCode: string): DeviceAuthorization | undefined {
    return this.devices.get(secretHash(deviceCode));
  }

  deviceByCode(userCode: string): DeviceAuthorization | undefined {
    const key = this.deviceByUserCode.get(normalizeUserCode(userCode));
    return key === undefined ? undefined : this.devices.get(key);
  }

  /** Drops what can no longer be used, so a long-running demo does not grow without bound. */
  sweep(now = nowSeconds()): void {
    for (const [k, c] of this.codes) if (c.expiresAt < now - 3600) this.codes.delete(k);
    for (const [k, t] of this.tokens) if (t.expiresAt < now - 3600) this.tokens.delete(k);
    for (const [k, d] of this.devices) {
      if (d.expiresAt < now - 3600) {
        this.devices.delete(k);
        this.deviceByUserCode.delete(d.userCode);
      }
    }
    for (const [k, r] of this.authorizationRequests) if (r.createdAt < now - 3600) this.authorizationRequests.delete(k);
  }
}

/**
 * A token issuer for JWT tests: discovery and JWKS on a loopback port, keys
 * it can rotate, and tokens with any claims — including the bad ones no real
 * issuer would mint (alg none, HS256 signed with the public key as the
 * secret, foreign keys). Only for those faults; the rest of the product is
 * tested against real providers.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { Teardown } from './teardown.js';

export interface JwtIssuer {
  issuer: string;
  mint(claims: Record<string, unknown>, options?: { expiresIn?: number; key?: 'current' | 'foreign' }): Promise<string>;
  rotate(): Promise<void>;
  unsignedToken(claims: Record<string, unknown>): string;
  hs256WithPublicKey(claims: Record<string, unknown>): Promise<string>;
  jwksRequests(): number;
  /** Stops answering (an issuer outage). */
  stop(): Promise<void>;
  /** What GET /admin/v1/Me (Oracle IDCS's SCIM "me") answers for a bearer token's sub. */
  setMe(sub: string, body: Record<string, unknown>): void;
  meRequests(): number;
}

async function newKey(): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid: `k${Date.now()}${Math.random().toString(36).slice(2, 6)}`, alg: 'ES256', use: 'sig' } };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export async function startJwtIssuer(t: Teardown): Promise<JwtIssuer> {
  let key = await newKey();
  const foreign = await newKey();
  let jwksHits = 0;
  let meHits = 0;
  const me = new Map<string, Record<string, unknown>>();
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks` }));
    } else if (req.url === '/jwks') {
      jwksHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.jwk] }));
    } else if (req.url === '/admin/v1/Me') {
      meHits++;
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const sub = token ? String(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString() || '{}').sub) : '';
      const body = me.get(sub);
      if (body) res.writeHead(200, { 'content-type': 'application/scim+json' }).end(JSON.stringify(body));
      else res.writeHead(401).end();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const now = () => Math.floor(Date.now() / 1000);
  return {
    issuer,
    async mint(claims, options = {}) {
      const k = options.key === 'foreign' ? foreign : key;
      return new SignJWT({ iss: issuer, iat: now(), exp: now() + (options.expiresIn ?? 600), ...claims }).setProtectedHeader({ alg: 'ES256', kid: k.jwk.kid!, typ: 'JWT' }).sign(k.privateKey);
    },
    async rotate() {
      key = await newKey();
    },
    unsignedToken(claims) {
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: issuer, iat: now(), exp: now() + 600, ...claims })}.`;
    },
    async hs256WithPublicKey(claims) {
      const secret = new TextEncoder().encode(JSON.stringify(key.jwk));
      return new SignJWT({ iss: issuer, iat: now(), exp: now() + 600, ...claims }).setProtectedHeader({ alg: 'HS256', kid: key.jwk.kid! }).sign(secret);
    },
    jwksRequests: () => jwksHits,
    setMe: (sub, body) => void me.set(sub, body),
    meRequests: () => meHits,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The dev IdP in-process on a free loopback port, with a standard test
 * directory (two IdPs, users with linked identities, an SSH service client
 * and the CLI's public client) and typed wrappers for its control API.
 */
import type { Teardown } from './teardown.js';
import { parseDevIdpConfig, type DevIdpConfig } from '../../shared/dev-idp/config.js';
import { startDevIdp, type RunningDevIdp } from '../../shared/dev-idp/server.js';

export const IDS = {
  idpUniversity: 'f081479c-26e7-43a1-8731-0b7d90e9e808',
  idpLab: 'e602e893-228d-42ef-afd0-0c68428e4f8b',
  alice: '45290100-050a-4fed-ac7f-36a3eb655210',
  aliceLab: 'ea8003d5-abb8-43b4-b980-d71c535b3eb9',
  bob: '90ce990d-4138-44bd-9c49-11ab9376134d',
  sshService: '864f1f73-da90-4bcd-9a1c-30d9feb10907',
  cli: '5d5bdb54-44c4-4a2f-8ec9-46effb994ff3',
  otherService: '3f543ede-09d4-4f22-ad45-302206ebe4d0',
} as const;

export const SSH_SERVICE_SECRET = 'test-ssh-service-secret';
export const SSH_FQDN = 'ssh.example.org';

export function testIdpDocument(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    lifetimes: { device_interval: 1 },
    identity_providers: [
      { id: IDS.idpUniversity, name: 'Example University', domains: ['example.org'] },
      { id: IDS.idpLab, name: 'Example Lab', domains: ['lab.example.net'] },
    ],
    users: [
      {
        identities: [
          { id: IDS.alice, username: 'alice@example.org', idp: 'example.org', name: 'Alice Example', email: 'alice@example.org' },
          { id: IDS.aliceLab, username: 'alice@lab.example.net', idp: 'lab.example.net', name: 'Alice Example' },
        ],
      },
      { identities: [{ id: IDS.bob, username: 'bob@example.org', idp: 'example.org', name: 'Bob Example' }] },
    ],
    clients: [
      { id: IDS.sshService, name: 'SSH service', secret: SSH_SERVICE_SECRET, fqdns: [SSH_FQDN], grant_types: ['urn:ietf:params:oauth:grant-type:device_code'] },
      { id: IDS.otherService, name: 'Other SSH service', secret: 'other-secret', fqdns: ['other.example.org'] },
      {
        id: IDS.cli,
        name: 'oauth-ssh CLI',
        redirect_uris: ['http://127.0.0.1/callback'],
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      },
    ],
    ...overrides,
  };
}

export interface TestIdp extends RunningDevIdp {
  control(method: string, path: string, body?: unknown): Promise<unknown>;
}

export async function startTestIdp(t: Teardown, config: DevIdpConfig = parseDevIdpConfig(testIdpDocument())): Promise<TestIdp> {
  const idp = await startDevIdp({ config, control: true });
  t.teardown(() => idp.close());
  return {
    ...idp,
    async control(method, path, body) {
      const res = await fetch(`${idp.url}/_dev/${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    },
  };
}

export interface TokenOptions {
  scope?: string;
  mfa?: boolean;
  authAge?: number;
}

/** An access token for `identity` through the device flow, approved through the control API. */
export async function tokenFor(idp: TestIdp, identity: string, options: TokenOptions = {}): Promise<string> {
  const form = (body: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
  const scope = options.scope ?? `https://auth.globus.org/scopes/${SSH_FQDN}/ssh`;
  const device = (await (await fetch(`${idp.url}/v2/oauth2/device_authorization`, form({ client_id: IDS.cli, scope }))).json()) as { device_code: string; user_code: string };
  await idp.control('POST', `devices/${device.user_code}/approve`, { identity, mfa: options.mfa ?? false, auth_age: options.authAge ?? 0 });
  const tokens = (await (await fetch(`${idp.url}/v2/oauth2/token`, form({ client_id: IDS.cli, grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code }))).json()) as { access_token?: string; error?: string };
  if (!tokens.access_token) throw new Error(`no token: ${tokens.error}`);
  return tokens.access_token;
}

/**
 * A real, certified OpenID Provider (oidc-provider from npm) on a free
 * loopback port, for the generic OIDC paths. Accounts and clients come from
 * the test; the device flow, introspection and revocation are on. Tests act
 * as the human through `approveDevice`/`denyDevice`, which record the same
 * grant and authentication facts that the provider's own device pages do.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Teardown } from './teardown.js';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';

export interface OidcAccount {
  id: string;
  claims: Record<string, unknown>;
}

export interface OidcProviderOptions {
  clients: ClientMetadata[];
  accounts: OidcAccount[];
  /** Merged over the defaults below. */
  configuration?: Partial<Configuration>;
}

/**
 * RFC 8707 with one resource server, the SSH host: every token is for it,
 * with these scopes, in this format (a JWT or an opaque, introspected token).
 */
export function sshResourceServer(audience: string, scope: () => string, accessTokenFormat: 'jwt' | 'opaque') {
  return {
    enabled: true,
    defaultResource: () => audience,
    useGrantedResource: () => true,
    getResourceServerInfo: () => ({ scope: scope(), audience, accessTokenFormat }),
  };
}

export interface DeviceApproval {
  accountId: string;
  /** Scopes of the requested resource (RFC 8707) the user grants, e.g. `ssh:/alice`. */
  resourceScope?: string;
  acr?: string;
  amr?: string[];
  /** Seconds since the user authenticated. */
  authAge?: number;
}

export interface RunningOidcProvider {
  issuer: string;
  provider: Provider;
  approveDevice(userCode: string, approval: DeviceApproval): Promise<void>;
  denyDevice(userCode: string): Promise<void>;
}

export async function startOidcProvider(t: Teardown, options: OidcProviderOptions): Promise<RunningOidcProvider> {
  const accounts = new Map(options.accounts.map((a) => [a.id, a]));
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: options.clients,
    findAccount: (_ctx, id) => {
      const account = accounts.get(id);
      return account && { accountId: id, claims: () => ({ sub: id, ...account.claims }) };
    },
    acrValues: ['urn:mace:incommon:iap:silver', 'https://refeds.org/profile/sfa', 'https://refeds.org/profile/mfa'],
    claims: {
      acr: null,
      amr: null,
      auth_time: null,
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
      posix: ['uidNumber', 'gidNumber'],
    },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    pkce: { required: () => true },
    ttl: { AccessToken: 3600, DeviceCode: 600, IdToken: 3600, RefreshToken: 86400, Grant: 86400 },
    ...options.configuration,
  });
  server.on('request', provider.callback());

  async function pendingDeviceCode(userCode: string) {
    const code = await provider.DeviceCode.findByUserCode(userCode.replace(/[^A-Za-z0-9]/g, '').toUpperCase());
    if (!code || code.accountId || code.error) throw new Error(`no pending device authorization for ${userCode}`);
    return code;
  }

  return {
    issuer,
    provider,
    async approveDevice(userCode, approval) {
      const code = await pendingDeviceCode(userCode);
      // What the user approves is what the device asked for (the provider keeps it in params until then).
      const scope = String((code.params as { scope?: string } | undefined)?.scope ?? 'openid');
      const grant = new provider.Grant({ accountId: approval.accountId, clientId: code.clientId });
      grant.addOIDCScope(scope);
      const resource = (code.params as { resource?: string } | undefined)?.resource;
      if (resource && approval.resourceScope) grant.addResourceScope(resource, approval.resourceScope);
      grant.addOIDCClaims(['acr', 'amr', 'auth_time']);
      const grantId = await grant.save();
      Object.assign(code, {
        accountId: approval.accountId,
        acr: approval.acr,
        amr: approval.amr,
        authTime: Math.floor(Date.now() / 1000) - (approval.authAge ?? 0),
        grantId,
        scope,
        ...(resource && approval.resourceScope ? { resource } : {}),
        // What the provider's pages record when the client asks for these claims.
        claims: { id_token: { acr: null, amr: null, auth_time: null } },
      });
      await code.save();
    },
    async denyDevice(userCode) {
      const code = await pendingDeviceCode(userCode);
      Object.assign(code, { error: 'access_denied', errorDescription: 'the user denied the request' });
      await code.save();
    },
  };
}

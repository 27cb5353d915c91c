/**
 * Access tokens from a real oidc-provider configured as a site would
 * configure Keycloak: tokens for this SSH host's audience (RFC 8707
 * resource), as JWTs or opaque (then introspected), carrying the claims the
 * admin maps in (preferred_username, groups, uidNumber, email) and the login
 * facts (auth_time, acr, amr) the provider recorded at approval. The test
 * acts as the user through the device flow of the CLI's public client.
 */
import * as oidc from 'openid-client';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { sshResourceServer, startOidcProvider, type RunningOidcProvider } from './oidc-provider.js';
import type { Teardown } from './teardown.js';

export const SSH_AUDIENCE = 'https://ssh.example.org';
export const CLI_CLIENT = 'oauth-ssh-cli';
export const SERVER_CLIENT = 'ssh-server';
export const SERVER_SECRET = 'introspection-secret-0123456789abcdef';
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';

/** What one login of one person looks like. */
export interface LoginFacts {
  /** The provider's account (sub). */
  accountId: string;
  /** Claims the admin's mappers put into the token. */
  claims?: Record<string, unknown>;
  mfa?: boolean;
  /** Seconds since the user authenticated. */
  authAge?: number;
  /** Scope values asked for and granted for the SSH host (e.g. `ssh`, `ssh:/alice`). */
  scope?: string;
}

export interface OidcTokenSource {
  op: RunningOidcProvider;
  issuer: string;
  /** An access token for these facts. */
  token(facts: LoginFacts): Promise<string>;
}

export async function startOidcTokenSource(t: Teardown, format: 'jwt' | 'opaque', accountIds: string[]): Promise<OidcTokenSource> {
  const pending = new Map<string, Record<string, unknown>>();
  const normal = (userCode: string) => userCode.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
  // The SSH host's resource server offers every scope a test asks for (ssh, ssh:/USER, ...).
  const offered = new Set(['openid', 'ssh']);
  const op = await startOidcProvider(t, {
    clients: [
      { client_id: CLI_CLIENT, token_endpoint_auth_method: 'none', grant_types: [DEVICE], redirect_uris: [], response_types: [] },
      { client_id: SERVER_CLIENT, client_secret: SERVER_SECRET, grant_types: [DEVICE], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' },
    ],
    accounts: accountIds.map((id) => ({ id, claims: {} })),
    configuration: {
      features: {
        devInteractions: { enabled: false },
        deviceFlow: { enabled: true },
        introspection: { enabled: true },
        revocation: { enabled: true },
        resourceIndicators: sshResourceServer(SSH_AUDIENCE, () => [...offered].join(' '), format),
      },
      // The admin's mappers: the account's claims and the login's facts into the access token (and introspection).
      extraTokenClaims: (ctx: KoaContextWithOIDC) => {
        const code = ctx.oidc.entities.DeviceCode as unknown as { userCode?: string; authTime?: number; acr?: string; amr?: string[] } | undefined;
        const claims = (code?.userCode && pending.get(normal(code.userCode))) || {};
        return { ...claims, ...(code?.authTime ? { auth_time: code.authTime } : {}), ...(code?.acr ? { acr: code.acr } : {}), ...(code?.amr ? { amr: code.amr } : {}) };
      },
    },
  });
  const config = await oidc.discovery(new URL(op.issuer), CLI_CLIENT, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  return {
    op,
    issuer: op.issuer,
    async token(facts) {
      const scope = facts.scope ?? 'ssh';
      for (const word of scope.split(' ')) offered.add(word);
      const device = await oidc.initiateDeviceAuthorization(config, { scope: `openid ${scope}`, resource: SSH_AUDIENCE });
      pending.set(normal(device.user_code), facts.claims ?? {});
      await op.approveDevice(device.user_code, {
        accountId: facts.accountId,
        resourceScope: scope,
        acr: facts.mfa ? 'https://refeds.org/profile/mfa' : 'https://refeds.org/profile/sfa',
        amr: facts.mfa ? ['pwd', 'otp', 'mfa'] : ['pwd'],
        authAge: facts.authAge ?? 0,
      });
      return (await oidc.pollDeviceAuthorizationGrant(config, { ...device, interval: 0.05 } as typeof device, { resource: SSH_AUDIENCE })).access_token;
    },
  };
}

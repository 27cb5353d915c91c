/** OIDC discovery (and its RFC 8414 twin) and the JWKS. */
import type { DevIdpContext } from './context.js';
import { json, type Router } from './http.js';
import { VIEW_IDENTITIES } from './scopes.js';

export function discoveryDocument(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/v2/oauth2/authorize`,
    token_endpoint: `${issuer}/v2/oauth2/token`,
    device_authorization_endpoint: `${issuer}/v2/oauth2/device_authorization`,
    introspection_endpoint: `${issuer}/v2/oauth2/token/introspect`,
    revocation_endpoint: `${issuer}/v2/oauth2/token/revoke`,
    userinfo_endpoint: `${issuer}/v2/oauth2/userinfo`,
    jwks_uri: `${issuer}/jwk.json`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access', VIEW_IDENTITIES],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'amr', 'nonce', 'preferred_username', 'name', 'email', 'organization', 'identity_provider', 'identity_provider_display_name', 'identity_set', 'session_info'],
    prompt_values_supported: ['login'],
  };
}

export function addDiscoveryRoutes(router: Router, ctx: DevIdpContext): void {
  router
    .add('GET', '/.well-known/openid-configuration', () => json(200, discoveryDocument(ctx.issuer()), { 'cache-control': 'max-age=60' }))
    .add('GET', '/.well-known/oauth-authorization-server', () => json(200, discoveryDocument(ctx.issuer()), { 'cache-control': 'max-age=60' }))
    .add('GET', '/jwk.json', () => json(200, { keys: [ctx.signer.publicJwk] }, { 'cache-control': 'max-age=60' }));
}

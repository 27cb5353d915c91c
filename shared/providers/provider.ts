/**
 * What the server's policy and mapping code knows about a token, whatever
 * the authorization server behind it: a verified Principal. Each provider
 * (Globus introspection, a JWT issuer, RFC 7662 at an OIDC provider) is a
 * thin client that turns a token into one, or throws InvalidTokenError /
 * ProviderUnavailableError. Policy and mapping read only this shape, so
 * nothing downstream branches on which provider produced it.
 */

export interface IdentityProviderInfo {
  /** Globus: the IdP's UUID; OIDC: the issuer URL. */
  id: string;
  name: string;
  /** Lower-case domains of the IdP's usernames (OIDC: the issuer's host). */
  domains: string[];
}

/** An identity linked to the token's account (Globus: identities_set; OIDC: the one subject). */
export interface LinkedIdentity {
  /** Globus identity UUID, or the OIDC `sub`. */
  id: string;
  /** Globus `user@idp.domain`; OIDC `sub@issuer` (stable; the human name is Principal.displayName). */
  username: string;
  idp: IdentityProviderInfo | null;
}

/**
 * One authentication in the token's session. `null` means the provider did
 * not say (Glewlwyd sends no auth_time, amr or acr), which a policy that needs
 * the fact must refuse, naming the missing claim.
 */
export interface Authentication {
  identityId: string;
  idp: IdentityProviderInfo | null;
  /** Epoch seconds. */
  authTime: number | null;
  amr: string[] | null;
  acr: string | null;
}

export type ProviderKind = 'globus' | 'oidc' | 'scitokens';

export interface Principal {
  /** Short SHA-256 prefix of the token, for logs. */
  tokenHash: string;
  /** The configured provider that verified the token. */
  provider: { kind: ProviderKind; issuer: string; name: string };
  subject: string;
  /** How to name the person in messages: a human claim when there is one (never trusted for mapping). */
  displayName: string;
  /** The audit identity: stable, e.g. `sub@issuer` or the Globus username. */
  auditIdentity: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  identities: LinkedIdentity[];
  authentications: Authentication[];
  /** Group names the provider reports; null when it reports none (Globus introspection). */
  groups: string[] | null;
  /** The POSIX uid the provider vouches for (token claim or userinfo); null when it says none. */
  posixUid: number | null;
  /** Claims present in a form this host cannot read (auth_time as a string...): refusals name them as such. */
  unreadableClaims: string[];
  /** The verified claims that OIDC mapping rules read; {} for Globus. */
  claims: Record<string, unknown>;
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** RFC 8628, from the server's side: for plain ssh clients, the login happens on another device. */
export interface DeviceAuthorizationInfo {
  /** Secret: never logged or shown. */
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | null;
  expiresIn: number;
  interval: number;
}

export type DevicePoll =
  | { status: 'pending' }
  | { status: 'slow_down' }
  | { status: 'approved'; accessToken: string }
  | { status: 'denied' }
  | { status: 'expired' };

export interface DeviceFlowProvider {
  /** `user` is the account the login is for (a provider may put it in the requested scope). */
  startDeviceAuthorization(user: string): Promise<DeviceAuthorizationInfo>;
  pollDevice(deviceCode: string): Promise<DevicePoll>;
}

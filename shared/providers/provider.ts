/**
 * What the server's policy and mapping code needs to know about a token,
 * whatever the authorization server behind it (Globus Auth today; generic
 * OIDC next). Providers produce a VerifiedToken or throw InvalidTokenError /
 * ProviderUnavailableError; nothing downstream branches on the provider.
 */

export interface IdentityProviderInfo {
  id: string;
  name: string;
  /** Lower-case domains of the IdP's usernames. */
  domains: string[];
}

/** An identity linked to the token's account. */
export interface LinkedIdentity {
  id: string;
  /** user@idp.domain */
  username: string;
  idp: IdentityProviderInfo | null;
}

/** One authentication in the token's session. */
export interface SessionAuthentication {
  identityId: string;
  idp: IdentityProviderInfo | null;
  /** Epoch seconds. */
  authTime: number;
  amr: string[];
}

export interface VerifiedToken {
  /** Short SHA-256 prefix of the token, for logs. */
  tokenHash: string;
  /** Primary identity id (Globus `sub`). */
  subject: string;
  username: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  identities: LinkedIdentity[];
  authentications: SessionAuthentication[];
}

export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
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

/**
 * How the dev IdP shows identities, identity providers and sessions on the
 * wire, in Globus Auth's shapes. One place, so introspection, userinfo,
 * id_tokens and the identities API never disagree.
 */
import type { Identity, IdentityProvider } from './config.js';
import type { Directory } from './directory.js';
import type { Session } from './state.js';

export interface IdentityView {
  id: string;
  username: string;
  status: 'used' | 'unused';
  identity_type: 'login';
  identity_provider: string | null;
  name: string | null;
  email: string | null;
  organization: string | null;
}

export function identityView(identity: Identity): IdentityView {
  return {
    id: identity.id,
    username: identity.username,
    status: 'used',
    identity_type: 'login',
    identity_provider: identity.idp,
    name: identity.name,
    email: identity.email,
    organization: identity.organization,
  };
}

export function identityProviderView(idp: IdentityProvider) {
  return { id: idp.id, name: idp.name, short_name: idp.domains[0] ?? idp.name, domains: idp.domains, alternative_names: [] };
}

export function sessionInfoView(session: Session) {
  const authentications: Record<string, { idp: string; auth_time: number; amr: string[] }> = {};
  for (const [identityId, auth] of session.authentications) {
    authentications[identityId] = { idp: auth.idp, auth_time: auth.authTime, amr: auth.amr };
  }
  return { session_id: session.id, authentications };
}

/** OIDC claims of the account (primary identity) plus its linked identity set. */
export function accountClaims(directory: Directory, session: Session) {
  const found = directory.identity(session.sub);
  if (!found) throw new Error(`session ${session.id} refers to unknown identity ${session.sub}`);
  const primary = found.identity;
  const idp = directory.idp(primary.idp);
  return {
    sub: primary.id,
    preferred_username: primary.username,
    name: primary.name,
    email: primary.email,
    organization: primary.organization,
    identity_provider: idp.id,
    identity_provider_display_name: idp.name,
    identity_set: found.user.identities.map((i) => ({
      sub: i.id,
      username: i.username,
      name: i.name,
      email: i.email,
      identity_provider: i.idp,
      identity_provider_display_name: directory.idp(i.idp).name,
      organization: i.organization,
      last_authentication: session.authentications.get(i.id)?.authTime ?? null,
    })),
  };
}

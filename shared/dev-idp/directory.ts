/**
 * Read-only look-ups over the configured users, identities, identity
 * providers and clients. Everything here is static for the life of the server.
 */
import type { Client, DevIdpConfig, Identity, IdentityProvider, User } from './config.js';

export class Directory {
  private readonly identities = new Map<string, { identity: Identity; user: User }>();
  private readonly idps = new Map<string, IdentityProvider>();
  private readonly clients = new Map<string, Client>();

  constructor(readonly config: DevIdpConfig) {
    for (const idp of config.identityProviders) this.idps.set(idp.id, idp);
    for (const user of config.users) {
      for (const identity of user.identities) {
        this.identities.set(identity.id, { identity, user });
        this.identities.set(identity.username.toLowerCase(), { identity, user });
      }
    }
    for (const client of config.clients) this.clients.set(client.id, client);
  }

  /** By identity UUID or username (case-insensitive). */
  identity(key: string): { identity: Identity; user: User } | undefined {
    return this.identities.get(key.toLowerCase());
  }

  idp(id: string): IdentityProvider {
    const idp = this.idps.get(id);
    // Config validation guarantees every identity's idp exists.
    if (!idp) throw new Error(`identity provider ${id} missing from a validated config`);
    return idp;
  }

  client(id: string): Client | undefined {
    return this.clients.get(id.toLowerCase());
  }

  clientsByFqdn(fqdn: string): Client[] {
    const wanted = fqdn.toLowerCase().replace(/\.$/, '');
    return this.config.clients.filter((c) => c.fqdns.includes(wanted));
  }

  allIdentities(): Array<{ identity: Identity; user: User }> {
    return this.config.users.flatMap((user) => user.identities.map((identity) => ({ identity, user })));
  }

  primaryIdentity(user: User): Identity {
    return user.identities[0]!;
  }
}

/**
 * JWT access tokens (SciTokens and OIDC providers' JWTs): a token containing
 * "." is verified locally (JwtVerifier). Its `scope` may name the accounts it
 * may log in as (SciTokens: `ssh:/USER` or `ssh:USER` for one account, a bare
 * `ssh` for any; names match whole, `ssh:/jd` never grants `jdoe`), or its
 * claims may (jwt-identity.ts: username claim, map files, with the uid rule).
 * Claims policy (groups, auth age, acr/amr) applies to every token. The
 * account must exist and pass the same UID floor / allow_accounts /
 * query-account rules as every other login.
 */
import { InvalidAccountError, InvalidTokenError, ProviderUnavailableError, errorMessage } from '../shared/errors.js';
import type { VerifiedJwt } from '../shared/providers/jwt-verifier.js';
import { secretHashPrefix } from '../shared/secret-hash.js';
import { sanitizeForTerminal } from '../shared/sanitize.js';
import { accountUsable, type MappingRules } from './accounts.js';
import { accountsFromClaims, checkClaimsPolicy, claimAt, identityRulesSet, uidMatches, type JwtIdentityRules } from './jwt-identity.js';
import { failure, type Decision } from './decide.js';
import type { AccountLookup } from './passwd.js';

export interface ScopeGrant {
  anyUser: boolean;
  users: Set<string>;
}

export function sshUsersFromScope(scope: unknown): ScopeGrant {
  const grant: ScopeGrant = { anyUser: false, users: new Set() };
  const words = typeof scope === 'string' ? scope.split(/\s+/) : Array.isArray(scope) ? scope.filter((w): w is string => typeof w === 'string') : [];
  for (const word of words) {
    if (word === 'ssh' || word === 'ssh:' || word === 'ssh:/') grant.anyUser = true;
    const m = /^ssh:\/?([a-z_][a-z0-9_.-]*\$?)$/i.exec(word);
    if (m) grant.users.add(m[1]!);
  }
  return grant;
}

export interface ClaimsVerifier {
  verify(token: string): Promise<VerifiedJwt>;
}

export interface SciTokenContext {
  verifier: ClaimsVerifier;
  /** Opaque tokens of a generic provider, by RFC 7662 introspection (when configured). */
  opaque?: ClaimsVerifier;
  rules: MappingRules;
  identity: JwtIdentityRules;
  httpTimeout: number;
  lookup: AccountLookup;
  host: () => Promise<string>;
}

/** The provider's view of the user, asked with the token itself (IDCS: /admin/v1/Me with the POSIX extension). */
async function fetchUserinfo(url: string, token: string, timeoutSeconds: number): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json, application/scim+json' }, signal: AbortSignal.timeout(timeoutSeconds * 1000) });
  } catch (err) {
    throw new ProviderUnavailableError(`cannot reach ${new URL(url).origin} for the user's attributes: ${errorMessage(err)}`);
  }
  const body = (await res.json().catch(() => null)) as unknown;
  if (!res.ok || typeof body !== 'object' || body === null || Array.isArray(body)) throw new ProviderUnavailableError(`${new URL(url).origin} answered HTTP ${res.status} for the user's attributes`);
  return body as Record<string, unknown>;
}

export async function decideSciToken(ctx: SciTokenContext, rawToken: string, requestedUser: string): Promise<Decision> {
  const host = await ctx.host().catch(() => 'this-host');
  try {
    const claims = await (rawToken.includes('.') || !ctx.opaque ? ctx.verifier : ctx.opaque).verify(rawToken);
    const identity = `${claims.sub}@${claims.iss}`;
    const trace = [{ step: 'verify' as const, ok: true, detail: `JWT from ${claims.iss} for ${claims.sub}` }];
    // Host policy from the claims (groups, authentication age, acr/amr) applies to every JWT.
    checkClaimsPolicy(claims, ctx.identity);
    const grant = sshUsersFromScope(claims.scope ?? claims.scp);
    const byScope = grant.anyUser || grant.users.has(requestedUser);
    // Claims name accounts only when the admin opted in (jwt_username_claim): map files written for
    // Globus usernames must not silently apply to another issuer's claims.
    const named = identityRulesSet(ctx.identity) ? accountsFromClaims(claims, ctx.identity, ctx.rules.accountMap) : [];
    if (!byScope && !named.includes(requestedUser)) {
      throw new InvalidAccountError(
        named.length
          ? `${sanitizeForTerminal(identity)} may not log in as ${sanitizeForTerminal(requestedUser)} on this host; permitted: ${named.map((n) => sanitizeForTerminal(n)).join(', ')}`
          : `the token (${sanitizeForTerminal(identity)}) grants no ssh login as ${sanitizeForTerminal(requestedUser)}; it needs the scope ssh:/${sanitizeForTerminal(requestedUser)}`,
      );
    }
    const account = (await accountUsable(requestedUser, ctx.rules, ctx.lookup)) ? await ctx.lookup(requestedUser) : null;
    if (!account) throw new InvalidAccountError(`${sanitizeForTerminal(requestedUser)} cannot log in on this host with a token`);
    const needUserinfo = !byScope && ctx.identity.uidClaim !== null && ctx.identity.userinfoUrl !== null && claimAt(claims, ctx.identity.uidClaim) === undefined;
    const userinfo = needUserinfo ? await fetchUserinfo(ctx.identity.userinfoUrl!, rawToken, ctx.httpTimeout) : {};
    if (!byScope && !uidMatches(claims, ctx.identity, account, userinfo)) {
      throw new InvalidAccountError(`the uid in the token does not match ${sanitizeForTerminal(requestedUser)}'s uid on this host`);
    }
    const token = { tokenHash: secretHashPrefix(rawToken), subject: claims.sub, username: identity, clientId: String(claims.client_id ?? ''), scopes: [], expiresAt: claims.exp ?? 0, identities: [], authentications: [] };
    const how = byScope ? 'scope' : 'claims';
    return { result: 'SUCCESS', code: 'OK', reason: `login as ${requestedUser} via JWT ${identity} (${how})`, userMessage: '', token, trace: [...trace, { step: 'user', ok: true, detail: `the token's ${how} grant ${requestedUser}` }] };
  } catch (err) {
    const f = failure(err instanceof Error ? err : new InvalidTokenError(errorMessage(err)), host);
    return { ...f, trace: [{ step: 'verify', ok: false, detail: f.reason }] };
  }
}

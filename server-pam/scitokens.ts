/**
 * SciTokens (and JWT access tokens under the same rules): a token containing
 * "." is verified locally (JwtVerifier), and its `scope` names the accounts it
 * may log in as: `ssh:/USER` or `ssh:USER` for one account, a bare `ssh` for
 * any. Names match whole (`ssh:/jd` never grants `jdoe`). The account must
 * exist and pass the same UID floor / allow_accounts / query-account rules as
 * every other login.
 */
import { InvalidAccountError, InvalidTokenError, errorMessage } from '../shared/errors.js';
import type { JwtVerifier } from '../shared/providers/jwt-verifier.js';
import { secretHashPrefix } from '../shared/secret-hash.js';
import { sanitizeForTerminal } from '../shared/sanitize.js';
import { accountUsable, type MappingRules } from './accounts.js';
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

export interface SciTokenContext {
  verifier: JwtVerifier;
  rules: MappingRules;
  lookup: AccountLookup;
  host: () => Promise<string>;
}

export async function decideSciToken(ctx: SciTokenContext, rawToken: string, requestedUser: string): Promise<Decision> {
  const host = await ctx.host().catch(() => 'this-host');
  try {
    const claims = await ctx.verifier.verify(rawToken);
    const identity = `${claims.sub}@${claims.iss}`;
    const trace = [{ step: 'verify' as const, ok: true, detail: `JWT from ${claims.iss} for ${claims.sub}` }];
    const grant = sshUsersFromScope(claims.scope ?? claims.scp);
    if (!grant.anyUser && !grant.users.has(requestedUser)) {
      throw new InvalidAccountError(`the token (${sanitizeForTerminal(identity)}) grants no ssh login as ${sanitizeForTerminal(requestedUser)}; it needs the scope ssh:/${sanitizeForTerminal(requestedUser)}`);
    }
    if (!(await accountUsable(requestedUser, ctx.rules, ctx.lookup))) {
      throw new InvalidAccountError(`${sanitizeForTerminal(requestedUser)} cannot log in on this host with a token`);
    }
    const token = { tokenHash: secretHashPrefix(rawToken), subject: claims.sub, username: identity, clientId: String(claims.client_id ?? ''), scopes: [], expiresAt: claims.exp ?? 0, identities: [], authentications: [] };
    return { result: 'SUCCESS', code: 'OK', reason: `login as ${requestedUser} via SciToken ${identity}`, userMessage: '', token, trace: [...trace, { step: 'user', ok: true, detail: `scope grants ${requestedUser}` }] };
  } catch (err) {
    const f = failure(err instanceof Error ? err : new InvalidTokenError(errorMessage(err)), host);
    return { ...f, trace: [{ step: 'verify', ok: false, detail: f.reason }] };
  }
}

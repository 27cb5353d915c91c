/**
 * The login decision, one step after another, each a function with typed
 * input and output: verify the token (introspection, validity, scope,
 * identities) -> session policy -> permitted accounts -> the requested user.
 * Every failure becomes a PAM result with a reason for the audit log and a
 * message the user can act on. Unexpected errors fail closed.
 */
import { InvalidAccountError, InvalidTokenError, OAuthSshError, ProviderUnavailableError, SessionViolationError, errorMessage } from '../shared/errors.js';
import type { SessionAuthentication, TokenVerifier, VerifiedToken } from '../shared/providers/provider.js';
import { sanitizeForTerminal } from '../shared/sanitize.js';
import { permittedAccounts, type MappedAccount, type MappingRules } from './accounts.js';
import type { AccountLookup } from './passwd.js';
import { checkSessionPolicy, type SessionPolicy } from './policy.js';
import type { PamResult } from './protocol.js';

export interface DecisionContext {
  verifier: TokenVerifier;
  policy: SessionPolicy;
  rules: MappingRules;
  lookup: AccountLookup;
  /** How users name this host, for advice like `oauth-ssh login HOST`. */
  host: () => Promise<string>;
}

export interface TraceStep {
  step: 'verify' | 'policy' | 'accounts' | 'user';
  ok: boolean;
  detail: string;
}

export interface Decision {
  result: PamResult;
  /** 'OK' or the error code: also the in-band reply's error code. */
  code: 'OK' | 'INVALID_TOKEN' | 'SESSION_VIOLATION' | 'INVALID_ACCOUNT' | 'UNEXPECTED_ERROR';
  reason: string;
  userMessage: string;
  token?: VerifiedToken;
  authentication?: SessionAuthentication;
  accounts?: MappedAccount[];
  trace: TraceStep[];
}

/** The one table from errors to PAM results and in-band codes. */
export function failure(err: unknown, host: string): Pick<Decision, 'result' | 'reason' | 'userMessage'> & { code: Exclude<Decision['code'], 'OK'> } {
  const reason = errorMessage(err);
  if (err instanceof ProviderUnavailableError) {
    return { result: 'AUTHINFO_UNAVAIL', code: 'UNEXPECTED_ERROR', reason, userMessage: 'oauth-ssh: the authorization server cannot be reached from this host right now; try again in a minute.' };
  }
  if (err instanceof InvalidTokenError) {
    return { result: 'AUTH_ERR', code: 'INVALID_TOKEN', reason, userMessage: `oauth-ssh: ${reason}: run \`oauth-ssh login ${host}\` to get a new token.` };
  }
  if (err instanceof SessionViolationError) return { result: 'AUTH_ERR', code: 'SESSION_VIOLATION', reason, userMessage: `oauth-ssh: ${reason}.` };
  if (err instanceof InvalidAccountError) return { result: 'USER_UNKNOWN', code: 'INVALID_ACCOUNT', reason, userMessage: `oauth-ssh: ${reason}.` };
  return {
    result: 'AUTHINFO_UNAVAIL',
    code: 'UNEXPECTED_ERROR',
    reason: err instanceof OAuthSshError ? reason : `unexpected error: ${reason}`,
    userMessage: 'oauth-ssh: the server could not check your login (internal error); ask the administrator to look at the oauth-ssh-server log.',
  };
}

/** Verify + map, without the session policy: what get_account_map answers. */
export async function accountsForToken(ctx: DecisionContext, token: VerifiedToken): Promise<MappedAccount[]> {
  return permittedAccounts(token.identities, ctx.rules, ctx.lookup);
}

export async function decideLogin(ctx: DecisionContext, rawToken: string, requestedUser: string): Promise<Decision> {
  const trace: TraceStep[] = [];
  const host = await ctx.host().catch(() => 'this-host');
  let token: VerifiedToken | undefined;
  let authentication: SessionAuthentication | undefined;
  let accounts: MappedAccount[] | undefined;
  try {
    token = await ctx.verifier.verify(rawToken);
    trace.push({ step: 'verify', ok: true, detail: `active token of ${token.username} (${token.identities.length} linked identities), scope ${token.scopes.join(' ')}` });

    authentication = checkSessionPolicy(token, ctx.policy, host);
    trace.push({ step: 'policy', ok: true, detail: authentication ? `satisfied by the login of identity ${authentication.identityId}` : 'no session policy set' });

    accounts = await accountsForToken(ctx, token);
    const names = accounts.map((a) => a.name);
    trace.push({ step: 'accounts', ok: accounts.length > 0, detail: names.length ? `may log in as ${names.join(', ')}` : 'no linked identity maps to a usable local account' });

    const match = accounts.find((a) => a.name === requestedUser);
    if (!match) {
      const identity = sanitizeForTerminal(token.username);
      throw new InvalidAccountError(
        names.length
          ? `${identity} may not log in as ${sanitizeForTerminal(requestedUser)} on this host; permitted: ${names.join(', ')}`
          : `${identity} maps to no local account on this host; ask the administrator to map one of your identities`,
      );
    }
    trace.push({ step: 'user', ok: true, detail: `${requestedUser} is permitted through ${match.identity.username}` });
    return { result: 'SUCCESS', code: 'OK', reason: `login as ${requestedUser} via ${match.identity.username}`, userMessage: '', token, authentication, accounts, trace };
  } catch (err) {
    const step: TraceStep['step'] = !token ? 'verify' : trace.length === 1 ? 'policy' : trace.length === 2 ? 'accounts' : 'user';
    if (trace.at(-1)?.step !== step) trace.push({ step, ok: false, detail: errorMessage(err) });
    else trace.at(-1)!.ok = false;
    return { ...failure(err, host), token, authentication, accounts, trace };
  }
}

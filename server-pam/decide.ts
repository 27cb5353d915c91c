/**
 * The one decision path, for every provider and every caller (logins,
 * get_account_map, `explain`):
 *   route by issuer -> provider.verify -> Principal -> session policy ->
 *   account mapper -> the requested user.
 * Each step is a function with a typed input and output; every failure
 * becomes a PAM result with a reason for the audit log and a message the
 * user can act on, worded for the path they came by. Unexpected errors fail
 * closed.
 */
import { InvalidAccountError, InvalidTokenError, OAuthSshError, ProviderUnavailableError, SessionViolationError, errorMessage } from '../shared/errors.js';
import type { Authentication, Principal } from '../shared/providers/provider.js';
import { secretHashPrefix } from '../shared/secret-hash.js';
import { sanitizeForTerminal } from '../shared/sanitize.js';
import { permittedAccounts, type AccountRules, type MappedAccount } from './accounts.js';
import type { AccountLookup } from './passwd.js';
import { checkSessionPolicy, type PolicyAdvice, type SessionPolicy } from './policy.js';
import type { PamResult } from './protocol.js';
import { routeToken, type ConfiguredProvider } from './providers.js';

export interface DecisionContext {
  providers: ConfiguredProvider[];
  policy: SessionPolicy;
  rules: AccountRules;
  lookup: AccountLookup;
  /** How users name this host, when known without a network call; null = unknown. */
  hostName: () => string | null;
  /** Counts provider calls (latency, failures) for operators. */
  metrics?: { providerCall(provider: string, seconds: number, failed: boolean): void };
}

/** How the user reached the prompt: through the oauth-ssh client (or a pasted token), or the server's device flow. */
export type LoginPath = 'token' | 'device';

export interface DecideOptions {
  path?: LoginPath;
  /** The provider that must judge the token (the device flow's issuer); otherwise the router picks. */
  judge?: ConfiguredProvider;
}

export interface TraceStep {
  step: 'route' | 'verify' | 'policy' | 'accounts' | 'user';
  ok: boolean;
  detail: string;
}

export type DecisionCode = 'OK' | 'INVALID_TOKEN' | 'SESSION_VIOLATION' | 'INVALID_ACCOUNT' | 'UNEXPECTED_ERROR';

export interface Decision {
  result: PamResult;
  /** 'OK' or the error code: also the in-band reply's error code. */
  code: DecisionCode;
  reason: string;
  userMessage: string;
  principal?: Principal;
  authentication?: Authentication;
  accounts?: MappedAccount[];
  trace: TraceStep[];
}

/** What to run, for the path the user came by. Never names a host we do not know they use. */
export interface Advice extends PolicyAdvice {
  newToken: string;
}

const GLOBUS_HOST_SCOPE = /^https:\/\/auth\.globus\.org\/scopes\/([^/]+)\/ssh$/;
const UUID = /^[0-9a-f-]{36}$/i;

export function adviceFor(path: LoginPath, host: string | null, principal?: Principal): Advice {
  if (path === 'device') {
    return { newToken: 'connect again to start a new login', freshLogin: 'sign out at your identity provider, connect again and sign in afresh' };
  }
  // A verified Globus token names the host the client asked for; that name works for the user.
  const fromToken = (Array.isArray(principal?.scopes) ? principal.scopes : []).map((s) => GLOBUS_HOST_SCOPE.exec(s)?.[1]).find((h) => h && !UUID.test(h));
  const name = sanitizeForTerminal(fromToken ?? host ?? '<host>', 120);
  return { newToken: `run \`oauth-ssh login ${name}\` to get a new token`, freshLogin: `run \`oauth-ssh login ${name} --force-login\`` };
}

/** The one table from errors to PAM results and in-band codes. */
export function failure(err: unknown, advice: Advice): Pick<Decision, 'result' | 'reason' | 'userMessage'> & { code: Exclude<DecisionCode, 'OK'> } {
  const reason = errorMessage(err);
  if (err instanceof ProviderUnavailableError) {
    return { result: 'AUTHINFO_UNAVAIL', code: 'UNEXPECTED_ERROR', reason, userMessage: 'oauth-ssh: the authorization server cannot be reached from this host right now; try again in a minute.' };
  }
  if (err instanceof InvalidTokenError) return { result: 'AUTH_ERR', code: 'INVALID_TOKEN', reason, userMessage: `oauth-ssh: ${reason}: ${advice.newToken}.` };
  if (err instanceof SessionViolationError) return { result: 'AUTH_ERR', code: 'SESSION_VIOLATION', reason, userMessage: `oauth-ssh: ${reason}.` };
  if (err instanceof InvalidAccountError) return { result: 'USER_UNKNOWN', code: 'INVALID_ACCOUNT', reason, userMessage: `oauth-ssh: ${reason}.` };
  return {
    result: 'AUTHINFO_UNAVAIL',
    code: 'UNEXPECTED_ERROR',
    reason: err instanceof OAuthSshError ? reason : `unexpected error: ${reason}`,
    userMessage: 'oauth-ssh: the server could not check your login (internal error); ask the administrator to look at the oauth-ssh-server log.',
  };
}

/** Route, verify, policy, map: what get_account_map answers and a login builds on. Throws the step's error. */
async function principalAndAccounts(ctx: DecisionContext, rawToken: string, options: DecideOptions, trace: TraceStep[], out: Partial<Decision>): Promise<MappedAccount[]> {
  const provider = options.judge ?? routeToken(ctx.providers, rawToken);
  trace.push({ step: 'route', ok: true, detail: `${options.judge ? 'the device flow\'s provider' : 'judged by'} ${provider.name} (${provider.kind})` });
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  const principal = await provider.verifier.verify(rawToken).catch((err: unknown) => {
    ctx.metrics?.providerCall(provider.name, seconds(), err instanceof ProviderUnavailableError);
    throw err;
  });
  ctx.metrics?.providerCall(provider.name, seconds(), false);
  out.principal = principal;
  trace.push({ step: 'verify', ok: true, detail: `active token of ${principal.displayName} (${principal.auditIdentity}; ${principal.identities.length} linked identities), scope ${principal.scopes.join(' ') || '-'}` });

  out.authentication = checkSessionPolicy(principal, ctx.policy, adviceFor(options.path ?? 'token', ctx.hostName(), principal));
  const a = out.authentication;
  trace.push({ step: 'policy', ok: true, detail: a ? `satisfied by the login of ${a.identityId} at ${a.idp?.name ?? '?'}` : 'no session policy set' });

  const accounts = await permittedAccounts(principal, provider.profile, ctx.rules, ctx.lookup);
  out.accounts = accounts;
  const names = accounts.map((m) => `${m.name} (${m.via})`);
  trace.push({ step: 'accounts', ok: accounts.length > 0, detail: names.length ? `may log in as ${names.join(', ')}` : 'no mapping rule gives a usable local account' });
  return accounts;
}

/** An unexpected error's text goes to the audit log: never with the token in it, whatever a library put there. */
function redacted(err: unknown, rawToken: string): unknown {
  if (err instanceof OAuthSshError || rawToken.length < 8) return err;
  const text = errorMessage(err);
  return text.includes(rawToken) ? new Error(text.replaceAll(rawToken, `<token ${secretHashPrefix(rawToken)}>`)) : err;
}

function failed(err: unknown, trace: TraceStep[], out: Partial<Decision>, advice: Advice): Decision {
  // The step that threw is the one after the last that passed, unless it already recorded its failure.
  const order: TraceStep['step'][] = ['route', 'verify', 'policy', 'accounts', 'user'];
  if (trace.at(-1)?.ok !== false) trace.push({ step: order[Math.min(trace.length, order.length - 1)]!, ok: false, detail: errorMessage(err) });
  return { ...failure(err, advice), ...out, trace };
}

/** get_account_map: the accounts this token may log in as, after the session policy (GO answers SESSION_VIOLATION first). */
export async function decideAccounts(ctx: DecisionContext, rawToken: string, options: DecideOptions = {}): Promise<Decision> {
  const trace: TraceStep[] = [];
  const out: Partial<Decision> = {};
  try {
    const accounts = await principalAndAccounts(ctx, rawToken, options, trace, out);
    return { result: 'MAXTRIES', code: 'OK', reason: 'answered', userMessage: '', ...out, accounts, trace };
  } catch (err) {
    return failed(redacted(err, rawToken), trace, out, adviceFor(options.path ?? 'token', ctx.hostName(), out.principal));
  }
}

export async function decideLogin(ctx: DecisionContext, rawToken: string, requestedUser: string, options: DecideOptions = {}): Promise<Decision> {
  const trace: TraceStep[] = [];
  const out: Partial<Decision> = {};
  try {
    const accounts = await principalAndAccounts(ctx, rawToken, options, trace, out);
    const principal = out.principal!;
    const match = accounts.find((a) => a.name === requestedUser);
    if (!match) {
      const who = sanitizeForTerminal(principal.displayName);
      const user = sanitizeForTerminal(requestedUser);
      trace.push({ step: 'user', ok: false, detail: `${requestedUser} is not among them` });
      // The same words whether the account is missing or not given to them: no probing for accounts.
      throw new InvalidAccountError(
        accounts.length
          ? `${who} may not log in as ${user} on this host (no such account for your identity, or not permitted); permitted: ${accounts.map((a) => sanitizeForTerminal(a.name)).join(', ')}`
          : `${who} maps to no local account on this host; ask the administrator to map one of your identities`,
      );
    }
    trace.push({ step: 'user', ok: true, detail: `${requestedUser} is permitted through ${match.identity.username} (${match.via})` });
    return { result: 'SUCCESS', code: 'OK', reason: `login as ${requestedUser} via ${principal.auditIdentity} (${principal.provider.name}, ${match.via})`, userMessage: '', ...out, accounts, trace };
  } catch (err) {
    return failed(redacted(err, rawToken), trace, out, adviceFor(options.path ?? 'token', ctx.hostName(), out.principal));
  }
}

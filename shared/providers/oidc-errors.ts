/**
 * Reading the errors of openid-client (and oauth4webapi under it) at our
 * provider boundary. openid-client wraps whatever the fetch throws ("something
 * went wrong", cause: our error), so the stack's ProviderUnavailableError is
 * dug out of the cause chain and passed on as it is; the rest is read for
 * the HTTP status and the OAuth `error` code, which callers turn into their
 * own messages. Bodies and descriptions are not copied into messages.
 */
import { ProviderUnavailableError } from '../errors.js';

/** The stack's own error, if one is anywhere in the cause chain. */
export function providerUnavailableIn(err: unknown): ProviderUnavailableError | undefined {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ProviderUnavailableError) return e;
  }
  return undefined;
}

/** The HTTP status of a refused request: ResponseBodyError / WWWAuthenticateChallengeError carry it, other errors have the Response as cause. */
export function httpStatusOf(err: unknown): number | undefined {
  const e = err as { status?: unknown; cause?: unknown };
  if (typeof e?.status === 'number') return e.status;
  const cause = e?.cause as { status?: unknown } | undefined;
  return cause instanceof Response && typeof cause.status === 'number' ? cause.status : undefined;
}

/** The OAuth `error` code of an error answer (RFC 6749 §5.2), e.g. authorization_pending. */
export function oauthErrorOf(err: unknown): string | undefined {
  const error = (err as { error?: unknown })?.error;
  return typeof error === 'string' ? error : undefined;
}

/** A short reason for a message: "HTTP 400, invalid_request", or openid-client's own wording of a check that failed. */
export function reasonOf(err: unknown): string {
  const status = httpStatusOf(err);
  const error = oauthErrorOf(err);
  if (status !== undefined) return `HTTP ${status}${error ? `, ${error}` : ''}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Any failure of an openid-client call as a ProviderUnavailableError: the
 * stack's own one, or `describe(reason)`. For callers whose every failure
 * is an outage.
 */
export function asProviderUnavailable(err: unknown, describe: (reason: string) => string): ProviderUnavailableError {
  return providerUnavailableIn(err) ?? new ProviderUnavailableError(describe(reasonOf(err)), { cause: err });
}

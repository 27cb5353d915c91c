/**
 * Every failure the product reports is an OAuthSshError with a stable code.
 * The CLI maps codes to exit statuses and the daemon maps them to PAM codes,
 * each in one table; messages say what was expected and what to do.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_UNREADABLE'
  | 'USAGE'
  | 'INTERNAL'
  | 'PROTOCOL'
  | 'PROVIDER_UNAVAILABLE'
  | 'INVALID_TOKEN'
  | 'SESSION_VIOLATION'
  | 'INVALID_ACCOUNT'
  | 'UNKNOWN_COMMAND'
  | 'REGISTRATION_FAILED'
  | 'LOGIN_FAILED'
  | 'HOST_NOT_REGISTERED'
  | 'NOT_LOGGED_IN'
  | 'TOKEN_STORE';

export class OAuthSshError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration file that cannot be used: names the file, line when known, and the fix. */
export class ConfigError extends OAuthSshError {
  readonly file: string;
  readonly line: number | undefined;

  constructor(file: string, message: string, line?: number) {
    super('CONFIG_INVALID', line === undefined ? `${file}: ${message}` : `${file}:${line}: ${message}`);
    this.file = file;
    this.line = line;
  }
}

/** Bad command-line input. */
export class UsageError extends OAuthSshError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The authorization server could not be reached, timed out, rate-limited us, or answered garbage or 5xx. */
export class ProviderUnavailableError extends OAuthSshError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PROVIDER_UNAVAILABLE', message, options);
  }
}

/** The token is not valid for this host: inactive, expired, not yet valid, or without this host's scope. */
export class InvalidTokenError extends OAuthSshError {
  constructor(message: string) {
    super('INVALID_TOKEN', message);
  }
}

/** The token is valid but its session breaks this host's policy (IdP, age, MFA). */
export class SessionViolationError extends OAuthSshError {
  constructor(message: string) {
    super('SESSION_VIOLATION', message);
  }
}

/** The identity maps to no usable local account, or not to the one requested. */
export class InvalidAccountError extends OAuthSshError {
  constructor(message: string) {
    super('INVALID_ACCOUNT', message);
  }
}

/**
 * Every failure the product reports is an OAuthSshError with a stable code.
 * The CLI maps codes to exit statuses and the daemon maps them to PAM codes,
 * each in one table; messages say what was expected and what to do.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_UNREADABLE'
  | 'USAGE'
  | 'INTERNAL';

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

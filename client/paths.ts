/** Where the client keeps things (XDG Base Directory spec), created 0700. */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

function base(variable: string, fallback: string): string {
  const value = process.env[variable];
  return value && value.startsWith('/') ? value : join(homedir(), fallback);
}

export const configDir = () => join(base('XDG_CONFIG_HOME', '.config'), 'oauth-ssh');
export const dataDir = () => join(base('XDG_DATA_HOME', '.local/share'), 'oauth-ssh');
export const stateDir = () => join(base('XDG_STATE_HOME', '.local/state'), 'oauth-ssh');

/** Creates `dir` (0700) if missing and returns it. */
export function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * The environment of every ssh this program starts itself (`ssh -G`, the
 * policy query, the connection). `oauth-ssh setup` hooks ssh_config with
 * `Match exec "<helper> ensure %h"`, and ssh evaluates that block even for
 * `ssh -G`: without this mark our own resolution would run our own hook,
 * which would start a login nobody sees (its stderr is our pipe). The helper
 * answers "yes, applies" at once when it sees the mark, before Node starts:
 * this process already holds, or is getting, the token itself.
 */
import { OAuthSshError } from '../shared/errors.js';

export const OWN_SSH_MARK = 'OAUTH_SSH_OWN_SSH';

export function ownSshEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra, [OWN_SSH_MARK]: '1' };
}

/** The ssh to run: OAUTH_SSH_SSH (a wrapper, another build), else `ssh` from PATH. */
export const sshProgram = (): string => process.env.OAUTH_SSH_SSH || 'ssh';

/** A spawn failure as a sentence: a missing ssh says what to install, not `spawn ssh ENOENT`. */
export function sshSpawnError(err: NodeJS.ErrnoException): OAuthSshError {
  const program = sshProgram();
  if (err.code === 'ENOENT') {
    return new OAuthSshError('INTERNAL', program === 'ssh' ? 'ssh was not found on PATH: install the OpenSSH client (Debian/Ubuntu: apt install openssh-client), or name it with OAUTH_SSH_SSH' : `OAUTH_SSH_SSH names ${program}, which does not exist`);
  }
  if (err.code === 'EACCES') return new OAuthSshError('INTERNAL', `${program} is not executable (${err.code})`);
  return new OAuthSshError('INTERNAL', `could not run ${program}: ${err.message}`);
}

/**
 * The environment of every ssh this program starts itself (`ssh -G`, the
 * policy query, the connection). `oauth-ssh setup` hooks ssh_config with
 * `Match exec "<helper> ensure %h"`, and ssh evaluates that block even for
 * `ssh -G`: without this mark our own resolution would run our own hook,
 * which would start a login nobody sees (its stderr is our pipe). The helper
 * answers "yes, applies" at once when it sees the mark, before Node starts:
 * this process already holds, or is getting, the token itself.
 */
export const OWN_SSH_MARK = 'OAUTH_SSH_OWN_SSH';

export function ownSshEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra, [OWN_SSH_MARK]: '1' };
}

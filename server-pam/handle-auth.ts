/**
 * One PAM authentication, from the bridge's request to its result: ask for
 * the token, tell a raw token from an in-band command, answer queries,
 * decide logins (all through decide.ts, whichever provider), tell the user
 * why when the answer is no, and audit it all.
 */
import { errorMessage, InvalidAccountError, InvalidTokenError } from '../shared/errors.js';
import type { DeviceFlowProvider } from '../shared/providers/provider.js';
import { sanitizeForTerminal } from '../shared/sanitize.js';
import type { AuditEvent, AuditSink } from './audit.js';
import { encodeReply, errorReply, parseAnswer } from './commands.js';
import { adviceFor, decideAccounts, decideLogin, failure, type Decision, type DecisionContext, type LoginPath } from './decide.js';
import { deviceLogin, type DeviceLoginOptions } from './device-login.js';
import { policyDescription } from './policy.js';
import type { PamConversation, PamRequest, PamResult } from './protocol.js';
import type { ConfiguredProvider } from './providers.js';
import { readTokenAnswer } from './token-answer.js';

/** The prompt existing Globus oauth-ssh clients answer. */
export const TOKEN_PROMPT = 'Enter your OAuth token: ';

/**
 * What sshd hands PAM instead of the user's answer when the user name does not
 * exist (OpenSSH auth-pam.c fake_password): "badpw" repeated to the length of
 * the real answer (measured), so whatever the client sent never arrives.
 */
const SSHD_BADPW = '\b\n\r\x7fINCORRECT';

export function isSshdInvalidUserAnswer(answer: string): boolean {
  if (answer.length === 0) return false;
  for (let i = 0; i < answer.length; i++) if (answer[i] !== SSHD_BADPW[i % SSHD_BADPW.length]) return false;
  return true;
}

export interface HandlerDeps {
  decision: DecisionContext;
  queryAccount: string;
  /** The Globus environment this daemon serves (a PAM line's environment= must agree); null without globus_auth. */
  environment: string | null;
  audit: AuditSink;
  /** Present when an empty answer may start a device login: the flow, and the provider that judges its tokens. */
  device?: { flow: DeviceFlowProvider; judge: ConfiguredProvider; options: DeviceLoginOptions };
}

function loginEvent(request: PamRequest, decision: Decision, op?: string): AuditEvent {
  const auth = decision.authentication ?? decision.principal?.authentications.at(0);
  const identity = decision.accounts?.find((a) => a.name === request.user)?.identity.username ?? decision.principal?.auditIdentity;
  return {
    event: 'login',
    ...(op ? { op } : {}),
    rhost: request.rhost,
    service: request.service,
    user: request.user,
    ...(identity ? { identity } : {}),
    ...(decision.principal ? { issuer: decision.principal.provider.issuer } : {}),
    ...(auth?.idp ? { idp: auth.idp.name } : {}),
    ...(auth?.authTime ? { auth_time: auth.authTime } : {}),
    ...(decision.principal ? { token: decision.principal.tokenHash } : {}),
    decision: decision.result,
    code: decision.code,
    reason: decision.reason,
  };
}

async function answerQuery(deps: HandlerDeps, request: PamRequest, conv: PamConversation, op: string, accessToken: string | undefined): Promise<PamResult> {
  const audit = (decision: string, reason: string, token?: string, code?: string) =>
    deps.audit({ event: 'query', op, rhost: request.rhost, service: request.service, user: request.user, ...(token ? { token } : {}), decision, ...(code ? { code } : {}), reason });
  if (op === 'get_security_policy') {
    const issuers = deps.decision.providers.map((p) => p.issuer);
    conv.info(encodeReply({ policy: policyDescription(deps.decision.policy, issuers) }));
    await audit('MAXTRIES', 'answered');
    return 'MAXTRIES';
  }
  if (op === 'get_account_map') {
    if (!accessToken) {
      const f = failure(new InvalidTokenError('get_account_map needs an access_token'), adviceFor('token', deps.decision.hostName()));
      conv.info(errorReply(f.code, f.reason));
      await audit(f.result, f.reason);
      return f.result;
    }
    const decision = await decideAccounts(deps.decision, accessToken);
    if (decision.code === 'OK') {
      conv.info(encodeReply({ account_map: { permitted_accounts: decision.accounts!.map((a) => a.name) } }));
      await audit('MAXTRIES', 'answered', decision.principal?.tokenHash);
      return 'MAXTRIES';
    }
    conv.info(errorReply(decision.code, decision.reason));
    await audit(decision.result, decision.reason, decision.principal?.tokenHash, decision.code);
    return decision.result;
  }
  conv.info(errorReply('UNKNOWN_COMMAND', `unknown command "${sanitizeForTerminal(op, 40)}"`));
  await audit('AUTHINFO_UNAVAIL', `unknown command ${JSON.stringify(op.slice(0, 40))}`);
  return 'AUTHINFO_UNAVAIL';
}

export async function handleAuthentication(deps: HandlerDeps, request: PamRequest, conv: PamConversation): Promise<PamResult> {
  /** Tells the user (an error message, or an in-band reply for our clients), audits, and returns the result. */
  const denied = async (result: PamResult, reason: string, tell: () => void, op?: string): Promise<PamResult> => {
    tell();
    await deps.audit({ event: 'login', ...(op ? { op } : {}), rhost: request.rhost, service: request.service, user: request.user, decision: result, reason });
    return result;
  };
  const say = (message: string) => () => conv.error(message);
  // GO's PAM lines name their Globus environment; a daemon serving another one must not judge those logins.
  if (request.environment !== undefined && request.environment !== deps.environment) {
    const serving = deps.environment ? `serves the ${deps.environment} environment` : 'has no globus_auth';
    return denied('AUTHINFO_UNAVAIL', `the PAM line names environment=${sanitizeForTerminal(request.environment, 40)}, but this oauth-ssh-server ${serving}`, say('oauth-ssh: this host\'s PAM and oauth-ssh-server configurations disagree (environment=); ask the administrator.'));
  }

  const answer = await conv.prompt(TOKEN_PROMPT, false);
  if (answer === undefined) return denied('AUTH_ERR', 'no answer to the token prompt', say('oauth-ssh: no token was given.'));
  if (isSshdInvalidUserAnswer(answer)) {
    // sshd replaced the answer: the user name does not exist. Say so without telling which (it could be a typo, or not theirs).
    const f = failure(new InvalidAccountError(`no local account ${sanitizeForTerminal(request.user)} for your identity, or you are not permitted to use it; check the user name`), adviceFor('token', null));
    return denied(f.result, 'sshd gave its invalid-user answer (no such account)', say(f.userMessage));
  }
  let whole: string;
  try {
    whole = await readTokenAnswer(conv, answer);
  } catch (err) {
    if (!(err instanceof InvalidTokenError)) throw err;
    return denied('AUTH_ERR', err.message, say(`oauth-ssh: ${err.message}.`));
  }
  const parsed = parseAnswer(whole);

  if (parsed.kind === 'command' && parsed.op !== 'login') return answerQuery(deps, request, conv, parsed.op, parsed.accessToken);
  if (request.user === deps.queryAccount) {
    return denied('AUTH_ERR', 'login attempt as the query account', say(`oauth-ssh: the account ${deps.queryAccount} only answers queries; log in as your own account.`));
  }
  if (parsed.kind === 'empty' && !deps.device) {
    return denied('AUTH_ERR', 'empty answer to the token prompt', say(`oauth-ssh: no token given. Connect with the oauth-ssh client (\`oauth-ssh ${sanitizeForTerminal(request.user)}@<host>\`), or paste a token from \`oauth-ssh token show <host>\`.`));
  }

  let token: string | undefined;
  const viaCommand = parsed.kind === 'command';
  const path: LoginPath = parsed.kind === 'empty' ? 'device' : 'token';
  const op = viaCommand ? 'login' : path === 'device' ? 'device' : undefined;
  if (parsed.kind === 'empty') {
    try {
      token = await deviceLogin(deps.device!.flow, conv, request.user, deps.device!.options);
    } catch (err) {
      const f = failure(err, adviceFor('device', null));
      return denied(f.result, f.reason, say(err instanceof InvalidTokenError ? `oauth-ssh: ${f.reason}.` : f.userMessage), 'device');
    }
  } else {
    token = viaCommand ? parsed.accessToken : parsed.token;
  }
  if (!token) return denied('AUTH_ERR', 'login command without access_token', () => conv.info(errorReply('INVALID_TOKEN', 'login needs an access_token')), 'login');
  let decision: Decision;
  try {
    decision = await decideLogin(deps.decision, token, request.user, { path, ...(path === 'device' ? { judge: deps.device!.judge } : {}) });
  } catch (err) {
    // decideLogin turns every error into a decision; this is the last guard of failing closed.
    return denied('AUTHINFO_UNAVAIL', `unexpected error: ${errorMessage(err)}`, say('oauth-ssh: internal error.'));
  }
  await deps.audit(loginEvent(request, decision, op));
  if (decision.result !== 'SUCCESS') {
    if (viaCommand && decision.code !== 'OK') conv.info(errorReply(decision.code, decision.reason));
    else conv.error(decision.userMessage);
  }
  return decision.result;
}

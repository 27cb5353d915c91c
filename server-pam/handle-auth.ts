/**
 * One PAM authentication, from the bridge's request to its result: ask for
 * the token, tell a raw token from an in-band command, answer queries,
 * decide logins, tell the user why when the answer is no, and audit it all.
 */
import { errorMessage, InvalidTokenError } from '../shared/errors.js';
import { sanitizeForTerminal } from '../shared/sanitize.js';
import type { AuditEvent, AuditSink } from './audit.js';
import { encodeReply, errorReply, parseAnswer } from './commands.js';
import { accountsForToken, decideLogin, failure, type Decision, type DecisionContext } from './decide.js';
import type { DeviceFlowProvider } from '../shared/providers/provider.js';
import { deviceLogin, type DeviceLoginOptions } from './device-login.js';
import type { SessionPolicy } from './policy.js';
import { decideSciToken, type SciTokenContext } from './scitokens.js';
import { readTokenAnswer } from './token-answer.js';
import type { PamConversation, PamRequest, PamResult } from './protocol.js';

/** The prompt existing Globus oauth-ssh clients answer. */
export const TOKEN_PROMPT = 'Enter your OAuth token: ';

export interface HandlerDeps {
  decision: DecisionContext;
  policy: SessionPolicy;
  queryAccount: string;
  audit: AuditSink;
  /** Present when an empty answer may start a device login. */
  device?: { provider: DeviceFlowProvider; options: DeviceLoginOptions };
  /** Present with auth_method scitokens: tokens containing "." are JWTs, verified locally. */
  scitokens?: SciTokenContext;
}

function loginEvent(request: PamRequest, decision: Decision, op?: string): AuditEvent {
  const auth = decision.authentication ?? decision.token?.authentications.at(0);
  const identity = decision.accounts?.find((a) => a.name === request.user)?.identity.username ?? decision.token?.username;
  return {
    event: 'login',
    ...(op ? { op } : {}),
    rhost: request.rhost,
    service: request.service,
    user: request.user,
    ...(identity ? { identity } : {}),
    ...(auth?.idp ? { idp: auth.idp.name } : {}),
    ...(auth ? { auth_time: auth.authTime } : {}),
    ...(decision.token ? { token: decision.token.tokenHash } : {}),
    decision: decision.result,
    reason: decision.reason,
  };
}

function policyReply(policy: SessionPolicy): string {
  return encodeReply({
    policy: {
      permitted_idps: policy.permittedIdps.length ? policy.permittedIdps : null,
      authentication_timeout: policy.authenticationTimeout,
      mfa: policy.mfa,
    },
  });
}

async function answerQuery(deps: HandlerDeps, request: PamRequest, conv: PamConversation, op: string, accessToken: string | undefined): Promise<PamResult> {
  const audit = (decision: string, reason: string, token?: string) =>
    deps.audit({ event: 'query', op, rhost: request.rhost, service: request.service, user: request.user, ...(token ? { token } : {}), decision, reason });
  if (op === 'get_security_policy') {
    conv.info(policyReply(deps.policy));
    await audit('MAXTRIES', 'answered');
    return 'MAXTRIES';
  }
  if (op === 'get_account_map') {
    const host = await deps.decision.host().catch(() => 'this-host');
    try {
      if (!accessToken) throw new InvalidTokenError('get_account_map needs an access_token');
      const token = await deps.decision.verifier.verify(accessToken);
      const accounts = await accountsForToken(deps.decision, token);
      conv.info(encodeReply({ account_map: { permitted_accounts: accounts.map((a) => a.name) } }));
      await audit('MAXTRIES', 'answered', token.tokenHash);
      return 'MAXTRIES';
    } catch (err) {
      const f = failure(err, host);
      conv.info(errorReply(f.code, f.reason));
      await audit(f.result, f.reason);
      return f.result;
    }
  }
  conv.info(errorReply('UNKNOWN_COMMAND', `unknown command "${sanitizeForTerminal(op, 40)}"`));
  await audit('AUTHINFO_UNAVAIL', `unknown command ${JSON.stringify(op.slice(0, 40))}`);
  return 'AUTHINFO_UNAVAIL';
}

export async function handleAuthentication(deps: HandlerDeps, request: PamRequest, conv: PamConversation): Promise<PamResult> {
  const answer = await conv.prompt(TOKEN_PROMPT, false);
  /** Tells the user (an error message, or an in-band reply for our clients), audits, and returns the result. */
  const denied = async (result: PamResult, reason: string, tell: () => void, op?: string): Promise<PamResult> => {
    tell();
    await deps.audit({ event: 'login', ...(op ? { op } : {}), rhost: request.rhost, service: request.service, user: request.user, decision: result, reason });
    return result;
  };
  const say = (message: string) => () => conv.error(message);
  if (answer === undefined) return denied('AUTH_ERR', 'no answer to the token prompt', say('oauth-ssh: no token was given.'));
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
    const host = await deps.decision.host().catch(() => 'this-host');
    return denied('AUTH_ERR', 'empty answer to the token prompt', say(`oauth-ssh: no token given. Connect with \`oauth-ssh ${request.user}@${host}\`, or paste a token from \`oauth-ssh token show ${host}\`.`));
  }

  let token: string | undefined;
  const viaCommand = parsed.kind === 'command';
  const op = viaCommand ? 'login' : parsed.kind === 'empty' ? 'device' : undefined;
  if (parsed.kind === 'empty') {
    try {
      token = await deviceLogin(deps.device!.provider, conv, request.user, deps.device!.options);
    } catch (err) {
      const f = failure(err, await deps.decision.host().catch(() => 'this-host'));
      return denied(f.result, f.reason, say(err instanceof InvalidTokenError ? `oauth-ssh: ${f.reason}.` : f.userMessage), 'device');
    }
  } else {
    token = viaCommand ? parsed.accessToken : parsed.token;
  }
  if (!token) return denied('AUTH_ERR', 'login command without access_token', () => conv.info(errorReply('INVALID_TOKEN', 'login needs an access_token')), 'login');
  let decision: Decision;
  try {
    const claimsPath = deps.scitokens && (token.includes('.') || deps.scitokens.opaque);
    decision = claimsPath ? await decideSciToken(deps.scitokens!, token, request.user) : await decideLogin(deps.decision, token, request.user);
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

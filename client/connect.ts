/**
 * `oauth-ssh [ssh options] [user@]host [command...]`: resolve the
 * destination as ssh does, get a token for that host, run the real ssh and
 * answer its token prompt.
 */
import { loadClientConfig, settingsForHost } from './config.js';
import { startAskpassServer, type PromptExpectation } from './askpass.js';
import { parseSshArgs, typedHost } from './ssh-args.js';
import { loginArgs, promptOptions, resolveDestination, type ResolvedDestination } from './ssh-resolve.js';
import { runSsh } from './ssh-runner.js';
import { hostKey, TokenStore } from './store/token-store.js';
import { acquireToken, authServerFor, loginAdvice, resolveTarget, type HostTarget } from './tokens.js';
import { hasTerminal, say } from './tty.js';

function hasDestination(argv: string[]): boolean {
  try {
    parseSshArgs(argv);
    return true;
  } catch {
    return false;
  }
}

/**
 * One keyboard-interactive attempt: a refused token is not followed by a
 * second token prompt, whose empty answer (askpass has no second token)
 * would start the server's device flow where nobody may see it. A refusal
 * ends at once with the server's reason; this program decides what next.
 */
const ONE_ATTEMPT = '-oNumberOfPasswordPrompts=1';

async function runWithToken(token: string, argv: string[], resolved: ResolvedDestination, expect: PromptExpectation): Promise<{ code: number; answered: number }> {
  const askpass = await startAskpassServer(token, expect);
  try {
    const code = await runSsh([...promptOptions(resolved), ONE_ATTEMPT, ...argv], askpass.program);
    return { code, answered: askpass.answered() };
  } finally {
    askpass.close();
  }
}

export async function connect(argv: string[]): Promise<number> {
  // ssh invocations without a destination (-V, -Q cipher, -O check) need no token: ssh itself answers them.
  if (!hasDestination(argv)) return runSsh(argv, null);
  const args = parseSshArgs(argv);
  const resolved = await resolveDestination(args);
  const config = await loadClientConfig();
  const names = [typedHost(args.destination), resolved.hostname];
  const store = TokenStore.open(config.backend);

  // A fresh cached token needs no network: look the host's client up only when we must.
  const settings = settingsForHost(config, names);
  const key = hostKey(settings.authUrl, settings.fqdn);
  const known = store.record(key);
  let target: HostTarget;
  let server;
  if (known && known.clientId === settings.clientId) {
    target = { key, fqdn: settings.fqdn, authUrl: settings.authUrl, clientId: settings.clientId, resourceServer: known.resourceServer, scope: known.scope, ...(known.style ? { style: known.style } : {}) };
    server = authServerFor(target);
  } else {
    ({ target, server } = await resolveTarget(config, names));
  }
  try {
    const mayLogin = hasTerminal();
    const base = { mode: 'auto' as const, mayLogin, minValidity: config.refreshMargin, typed: { name: names[0]!, loginArgs: loginArgs(args) } };
    let { token, record } = await acquireToken(store, server, target, { ...base, forceLogin: false });
    // Ask the host's policy first; renew a login it would refuse rather than fail at the server.
    if (config.policyCacheTtl > 0 && mayLogin) {
      const { hostPolicy, loginMeetsPolicy } = await import('./host-policy.js');
      const policy = await hostPolicy(args, resolved, target.key, settings.queryAccount, config.policyCacheTtl, say);
      const verdict = policy ? loginMeetsPolicy(record, policy) : { ok: true as const };
      if (!verdict.ok) {
        say(`oauth-ssh: ${verdict.reason}; logging in again${verdict.idp ? ` at ${verdict.idp}` : ''}.`);
        ({ token, record } = await acquireToken(store, server, target, { ...base, forceLogin: true, ...(verdict.idp ? { idp: verdict.idp } : {}) }));
      }
    }
    const expect = {
      user: resolved.user,
      hosts: [resolved.hostname, ...(resolved.hostKeyAlias ? [resolved.hostKeyAlias] : [])],
      acceptUnprefixed: resolved.proxyJump === null,
      batch: resolved.batchMode,
    };
    const first = await runWithToken(token, argv, resolved, expect);
    if (first.code !== 255 || first.answered === 0 || (await server.isActive(token).catch(() => true))) return first.code;
    // Denied with a token the authorization server no longer honours (revoked): renew it, once.
    await store.markExpired(target.key);
    if (!mayLogin) {
      say(`oauth-ssh: the token for ${names[0]} is no longer valid at the authorization server; run ${loginAdvice(loginArgs(args))}`);
      return first.code;
    }
    say(`oauth-ssh: the token for ${names[0]} is no longer valid at the authorization server; getting a new one.`);
    ({ token } = await acquireToken(store, server, target, { ...base, forceLogin: false }));
    return (await runWithToken(token, argv, resolved, expect)).code;
  } finally {
    await server.close();
  }
}

/**
 * `oauth-ssh [ssh options] [user@]host [command...]`: resolve the
 * destination as ssh does, get a token for that host, run the real ssh and
 * answer its token prompt.
 */
import { startAskpassServer, type PromptExpectation } from '../askpass.js';
import { parseSshArgs } from '../ssh-args.js';
import { runSsh } from '../ssh-runner.js';
import type { AuthServer } from '../auth-server.js';
import { loginAdvice, loginArgs, promptOptions, resolveDestination, type ResolvedDestination } from '../ssh-resolve.js';
import type { HostTarget } from '../store/token-store.js';

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

type OAuthSide = { tokens: typeof import('../tokens.js'); target: HostTarget; server: AuthServer };

export async function connect(argv: string[]): Promise<number> {
  // ssh invocations without a destination (-V, -Q cipher, -O check) need no token: ssh itself answers them.
  if (!hasDestination(argv)) return runSsh(argv, null);
  const args = parseSshArgs(argv);
  let oauth: OAuthSide | undefined;
  try {
    // Loaded here, not at the top: `oauth-ssh -V` and other destination-less calls need none of it.
    const [{ loadClientConfig, settingsForHost }, { typedHost }, { hostKey, TokenStore }, { cachedToken }, { hasTerminal, say }] = await Promise.all([
      import('../config.js'),
      import('../ssh-args.js'),
      import('../store/token-store.js'),
      import('../cached-token.js'),
      import('../tty.js'),
    ]);
    // Independent of each other: ssh -G runs while the config is read.
    const [resolved, config] = await Promise.all([resolveDestination(args), loadClientConfig()]);
    const names = [typedHost(args.destination), resolved.hostname];
    const store = TokenStore.open(config.backend);
    const settings = settingsForHost(config, names);
    const key = hostKey(settings.authUrl, settings.fqdn);
    const mayLogin = hasTerminal();
    // A host logged into before with this client needs no look-up of its client: the record has it.
    const known = store.record(key);
    const knownHere = known !== null && known.clientId === settings.clientId ? known : null;
    const base = { mode: 'auto' as const, mayLogin, minValidity: config.refreshMargin, typed: { name: names[0]!, loginArgs: loginArgs(args) } };

    // The OAuth side (authorization server, refresh, login flows) loads only when the cache cannot answer.
    const authorization = async (): Promise<OAuthSide> => {
      if (oauth) return oauth;
      const tokens = await import('../tokens.js');
      if (knownHere) {
        const target: HostTarget = { key, fqdn: settings.fqdn, authUrl: settings.authUrl, clientId: settings.clientId, resourceServer: knownHere.resourceServer, scope: knownHere.scope, ...(knownHere.style ? { style: knownHere.style } : {}) };
        oauth = { tokens, target, server: tokens.authServerFor(target) };
      } else oauth = { tokens, ...(await tokens.resolveTarget(config, names)) };
      return oauth;
    };
    const acquire = async (forceLogin: boolean, idp?: string) => {
      const { tokens, server, target } = await authorization();
      return tokens.acquireToken(store, server, target, { ...base, forceLogin, ...(idp ? { idp } : {}) });
    };

    let current = (knownHere ? await cachedToken(store, key, config.refreshMargin) : null) ?? (await acquire(false));
    // Ask the host's policy first; renew a login it would refuse rather than fail at the server.
    if (config.policyCacheTtl > 0 && mayLogin) {
      const { hostPolicy, loginMeetsPolicy } = await import('../host-policy.js');
      const policy = await hostPolicy(args, resolved, key, settings.queryAccount, config.policyCacheTtl, say);
      const verdict = policy ? loginMeetsPolicy(current.record, policy) : { ok: true as const };
      if (!verdict.ok) {
        say(`oauth-ssh: ${verdict.reason}; logging in again${verdict.idp ? ` at ${verdict.idp}` : ''}.`);
        current = await acquire(true, verdict.idp);
      }
    }
    const expect = {
      user: resolved.user,
      hosts: [resolved.hostname, ...(resolved.hostKeyAlias ? [resolved.hostKeyAlias] : [])],
      acceptUnprefixed: resolved.proxyJump === null,
      batch: resolved.batchMode,
    };
    const first = await runWithToken(current.token, argv, resolved, expect);
    if (first.code !== 255 || first.answered === 0) return first.code;
    if (await (await authorization()).server.isActive(current.token).catch(() => true)) return first.code;
    // Denied with a token the authorization server no longer honours (revoked): renew it, once.
    await store.markExpired(key);
    if (!mayLogin) {
      say(`oauth-ssh: the token for ${names[0]} is no longer valid at the authorization server; run ${loginAdvice(loginArgs(args))}`);
      return first.code;
    }
    say(`oauth-ssh: the token for ${names[0]} is no longer valid at the authorization server; getting a new one.`);
    current = await acquire(false);
    return (await runWithToken(current.token, argv, resolved, expect)).code;
  } finally {
    await oauth?.server.close();
  }
}

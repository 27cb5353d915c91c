/** `accounts HOST` and `status HOST`: what this identity may do on a host, and how our login compares with its policy. */
import type { Argv } from 'yargs';
import { sanitizeForTerminal } from '../../shared/sanitize.js';
import { hostArgs, hostContext, withHostToken } from '../host-context.js';
import { hostPolicy, loginMeetsPolicy } from '../host-policy.js';
import { queryHost } from '../in-band.js';
import { describeStore } from '../store/secret-store.js';
import { say } from '../tty.js';
import { formatDuration } from '../../shared/format.js';

type HostArgv = { host?: string; '--'?: string[]; json: boolean };
const hostBuilder = (y: Argv) => y.positional('host', { type: 'string', describe: 'the host (or: -- [ssh options] host)' }).option('json', { type: 'boolean', default: false });

export const accountsCommand = {
  command: 'accounts [host]',
  describe: 'the local accounts your identity may log in as on HOST (asks the host)',
  builder: hostBuilder,
  handler: async (argv: HostArgv) => {
    const ctx = await hostContext(hostArgs(argv));
    await withHostToken(ctx, async (token, target) => {
      const reply = await queryHost(ctx.args, ctx.resolved, ctx.queryAccount, 'get_account_map', token);
      const accounts = ((reply.account_map as { permitted_accounts?: unknown } | undefined)?.permitted_accounts ?? []) as unknown[];
      const names = accounts.filter((a): a is string => typeof a === 'string').map((a) => sanitizeForTerminal(a, 64));
      if (argv.json) console.log(JSON.stringify(names));
      else if (names.length === 0) console.log(`Your identity maps to no account on ${target.fqdn}; ask its administrator.`);
      else for (const n of names) console.log(n);
    });
  },
};

export const statusCommand = {
  command: 'status [host]',
  describe: 'your token and login for HOST, against the host\'s policy',
  builder: hostBuilder,
  handler: async (argv: HostArgv) => {
    const ctx = await hostContext(hostArgs(argv));
    const record = ctx.store.record(ctx.key);
    const policy = await hostPolicy(ctx.args, ctx.resolved, ctx.key, ctx.queryAccount, ctx.config.policyCacheTtl, say);
    const now = Date.now() / 1000;
    const verdict = record && policy ? loginMeetsPolicy(record, policy, now) : null;
    const host = ctx.args.destination;
    if (argv.json) {
      const token = record && { identity: record.identity, idp: record.idp, expires_in: Math.round(record.expiresAt - now), auth_age: record.authTime && Math.round(now - record.authTime), mfa: record.mfa, refresh: record.hasRefresh, backend: record.backend };
      // snake_case throughout, as the server's own policy reply and `token list --json` spell it.
      const policyJson = policy && { permitted_idps: policy.permittedIdps, authentication_timeout: policy.authenticationTimeout, mfa: policy.mfa };
      console.log(JSON.stringify({ host, token, policy: policyJson, meets_policy: verdict?.ok ?? null }, null, 2));
      return;
    }
    if (!record) console.log(`token:   none; run \`oauth-ssh login ${host}\``);
    else {
      console.log(`token:   ${record.expiresAt > now ? `valid for ${formatDuration(record.expiresAt - now)}` : 'expired'}${record.hasRefresh ? ', refreshable' : ''} (${describeStore(record.backend)})`);
      console.log(`login:   ${sanitizeForTerminal(record.identity ?? 'unknown identity')} at ${sanitizeForTerminal(record.idp ?? 'unknown IdP')}${record.authTime ? `, ${formatDuration(now - record.authTime)} ago` : ''}${record.mfa ? ', with MFA' : ''}`);
    }
    if (!policy) console.log('policy:  unknown (the host did not answer)');
    else {
      const parts = [policy.permittedIdps.length ? `IdPs ${policy.permittedIdps.join(', ')}` : null, policy.authenticationTimeout ? `login within ${policy.authenticationTimeout} min` : null, policy.mfa ? 'MFA' : null].filter(Boolean);
      console.log(`policy:  ${parts.length ? parts.join('; ') : 'any valid token'}`);
    }
    if (verdict) console.log(verdict.ok ? 'verdict: your login meets the policy' : `verdict: ${verdict.reason}: run \`oauth-ssh login ${host} --force-login${verdict.idp ? ` --idp ${verdict.idp}` : ''}\``);
  },
};

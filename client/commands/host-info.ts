/** `accounts HOST` and `status HOST`: what this identity may do on a host, and how our login compares with its policy. */
import type { Argv } from 'yargs';
import { sanitizeForTerminal } from '../../shared/sanitize.js';
import { hostArgs } from '../host-context.js';
import { loginMeetsPolicy } from '../host-policy.js';
import { describeStore } from '../store/secret-store.js';
import { formatDuration } from '../../shared/format.js';
import { machineContext, type CommandContext } from './context.js';

type HostArgv = { host?: string; '--'?: string[]; json: boolean };
const hostBuilder = (y: Argv) => y.positional('host', { type: 'string', describe: 'the host (or: -- [ssh options] host)' }).option('json', { type: 'boolean', default: false });

/** `accounts HOST`: the accounts the host's map gives this identity (asked in-band, with the token). */
export async function accounts(ctx: CommandContext, argv: HostArgv): Promise<void> {
  const host = await ctx.host(hostArgs(argv));
  await ctx.withToken(host, async (token, target) => {
    const reply = await ctx.query(host, 'get_account_map', token);
    const permitted = ((reply.account_map as { permitted_accounts?: unknown } | undefined)?.permitted_accounts ?? []) as unknown[];
    const names = permitted.filter((a): a is string => typeof a === 'string').map((a) => sanitizeForTerminal(a, 64));
    if (argv.json) ctx.io.out(JSON.stringify(names));
    else if (names.length === 0) ctx.io.out(`Your identity maps to no account on ${target.fqdn}; ask its administrator.`);
    else for (const n of names) ctx.io.out(n);
  });
}

/** `status HOST`: our login beside the host's policy, and whether it meets it. */
export async function status(ctx: CommandContext, argv: HostArgv): Promise<void> {
  const hostCtx = await ctx.host(hostArgs(argv));
  const record = hostCtx.store.record(hostCtx.key);
  const policy = await ctx.policy(hostCtx);
  const now = ctx.now();
  const verdict = record && policy ? loginMeetsPolicy(record, policy, now) : null;
  const host = hostCtx.args.destination;
  if (argv.json) {
    const token = record && { identity: record.identity, idp: record.idp, expires_in: Math.round(record.expiresAt - now), auth_age: record.authTime && Math.round(now - record.authTime), mfa: record.mfa, refresh: record.hasRefresh, backend: record.backend };
    // snake_case throughout, as the server's own policy reply and `token list --json` spell it.
    const policyJson = policy && { permitted_idps: policy.permittedIdps, authentication_timeout: policy.authenticationTimeout, mfa: policy.mfa };
    ctx.io.out(JSON.stringify({ host, token, policy: policyJson, meets_policy: verdict?.ok ?? null }, null, 2));
    return;
  }
  if (!record) ctx.io.out(`token:   none; run \`oauth-ssh login ${host}\``);
  else {
    ctx.io.out(`token:   ${record.expiresAt > now ? `valid for ${formatDuration(record.expiresAt - now)}` : 'expired'}${record.hasRefresh ? ', refreshable' : ''} (${describeStore(record.backend)})`);
    ctx.io.out(`login:   ${sanitizeForTerminal(record.identity ?? 'unknown identity')} at ${sanitizeForTerminal(record.idp ?? 'unknown IdP')}${record.authTime ? `, ${formatDuration(now - record.authTime)} ago` : ''}${record.mfa ? ', with MFA' : ''}`);
  }
  if (!policy) ctx.io.out('policy:  unknown (the host did not answer)');
  else {
    const parts = [policy.permittedIdps.length ? `IdPs ${policy.permittedIdps.join(', ')}` : null, policy.authenticationTimeout ? `login within ${policy.authenticationTimeout} min` : null, policy.mfa ? 'MFA' : null].filter(Boolean);
    ctx.io.out(`policy:  ${parts.length ? parts.join('; ') : 'any valid token'}`);
  }
  if (verdict) ctx.io.out(verdict.ok ? 'verdict: your login meets the policy' : `verdict: ${verdict.reason}: run \`oauth-ssh login ${host} --force-login${verdict.idp ? ` --idp ${verdict.idp}` : ''}\``);
}

export const accountsCommand = {
  command: 'accounts [host]',
  describe: 'the local accounts your identity may log in as on HOST (asks the host)',
  builder: hostBuilder,
  handler: (argv: HostArgv) => accounts(machineContext(), argv),
};

export const statusCommand = {
  command: 'status [host]',
  describe: 'your token and login for HOST, against the host\'s policy',
  builder: hostBuilder,
  handler: (argv: HostArgv) => status(machineContext(), argv),
};

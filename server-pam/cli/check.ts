/**
 * `check`: is this server ready? The config and file modes (by loading it),
 * then for every provider which rules give its tokens accounts and which
 * policy rules they must meet, then (online) each provider reachable with
 * our credentials, the FQDNs registered for our Globus client, and the query
 * account. Every line is ok, note or FAIL; any FAIL exits 1.
 */
import { hostname } from 'node:os';
import type { Argv } from 'yargs';
import { errorMessage } from '../../shared/errors.js';
import { GlobusAuth } from '../../shared/providers/globus.js';
import { createHttpStack } from '../../shared/providers/http-stack.js';
import { discoverIssuer, IssuerDiscoveryError } from '../../shared/providers/oidc-discovery.js';
import type { MappingProfile } from '../accounts.js';
import { loadServerConfig, type ServerConfig } from '../config.js';
import { lookupAccount } from '../passwd.js';
import { policyIsSet } from '../policy.js';
import { mappingProfile } from '../providers.js';

export type CheckLine = { level: 'ok' | 'note' | 'FAIL'; text: string };

function mappingRules(profile: MappingProfile, config: ServerConfig): string[] {
  const rules: string[] = [];
  if (profile.idpSuffix) rules.push(`idp_suffix ${profile.idpSuffix}`);
  if (profile.usernameClaim) rules.push(`the ${profile.usernameClaim} claim${profile.usernameSuffix ? ` minus ${profile.usernameSuffix}` : ''}${profile.usernamePrefix ? ` after ${profile.usernamePrefix}` : ''}`);
  if (config.mapFiles.length && profile.mapFileKeys === 'identity') rules.push('map files (by identity username or UUID)');
  if (config.mapFiles.length && profile.mapFileKeys === 'claims') rules.push('map files (by sub@issuer, sub, the username claim, verified email)');
  if (config.mapFiles.length && profile.mapFileKeys === 'qualified') rules.push('map files (by sub@issuer only: several providers read them)');
  if (profile.scopeGrants) rules.push('scope grants ssh:/USER (a bare ssh grants nothing)');
  return rules;
}

/** What the config means, provider by provider: no network, no accounts. */
export function describeConfig(config: ServerConfig): CheckLine[] {
  const lines: CheckLine[] = [{ level: 'ok', text: `config ${config.file} is valid` }];
  for (const note of config.notes) lines.push({ level: 'note', text: note });
  const providers = [
    ...(config.globus ? [{ name: `Globus Auth (${config.environment}, client ${config.clientId})`, kind: 'globus' as const, audiences: [] as string[], host: null as string | null }] : []),
    ...config.jwtIssuers.map((i) => ({ name: i.issuer, kind: i.kind, audiences: i.audiences, host: new URL(i.issuer).hostname.toLowerCase() })),
  ];
  const p = config.policy;
  for (const provider of providers) {
    const profile = mappingProfile(config, provider.kind);
    const rules = mappingRules(profile, config);
    const audience = provider.kind === 'globus' ? '' : `; audience ${provider.audiences.map((a) => JSON.stringify(a)).join(', ') || 'none'}`;
    if (rules.length) lines.push({ level: 'ok', text: `${provider.name} [${provider.kind}]: accounts from ${rules.join(', ')}${profile.uidRule ? `, each only with the uid in ${config.claims.uidClaim}` : ''}${audience}` });
    else lines.push({ level: 'FAIL', text: `${provider.name} [${provider.kind}]: no rule gives its tokens an account: set jwt_username_claim (accounts from claims), or list it in scitokens_issuers (ssh:/USER scope grants)` });
    if (provider.kind !== 'globus' && provider.audiences.length === 0) lines.push({ level: 'FAIL', text: `${provider.name}: no accepted audience: set oidc_audience to the aud its tokens carry for this host (a value with spaces in "double quotes"; Glewlwyd without an RFC 8707 resource puts the scope string there)` });
    if (p.permittedIdps.length && provider.host && !p.permittedIdps.includes(provider.host) && !p.permittedIdps.includes(provider.name.toLowerCase())) {
      lines.push({ level: 'FAIL', text: `permitted_idps admits no login from ${provider.name}: add ${provider.host}, or remove the issuer` });
    }
    if (provider.kind !== 'globus' && policyIsSet(p)) {
      const needs = [p.maxAuthAge !== null && 'auth_time', (p.mfa || p.amrValues.length > 0) && 'amr', (p.mfa || p.acrValues.length > 0) && 'acr', p.allowedGroups.length > 0 && config.claims.groupsClaim].filter(Boolean);
      if (needs.length) lines.push({ level: 'note', text: `${provider.name}: the policy reads ${needs.join(', ')} from its tokens; a provider that does not send them refuses everyone, naming the claim (see the README's provider table)` });
    }
  }
  const hosts = config.jwtIssuers.map((i) => new URL(i.issuer).hostname.toLowerCase());
  for (const host of new Set(hosts.filter((h, i) => hosts.indexOf(h) !== i))) {
    if (p.permittedIdps.includes(host)) lines.push({ level: 'note', text: `permitted_idps ${host} admits every issuer on that host (all its realms); name one issuer by its URL to admit only it` });
  }
  if (policyIsSet(p)) {
    const parts = [
      p.permittedIdps.length && `permitted_idps ${p.permittedIdps.join(', ')}`,
      p.maxAuthAge !== null && `login at most ${p.maxAuthAge} s old`,
      p.mfa && 'MFA',
      p.acrValues.length && `acr ${p.acrValues.join(' or ')}`,
      p.amrValues.length && `amr ${p.amrValues.join(' or ')}`,
      p.allowedGroups.length && `groups ${p.allowedGroups.join(', ')}`,
    ].filter(Boolean);
    lines.push({ level: 'ok', text: `session policy for every provider: ${parts.join('; ')}` });
  } else lines.push({ level: 'ok', text: 'no session policy: any verified token with a mapped account may log in' });
  return lines;
}

async function checkGlobus(config: ServerConfig, say: (line: CheckLine) => void): Promise<void> {
  const globus = new GlobusAuth({ authUrl: config.authUrl, clientId: config.clientId, clientSecret: config.clientSecret, httpTimeout: config.httpTimeout, introspectionCacheTtl: 0 });
  try {
    const fqdns = await globus.clientFqdns();
    say({ level: 'ok', text: `${config.authUrl} accepts this server's client credentials` });
    if (fqdns.length === 0) say({ level: 'FAIL', text: `no FQDN is registered for client ${config.clientId}: run \`oauth-ssh-server register ${hostname()}\`` });
    else say({ level: 'ok', text: `registered FQDNs: ${fqdns.join(', ')}; tokens need scope https://auth.globus.org/scopes/${fqdns[0]}/ssh` });
  } catch (err) {
    say({ level: 'FAIL', text: errorMessage(err) });
  } finally {
    await globus.close();
  }
}

export const checkCommand = {
  command: 'check',
  describe: 'validate the config, file modes, the rules of each provider, connectivity and FQDN registration',
  builder: (y: Argv) =>
    y.option('config', { type: 'string', describe: 'config file to check' }).option('offline', { type: 'boolean', default: false, describe: 'check the config and file modes only: no network, no accounts' }),
  handler: async (argv: { config?: string; offline: boolean }) => {
    const say = (line: CheckLine) => {
      console.log(`${line.level.padEnd(5)} ${line.text}`);
      if (line.level === 'FAIL') process.exitCode = 1;
    };
    const config = loadServerConfig(argv.config);
    for (const line of describeConfig(config)) say(line);
    if (argv.offline) {
      console.log('skip  authorization server, issuers and query account (--offline)');
      return;
    }
    if (config.globus) await checkGlobus(config, say);
    const http = createHttpStack({ timeoutSeconds: config.httpTimeout });
    try {
      for (const { issuer } of config.jwtIssuers) {
        try {
          // The same discovery the daemon does: issuer validated, http only on this machine.
          const jwksUri = (await discoverIssuer(issuer, http)).serverMetadata().jwks_uri;
          if (typeof jwksUri === 'string') say({ level: 'ok', text: `issuer ${issuer} publishes its keys at ${jwksUri}` });
          else say({ level: 'FAIL', text: `issuer ${issuer} publishes no jwks_uri in its discovery document` });
        } catch (err) {
          const unreachable = err instanceof IssuerDiscoveryError && err.reason === 'unreachable';
          say({ level: 'FAIL', text: `issuer ${issuer} ${unreachable ? 'cannot be reached' : 'is not usable'}: ${errorMessage(err)}` });
        }
      }
    } finally {
      await http.close();
    }
    if (await lookupAccount(config.queryAccount)) say({ level: 'ok', text: `query account ${config.queryAccount} exists` });
    else say({ level: 'FAIL', text: `the query account ${config.queryAccount} does not exist; create it: useradd -r -s /usr/sbin/nologin ${config.queryAccount}` });
  },
};

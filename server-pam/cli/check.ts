/**
 * `check`: is this server ready? Config and file modes (by loading it), the
 * authorization server reachable with our credentials, the FQDNs registered
 * for our client, SciTokens issuers reachable, the query account present.
 */
import { hostname } from 'node:os';
import type { Argv } from 'yargs';
import { errorMessage } from '../../shared/errors.js';
import { GlobusAuth } from '../../shared/providers/globus.js';
import { loadServerConfig, type ServerConfig } from '../config.js';
import { lookupAccount } from '../passwd.js';

async function checkGlobus(config: ServerConfig, ok: (m: string) => void, bad: (m: string) => void): Promise<void> {
  const globus = new GlobusAuth({ authUrl: config.authUrl, clientId: config.clientId, clientSecret: config.clientSecret, httpTimeout: config.httpTimeout, introspectionCacheTtl: 0 });
  try {
    const fqdns = await globus.clientFqdns();
    ok(`${config.authUrl} accepts this server's client credentials`);
    if (fqdns.length === 0) bad(`no FQDN is registered for client ${config.clientId}: run \`oauth-ssh-server register ${hostname()}\``);
    else ok(`registered FQDNs: ${fqdns.join(', ')}; tokens need scope https://auth.globus.org/scopes/${fqdns[0]}/ssh`);
  } catch (err) {
    bad(errorMessage(err));
  } finally {
    await globus.close();
  }
}

export const checkCommand = {
  command: 'check',
  describe: 'validate the config, file modes, connectivity and FQDN registration',
  builder: (y: Argv) =>
    y.option('config', { type: 'string', describe: 'config file to check' }).option('offline', { type: 'boolean', default: false, describe: 'check the config and file modes only: no network, no accounts' }),
  handler: async (argv: { config?: string; offline: boolean }) => {
    const ok = (msg: string) => console.log(`ok    ${msg}`);
    const bad = (msg: string) => {
      console.log(`FAIL  ${msg}`);
      process.exitCode = 1;
    };
    const config = loadServerConfig(argv.config);
    ok(`config ${config.file} is valid (${config.globus ? `client ${config.clientId}, ` : 'JWT access tokens only, '}${config.mapFiles.length} map file(s), idp_suffix ${config.idpSuffix ?? 'unset'})`);
    if (argv.offline) {
      console.log('skip  authorization server, issuers and query account (--offline)');
      return;
    }
    if (config.globus) await checkGlobus(config, ok, bad);
    for (const issuer of config.scitokens?.issuers ?? []) {
      try {
        const res = await fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(config.httpTimeout * 1000) });
        const doc = (await res.json().catch(() => null)) as { jwks_uri?: unknown } | null;
        if (res.ok && typeof doc?.jwks_uri === 'string') ok(`SciTokens issuer ${issuer} publishes its keys at ${doc.jwks_uri}`);
        else bad(`SciTokens issuer ${issuer} has no usable discovery document (HTTP ${res.status})`);
      } catch (err) {
        bad(`SciTokens issuer ${issuer} cannot be reached: ${errorMessage(err)}`);
      }
    }
    if (await lookupAccount(config.queryAccount)) ok(`query account ${config.queryAccount} exists`);
    else bad(`the query account ${config.queryAccount} does not exist; create it: useradd -r -s /usr/sbin/nologin ${config.queryAccount}`);
  },
};

/**
 * `check`: is this server ready? Config and file modes (by loading it), the
 * authorization server reachable with our credentials, the FQDNs registered
 * for our client, SciTokens issuers reachable, the query account present.
 */
import { hostname } from 'node:os';
import type { Argv } from 'yargs';
import { errorMessage } from '../../shared/errors.js';
import { GlobusAuth } from '../../shared/providers/globus.js';
import { createHttpStack } from '../../shared/providers/http-stack.js';
import { discoverIssuer, IssuerDiscoveryError } from '../../shared/providers/oidc-discovery.js';
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
    const http = createHttpStack({ timeoutSeconds: config.httpTimeout });
    try {
      for (const issuer of config.scitokens?.issuers ?? []) {
        try {
          // The same discovery the daemon does: issuer validated, http only on this machine.
          const jwksUri = (await discoverIssuer(issuer, http)).serverMetadata().jwks_uri;
          if (typeof jwksUri === 'string') ok(`SciTokens issuer ${issuer} publishes its keys at ${jwksUri}`);
          else bad(`SciTokens issuer ${issuer} publishes no jwks_uri in its discovery document`);
        } catch (err) {
          const unreachable = err instanceof IssuerDiscoveryError && err.reason === 'unreachable';
          bad(`SciTokens issuer ${issuer} ${unreachable ? 'cannot be reached' : 'is not usable'}: ${errorMessage(err)}`);
        }
      }
    } finally {
      await http.close();
    }
    if (await lookupAccount(config.queryAccount)) ok(`query account ${config.queryAccount} exists`);
    else bad(`the query account ${config.queryAccount} does not exist; create it: useradd -r -s /usr/sbin/nologin ${config.queryAccount}`);
  },
};

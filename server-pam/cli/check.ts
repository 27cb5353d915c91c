/**
 * `check`: is this server ready? Config and file modes (by loading it), the
 * authorization server reachable with our credentials, the FQDNs registered
 * for our client, the query account present.
 */
import { hostname } from 'node:os';
import type { Argv } from 'yargs';
import { errorMessage } from '../../shared/errors.js';
import { GlobusAuth } from '../../shared/providers/globus.js';
import { loadServerConfig } from '../config.js';
import { lookupAccount } from '../passwd.js';

export const checkCommand = {
  command: 'check',
  describe: 'validate the config, file modes, connectivity and FQDN registration',
  builder: (y: Argv) => y.option('config', { type: 'string', describe: 'config file to check' }),
  handler: async (argv: { config?: string }) => {
    const ok = (msg: string) => console.log(`ok    ${msg}`);
    const bad = (msg: string) => {
      console.log(`FAIL  ${msg}`);
      process.exitCode = 1;
    };
    const config = loadServerConfig(argv.config);
    ok(`config ${config.file} is valid (client ${config.clientId}, ${config.mapFiles.length} map file(s), idp_suffix ${config.idpSuffix ?? 'unset'})`);
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
    if (await lookupAccount(config.queryAccount)) ok(`query account ${config.queryAccount} exists`);
    else bad(`the query account ${config.queryAccount} does not exist; create it: useradd -r -s /usr/sbin/nologin ${config.queryAccount}`);
  },
};

/**
 * `register FQDN`: prove DNS ownership (a TXT record at the FQDN whose value
 * is the client id), then associate the FQDN with the SSH service's client,
 * as the seed's `oauth-ssh-config register` does. Credentials come from the
 * config, or from --client-id and a secret file or stdin: never argv.
 */
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { OAuthSshError, UsageError } from '../../shared/errors.js';
import { GlobusAuth } from '../../shared/providers/globus.js';
import { checkSecretFileMode, GLOBUS_ENVIRONMENTS, loadServerConfig } from '../config.js';

const FQDN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

export class DnsProofError extends OAuthSshError {
  constructor(message: string) {
    super('REGISTRATION_FAILED', message);
  }
}

export async function txtRecordProves(fqdn: string, clientId: string, dnsServer?: string): Promise<{ ok: boolean; found: string[] }> {
  const resolver = new Resolver({ timeout: 5000, tries: 2 });
  if (dnsServer) resolver.setServers([dnsServer]);
  let records: string[][];
  try {
    records = await resolver.resolveTxt(fqdn);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENODATA' || code === 'ENOTFOUND' || code === 'EREFUSED') return { ok: false, found: [] };
    throw new DnsProofError(`cannot look up TXT records of ${fqdn}: ${code ?? err}`);
  }
  const found = records.map((chunks) => chunks.join(''));
  return { ok: found.some((v) => v.trim().toLowerCase() === clientId.toLowerCase()), found };
}

function refuseSecretInArgv(value: string | undefined): void {
  if (value !== undefined) {
    throw new UsageError('a secret on the command line shows in ps and shell history: use --client-secret-stdin or --client-secret-file FILE');
  }
}

export const registerCommand = {
  command: 'register <fqdn>',
  describe: 'prove DNS ownership of FQDN (TXT record = client id) and register it for this server\'s client',
  builder: (y: Argv) =>
    y
      .positional('fqdn', { type: 'string', demandOption: true, describe: 'the host name users will ssh to' })
      .option('config', { type: 'string', describe: 'config file with client_id/client_secret/auth_url' })
      .option('client-id', { type: 'string', describe: 'override the config\'s client_id' })
      .option('client-secret', { type: 'string', hidden: true, describe: 'refused: a secret in argv is visible to every user' })
      .option('client-secret-stdin', { type: 'boolean', describe: 'read the client secret from stdin' })
      .option('client-secret-file', { type: 'string', describe: 'file (mode 0600) holding the client secret' })
      .option('auth-url', { type: 'string', describe: 'authorization server base URL (default: the config\'s, or Globus production)' })
      .option('dns-server', { type: 'string', describe: 'ask this DNS server (IP[:PORT]) instead of the system resolver' }),
  handler: async (argv: { fqdn: string; config?: string; clientId?: string; clientSecret?: string; clientSecretStdin?: boolean; clientSecretFile?: string; authUrl?: string; dnsServer?: string }) => {
    refuseSecretInArgv(argv.clientSecret);
    const fqdn = argv.fqdn.toLowerCase().replace(/\.$/, '');
    if (!FQDN.test(fqdn)) throw new UsageError(`"${argv.fqdn}" is not a fully qualified domain name`);
    let secret = argv.clientSecretStdin ? readFileSync(0, 'utf8').trim() : undefined;
    if (argv.clientSecretFile) {
      checkSecretFileMode(argv.clientSecretFile, 'client secret file');
      secret = readFileSync(argv.clientSecretFile, 'utf8').trim();
    }
    const needConfig = !argv.clientId || !secret;
    const config = needConfig || argv.config ? loadServerConfig(argv.config) : undefined;
    if (needConfig && config && !config.globus) throw new UsageError('register needs Globus client credentials: this config has no auth_method globus_auth; pass --client-id and --client-secret-stdin');
    const clientId = argv.clientId ?? config!.clientId;
    const clientSecret = secret ?? config!.clientSecret;
    const authUrl = argv.authUrl ?? config?.authUrl ?? GLOBUS_ENVIRONMENTS.production!;

    const proof = await txtRecordProves(fqdn, clientId, argv.dnsServer);
    if (!proof.ok) {
      throw new DnsProofError(
        `${fqdn} has no TXT record with the value ${clientId}${proof.found.length ? ` (found: ${proof.found.join(', ')})` : ''}. ` +
          `Add one (e.g. \`${fqdn}. 300 IN TXT "${clientId}"\`), wait for DNS to update, and run this again.`,
      );
    }
    console.log(`ok    DNS: ${fqdn} has a TXT record with the client id`);
    const globus = new GlobusAuth({ authUrl, clientId, clientSecret, httpTimeout: 10, introspectionCacheTtl: 0 });
    try {
      const fqdns = await globus.registerFqdn(fqdn);
      console.log(`ok    registered ${fqdn} for client ${clientId} (now: ${fqdns.join(', ')})`);
      console.log(`      tokens for it carry the scope https://auth.globus.org/scopes/${fqdn}/ssh`);
    } finally {
      await globus.close();
    }
  },
};

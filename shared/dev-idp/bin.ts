#!/usr/bin/env node
/**
 * oauth-ssh-dev-idp: run the local Globus-Auth-compatible authorization
 * server. Prints exactly one line, `listening on http://127.0.0.1:PORT`,
 * on stdout when ready; request logs go to stderr with --verbose.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadDevIdpConfig } from './config.js';
import { startDevIdp } from './server.js';
import { errorMessage, OAuthSshError } from '../errors.js';
import { packageVersion } from '../version.js';

const argv = await yargs(hideBin(process.argv))
  .scriptName('oauth-ssh-dev-idp')
  .usage(
    '$0 --config FILE [--port N]\n\n' +
      'A local OAuth 2.0 / OpenID Connect authorization server compatible with the parts of Globus Auth that ' +
      'oauth-ssh uses (authorize + PKCE, token, device flow, introspect with identities_set and session_info, ' +
      'identities, clients by id and fqdn, revoke, validate, discovery, JWKS, userinfo). For demos and tests only: ' +
      'it keeps everything in memory and listens on 127.0.0.1.\n\n' +
      'Control API (non-interactive approval for tests and the demo), only with --dev-control: it approves logins\n' +
      'and ages sessions for anyone who can reach the port, so never turn it on where other people have accounts.\n' +
      '  PUT    /_dev/auto-approve            {"identity": "alice@example.org", "mfa": false, "auth_age": 0}\n' +
      '  DELETE /_dev/auto-approve\n' +
      '  GET    /_dev/devices                 pending device authorizations (user codes)\n' +
      '  POST   /_dev/devices/CODE/approve    {"identity": ..., "mfa": ..., "auth_age": ...}\n' +
      '  POST   /_dev/devices/CODE/deny\n' +
      '  POST   /_dev/sessions/update         {"identity": ..., "auth_age": SECONDS, "mfa": BOOL}\n' +
      '  POST   /_dev/tokens/expire           {"identity": ...}\n' +
      '  POST   /_dev/faults                  {"path_prefix": "/v2/oauth2/token/introspect" (or "path": exact), "status": 503, "count": 1, "retry_after": 2, "delay_ms": 0, "body": "..."}\n' +
      '  DELETE /_dev/faults\n\n' +
      'Config file format: see shared/dev-idp/example.yaml.',
  )
  .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'users, identity providers and clients (JSON or YAML)' })
  .option('port', { alias: 'p', type: 'number', default: 0, describe: 'TCP port on 127.0.0.1; 0 picks a free one' })
  .option('dev-control', { type: 'boolean', default: false, describe: 'serve the /_dev/ control API (tests and demos only: it approves logins for anyone on this machine)' })
  // The older --no-control asked for what is now the default.
  .option('control', { type: 'boolean', hidden: true })
  .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'log each request (method, path, status) to stderr' })
  .check((a) => {
    if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new Error(`--port must be 0..65535, got ${a.port}`);
    return true;
  })
  .strict()
  .help()
  .version(packageVersion())
  .parseAsync();

try {
  const config = loadDevIdpConfig(argv.config);
  const idp = await startDevIdp({
    config,
    port: argv.port,
    control: argv.devControl,
    log: argv.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
  });
  if (argv.devControl) {
    process.stderr.write(`oauth-ssh-dev-idp: WARNING: the control API is on (--dev-control): anyone who can reach ${idp.url}/_dev/ can approve logins and age sessions. For tests and demos only.\n`);
  }
  process.stdout.write(`listening on ${idp.url}\n`);
  const stop = () => void idp.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (err) {
  process.stderr.write(`oauth-ssh-dev-idp: ${errorMessage(err)}\n`);
  process.exit(err instanceof OAuthSshError ? 2 : 1);
}

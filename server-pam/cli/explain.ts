/**
 * `explain`: the whole decision for one token and user, step by step, for an
 * administrator debugging a denial. The token comes from a file or stdin, never argv.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Argv } from 'yargs';
import { UsageError } from '../../shared/errors.js';
import { GlobusAuth } from '../../shared/providers/globus.js';
import { sanitizeForTerminal } from '../../shared/sanitize.js';
import { loadServerConfig } from '../config.js';
import { decisionContext } from '../daemon.js';
import { decideLogin } from '../decide.js';
import { formatDuration } from '../../shared/format.js';

export const explainCommand = {
  command: 'explain',
  describe: 'print the whole decision path for a token and a user',
  builder: (y: Argv) =>
    y
      .option('config', { type: 'string', describe: 'config file' })
      .option('user', { type: 'string', demandOption: true, describe: 'the local account the login asks for' })
      .option('token-file', { type: 'string', describe: 'file holding the access token (default: read it from stdin)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the decision as JSON' }),
  handler: async (argv: { config?: string; user: string; tokenFile?: string; json: boolean }) => {
    const config = loadServerConfig(argv.config);
    if (!config.globus) throw new UsageError('explain follows Globus tokens; this config has no auth_method globus_auth');
    const fromStdin = argv.tokenFile === undefined || argv.tokenFile === '-';
    if (fromStdin && process.stdin.isTTY) throw new UsageError('pipe the token on stdin or pass --token-file FILE (a token on the command line would show in ps)');
    if (!fromStdin && (statSync(argv.tokenFile!).mode & 0o077) !== 0) {
      process.stderr.write(`warning: ${argv.tokenFile} is readable by others; tokens belong in 0600 files\n`);
    }
    const token = readFileSync(fromStdin ? 0 : argv.tokenFile!, 'utf8').trim();
    if (!token) throw new UsageError(`${fromStdin ? 'stdin' : argv.tokenFile} holds no token`);
    const globus = new GlobusAuth({ authUrl: config.authUrl, clientId: config.clientId, clientSecret: config.clientSecret, httpTimeout: config.httpTimeout, introspectionCacheTtl: 0 });
    try {
      const decision = await decideLogin(decisionContext(config, globus), token, argv.user);
      if (argv.json) {
        console.log(JSON.stringify({ result: decision.result, code: decision.code, reason: decision.reason, token: decision.token?.tokenHash, trace: decision.trace }, null, 2));
      } else {
        for (const step of decision.trace) console.log(`${step.ok ? 'ok  ' : 'FAIL'}  ${step.step.padEnd(8)} ${sanitizeForTerminal(step.detail, 400)}`);
        const now = Date.now() / 1000;
        for (const a of decision.token?.authentications ?? []) {
          console.log(`      session  identity ${a.identityId} at ${sanitizeForTerminal(a.idp?.name ?? '?')}, ${formatDuration(now - a.authTime)} ago, amr ${a.amr.join(',') || '-'}`);
        }
        console.log(`=> ${decision.result}: ${sanitizeForTerminal(decision.reason, 400)}`);
      }
      process.exitCode = decision.result === 'SUCCESS' ? 0 : 1;
    } finally {
      await globus.close();
    }
  },
};

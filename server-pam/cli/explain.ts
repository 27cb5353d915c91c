/**
 * `explain`: the whole decision for one token and user, step by step, for an
 * administrator debugging a denial, through the same path as the daemon, for
 * every provider. The token comes from a file or stdin, never argv.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Argv } from 'yargs';
import { UsageError } from '../../shared/errors.js';
import { formatDuration } from '../../shared/format.js';
import { sanitizeForTerminal } from '../../shared/sanitize.js';
import { loadServerConfig } from '../config.js';
import { decisionContext } from '../daemon.js';
import { decideLogin } from '../decide.js';
import { buildProviders } from '../providers.js';

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
    const fromStdin = argv.tokenFile === undefined || argv.tokenFile === '-';
    if (fromStdin && process.stdin.isTTY) throw new UsageError('pipe the token on stdin or pass --token-file FILE (a token on the command line would show in ps)');
    if (!fromStdin && (statSync(argv.tokenFile!).mode & 0o077) !== 0) {
      process.stderr.write(`warning: ${argv.tokenFile} is readable by others; tokens belong in 0600 files\n`);
    }
    const token = readFileSync(fromStdin ? 0 : argv.tokenFile!, 'utf8').trim();
    if (!token) throw new UsageError(`${fromStdin ? 'stdin' : argv.tokenFile} holds no token`);
    const set = buildProviders(config, { introspectionCacheTtl: 0 });
    try {
      const decision = await decideLogin(decisionContext(config, set), token, argv.user);
      const principal = decision.principal;
      if (argv.json) {
        console.log(JSON.stringify({ result: decision.result, code: decision.code, reason: decision.reason, token: principal?.tokenHash, provider: principal?.provider, identity: principal?.auditIdentity, trace: decision.trace }, null, 2));
      } else {
        for (const step of decision.trace) console.log(`${step.ok ? 'ok  ' : 'FAIL'}  ${step.step.padEnd(8)} ${sanitizeForTerminal(step.detail, 400)}`);
        const now = Date.now() / 1000;
        for (const a of principal?.authentications ?? []) {
          const age = a.authTime === null ? 'auth_time not sent' : `${formatDuration(now - a.authTime)} ago`;
          const amr = a.amr === null ? 'amr not sent' : `amr ${a.amr.join(',') || '-'}`;
          console.log(`      session  ${sanitizeForTerminal(a.identityId)} at ${sanitizeForTerminal(a.idp?.name ?? '?')}, ${age}, ${amr}, acr ${sanitizeForTerminal(a.acr ?? '-')}`);
        }
        console.log(`=> ${decision.result}: ${sanitizeForTerminal(decision.reason, 400)}`);
      }
      process.exitCode = decision.result === 'SUCCESS' ? 0 : 1;
    } finally {
      await set.close();
    }
  },
};

#!/usr/bin/env node
/**
 * oauth-ssh: `oauth-ssh [ssh options] [user@]host [command]` runs ssh with a
 * token for the host; `oauth-ssh login|logout|token|...` manage tokens.
 * Exit status: ssh's own when connecting; otherwise 0 ok, 1 failure,
 * 2 usage or configuration error, 3 not logged in (no terminal to log in on).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { errorMessage, OAuthSshError } from '../shared/errors.js';
import { askpassHelper } from './askpass.js';
import { accountsCommand, statusCommand } from './commands/host-info.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';
import { tokenCommand } from './commands/token.js';
import { setupCommand } from './commands/setup.js';
import { connect } from './connect.js';
import { ensure, standaloneAskpass } from './standalone.js';

const SUBCOMMANDS = new Set(['login', 'logout', 'token', 'accounts', 'status', 'setup', 'help', '--help', '-h', '--version']);

export const EXIT = { ok: 0, failure: 1, usage: 2, notLoggedIn: 3 } as const;

function exitCode(err: unknown): number {
  if (!(err instanceof OAuthSshError)) return EXIT.failure;
  if (err.code === 'USAGE' || err.code === 'CONFIG_INVALID') return EXIT.usage;
  if (err.code === 'NOT_LOGGED_IN') return EXIT.notLoggedIn;
  return EXIT.failure;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '__askpass') return askpassHelper(argv[1]!, argv.slice(2).join(' '));
  if (argv[0] === '__askpass-standalone') return standaloneAskpass(argv.slice(1).join(' '));
  if (argv[0] === 'ensure') return ensure(argv[1] ?? '');
  if (argv.length > 0 && !SUBCOMMANDS.has(argv[0]!)) return connect(argv);
  await yargs(argv)
    .scriptName('oauth-ssh')
    .parserConfiguration({ 'populate--': true })
    .usage(
      '$0 [ssh options] [user@]host [command]   connect with ssh, answering the host\'s token prompt\n' +
        '$0 <command>                             manage logins and tokens\n\n' +
        'Every ssh option works; also as `scp -S oauth-ssh`, `rsync -e oauth-ssh`, `GIT_SSH_COMMAND=oauth-ssh`, `sftp -S oauth-ssh`.\n' +
        'Config: $XDG_CONFIG_HOME/oauth-ssh/config.yaml (client/CONFIG.md). Exit: ssh\'s when connecting; else 0 ok, 1 failure, 2 usage/config, 3 not logged in.',
    )
    .command(loginCommand)
    .command(logoutCommand)
    .command(tokenCommand)
    .command(accountsCommand)
    .command(statusCommand)
    .command(setupCommand)
    .demandCommand(1, 'name a host to connect to, or a command')
    .strict()
    .fail((msg, err) => {
      throw err ?? new OAuthSshError('USAGE', msg);
    })
    .help()
    .version('0.1.0')
    .parseAsync();
  return EXIT.ok;
}

try {
  process.exitCode = await main(hideBin(process.argv));
} catch (err) {
  process.stderr.write(`oauth-ssh: ${errorMessage(err)}\n`);
  process.exitCode = exitCode(err);
}

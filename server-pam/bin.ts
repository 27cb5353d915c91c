#!/usr/bin/env node
/** oauth-ssh-server: the daemon behind pam_oauth_ssh.so, and its admin commands. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { errorMessage, OAuthSshError } from '../shared/errors.js';
import { packageVersion } from '../shared/version.js';
import { checkCommand } from './cli/check.js';
import { explainCommand } from './cli/explain.js';
import { installCommand, uninstallCommand } from './cli/install.js';
import { statusCommand } from './cli/status.js';
import { registerCommand } from './cli/register.js';
import { serveCommand } from './cli/serve.js';

try {
  await yargs(hideBin(process.argv))
    .scriptName('oauth-ssh-server')
    .usage('$0 <command>\n\nServer side of oauth-ssh: the daemon that pam_oauth_ssh.so asks, and tools for administrators.\nConfig reference: server-pam/CONFIG.md. Exit status: 0 ok, 1 check/explain failed or error, 2 bad config or usage.')
    .command(serveCommand)
    .command(checkCommand)
    .command(explainCommand)
    .command(registerCommand)
    .command(installCommand)
    .command(statusCommand)
    .command(uninstallCommand)
    .demandCommand(1, 'name a command: serve, check, explain, register, install, uninstall, status')
    .strict()
    .fail((msg, err) => {
      throw err ?? new OAuthSshError('USAGE', msg);
    })
    .help()
    .version(packageVersion())
    .parseAsync();
} catch (err) {
  process.stderr.write(`oauth-ssh-server: ${errorMessage(err)}\n`);
  process.exit(err instanceof OAuthSshError && (err.code === 'CONFIG_INVALID' || err.code === 'USAGE') ? 2 : 1);
}

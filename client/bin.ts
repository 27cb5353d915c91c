#!/usr/bin/env node
/**
 * oauth-ssh: `oauth-ssh [ssh options] [user@]host [command]` runs ssh with a
 * token for the host; `oauth-ssh login|logout|token|...` manage tokens.
 * Exit status: ssh's own when connecting; otherwise 0 ok, 1 failure,
 * 2 usage or configuration error, 3 not logged in (no terminal to log in on).
 *
 * Each path imports only what it needs: connecting with a cached token and
 * answering an askpass prompt are on every ssh connection's critical path.
 */
import { errorMessage, OAuthSshError } from '../shared/errors.js';
import { nearSubcommand, SUBCOMMANDS } from './subcommands.js';


export const EXIT = { ok: 0, failure: 1, usage: 2, notLoggedIn: 3 } as const;

function exitCode(err: unknown): number {
  if (!(err instanceof OAuthSshError)) return EXIT.failure;
  if (err.code === 'USAGE' || err.code === 'CONFIG_INVALID') return EXIT.usage;
  if (err.code === 'NOT_LOGGED_IN') return EXIT.notLoggedIn;
  return EXIT.failure;
}

async function commands(argv: string[]): Promise<number> {
  const [{ default: yargs }, { loadCommands }] = await Promise.all([import('yargs'), import('./commands/index.js')]);
  const parser = yargs(argv);
  for (const command of await loadCommands()) parser.command(command as never);
  await parser
    .scriptName('oauth-ssh')
    .parserConfiguration({ 'populate--': true })
    .usage(
      '$0 [ssh options] [user@]host [command]   connect with ssh, answering the host\'s token prompt\n' +
        '$0 <command>                             manage logins and tokens\n\n' +
        'Every ssh option works; also as `scp -S oauth-ssh`, `rsync -e oauth-ssh`, `GIT_SSH_COMMAND=oauth-ssh`, `sftp -S oauth-ssh`.\n' +
        'Commands that take HOST also take ssh options and a host after `--` (oauth-ssh status -- -p 2222 host).\n' +
        'Config: $XDG_CONFIG_HOME/oauth-ssh/config.yaml (client/CONFIG.md). Exit: ssh\'s when connecting; else 0 ok, 1 failure, 2 usage/config, 3 not logged in.',
    )
    .demandCommand(1, 'name a host to connect to, or a command')
    .strict()
    .fail((msg, err) => {
      throw err ?? new OAuthSshError('USAGE', msg);
    })
    .help()
    .version((await import('../shared/version.js')).packageVersion())
    .parseAsync();
  // A command that found problems (doctor) sets the status itself.
  return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
}

async function main(argv: string[]): Promise<number> {
  switch (argv[0]) {
    case '__askpass-ask':
      return (await import('./askpass.js')).askPerson(argv.slice(1).join(' '));
    case '__askpass-standalone':
      return (await import('./commands/ssh-hooks.js')).standaloneAskpass(argv.slice(1).join(' '));
    case '__complete':
      return (await import('./commands/completion.js')).completeLine(argv[1] ?? 'bash', argv.slice(2));
    case 'ensure':
      return (await import('./commands/ssh-hooks.js')).ensure(argv[1] ?? '');
  }
  const typo = argv[0] === undefined ? undefined : nearSubcommand(argv[0]);
  if (typo) throw new OAuthSshError('USAGE', `"${argv[0]}" is not a command; did you mean \`oauth-ssh ${[typo, ...argv.slice(1)].join(' ')}\`? (A host of that name: write it as user@${argv[0]} or its full name.)`);
  if (argv.length > 0 && !SUBCOMMANDS.has(argv[0]!)) return (await import('./commands/connect.js')).connect(argv);
  return commands(argv);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`oauth-ssh: ${errorMessage(err)}\n`);
  process.exitCode = exitCode(err);
}

import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Argv } from 'yargs';
import { setupSshConfig } from '../ssh-config-setup.js';
import { shellQuote } from '../launcher.js';

export const setupCommand = {
  command: 'setup <pattern>',
  describe: 'make plain ssh/scp/rsync/git use oauth-ssh tokens for hosts matching PATTERN (see client/CONFIG.md)',
  builder: (y: Argv) =>
    y
      .positional('pattern', { type: 'string', demandOption: true, describe: 'ssh_config host pattern, matched against the real host name, e.g. "*.example.org"' })
      .option('remove', { type: 'boolean', default: false, describe: 'take the entry for PATTERN out again' })
      .option('ssh-config', { type: 'string', describe: 'the ssh config file to edit (default ~/.ssh/config)' }),
  handler: async (argv: { pattern: string; remove: boolean; sshConfig?: string }) => {
    const file = argv.sshConfig ?? join(homedir(), '.ssh', 'config');
    const { changed, paths, launchersRemoved, stillUsedBy } = await setupSshConfig(file, argv.pattern, argv.remove);
    const profileLine = `export SSH_ASKPASS=${shellQuote(paths.askpass)} SSH_ASKPASS_REQUIRE=force`;
    if (argv.remove) {
      console.log(changed ? `Removed the oauth-ssh entry for "${argv.pattern}" from ${file}.` : `${file} had no oauth-ssh entry for "${argv.pattern}".`);
      if (launchersRemoved) {
        console.log(`No oauth-ssh entry is left in any ssh config, so the helper and askpass in ${dirname(paths.askpass)} are gone too.`);
        console.log('Take this line out of your shell profile (~/.bashrc, ~/.zshrc, ~/.profile), if you added it:\n');
        console.log(profileLine);
      } else if (stillUsedBy.length) console.log(`The helper and askpass stay: oauth-ssh entries remain in ${stillUsedBy.join(', ')}.`);
      else if (changed) console.log(`The helper and askpass stay in ${dirname(paths.askpass)}: other ssh config files set up before oauth-ssh kept a record may use them; \`oauth-ssh setup PATTERN --remove --ssh-config FILE\` for those, then once more removes them.`);
      return;
    }
    console.log(changed ? `Added to ${file}: Match host "${argv.pattern}" exec "… ensure %h" with KbdInteractiveAuthentication yes.` : `${file} already has the oauth-ssh entry for "${argv.pattern}".`);
    console.log('\nssh reads the answer to the token prompt from an askpass program, which only the environment can name.');
    console.log('Add this line to your shell profile (~/.bashrc, ~/.zshrc, ~/.profile), then open a new shell:\n');
    console.log(profileLine);
    console.log('\nThat askpass answers only "(user@host) Enter your OAuth token:" with that host\'s token; every other prompt is asked on your terminal.');
  },
};

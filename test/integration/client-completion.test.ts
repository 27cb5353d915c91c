/** Shell completions, run in real bash and fish (zsh: its parser), from the same command definitions as --help. */
import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp.js';
import type { Teardown } from '../helpers/teardown.js';

async function shellWorld(t: Teardown) {
  const home = await tempDir(t, 'oauth-ssh-completion-');
  const bin = join(home, 'bin');
  await mkdir(bin);
  await writeFile(join(bin, 'oauth-ssh'), `#!/bin/sh\nexec '${process.execPath}' --import '${import.meta.resolve('tsx')}' '${join(process.cwd(), 'client/bin.ts')}' "$@"\n`, { mode: 0o755 });
  await mkdir(join(home, '.ssh'));
  // The last alias is a trap: a completion that hands it to a shell to expand creates the file it names.
  await writeFile(join(home, '.ssh', 'config'), `Host myhost build-box\n  HostName 192.0.2.1\nHost *.wild\n  User x\nHost x$(touch\${IFS}${join(home, 'pwned')})\n`);
  const env = { PATH: `${bin}:${process.env.PATH}`, HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config') };
  return { env };
}

const lines = (s: string) => s.split('\n').filter(Boolean);

test('bash: commands, subcommands, options and hosts from ~/.ssh/config', async (t) => {
  const { env } = await shellWorld(t);
  const complete = async (...words: string[]) => {
    const script = `source <(oauth-ssh completion bash); COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _oauth_ssh_completions; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = await run('bash', ['-c', script], { env });
    t.is(r.stderr, '');
    return lines(r.stdout);
  };
  t.deepEqual(await complete('oauth-ssh', 'lo'), ['login', 'logout']);
  t.deepEqual(await complete('oauth-ssh', 'token', ''), ['list', 'show']);
  t.deepEqual(await complete('oauth-ssh', 'token', 'show', 'm'), ['myhost']);
  t.deepEqual(await complete('oauth-ssh', 'b'), ['build-box'], 'a host to connect to');
  t.true((await complete('oauth-ssh', 'login', '--f')).includes('--force-login'));
  t.deepEqual(await complete('oauth-ssh', 'completion', ''), ['bash', 'zsh', 'fish']);
  t.deepEqual(await complete('oauth-ssh', 'myhost', ''), [], 'after the host: the remote command, not ours');
  t.deepEqual(await complete('oauth-ssh', 'x'), [], 'a host alias with shell syntax is not offered');
  t.false(existsSync(join(env.HOME, 'pwned')), 'and nothing in it ran');
  // Whatever oauth-ssh answers, the script hands it to no shell expansion.
  const script = (await run('oauth-ssh', ['completion', 'bash'], { env })).stdout;
  const liar = join(env.HOME, 'liar');
  await mkdir(liar);
  await writeFile(join(liar, 'oauth-ssh'), `#!/bin/sh\necho 'x$(touch \${HOME}/pwned2)'\n`, { mode: 0o755 });
  const lied = await run('bash', ['-c', `${script}\nCOMP_WORDS=(oauth-ssh x); COMP_CWORD=1; _oauth_ssh_completions; printf '%s\\n' "\${COMPREPLY[@]}"`], { env: { ...env, PATH: `${liar}:${env.PATH}` } });
  t.is(lied.stdout.trim(), 'x$(touch ${HOME}/pwned2)', 'offered as the literal text');
  t.false(existsSync(join(env.HOME, 'pwned2')));
});

test('fish: completions with their descriptions; zsh: the script parses and its answers carry descriptions', async (t) => {
  const { env } = await shellWorld(t);
  const fish = await run('fish', ['-c', 'oauth-ssh completion fish | source; complete -C "oauth-ssh login --fo"; complete -C "oauth-ssh to"'], { env });
  t.is(fish.stderr, '');
  t.deepEqual(lines(fish.stdout), ['--force-login\tauthenticate afresh even if a session exists', 'token\tinspect cached tokens: list, show']);
  const zshScript = await run('sh', ['-c', 'oauth-ssh completion zsh > "$HOME/_oauth-ssh" && zsh -n "$HOME/_oauth-ssh" && echo parsed'], { env });
  t.is(zshScript.stdout.trim(), 'parsed', zshScript.stderr);
  const zsh = await run('oauth-ssh', ['__complete', 'zsh', 'logout', '--a'], { env });
  t.deepEqual(lines(zsh.stdout), ['--all:every host']);
  t.regex((await run('oauth-ssh', ['completion', 'tcsh'], { env })).stderr, /Invalid values|choose bash, zsh, fish/);
});

/**
 * `oauth-ssh completion [bash|zsh|fish]`: a completion script that asks this
 * program what fits (yargs' `--get-yargs-completions`, as gh's `__complete`),
 * so completions come from the same command definitions as `--help`. Hosts
 * complete from your logins and the Host aliases of ~/.ssh/config.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import type { Argv } from 'yargs';
import { UsageError } from '../../shared/errors.js';
import type { CommandModule } from './index.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** Each script hands the words typed so far (the last one being completed) to `oauth-ssh __complete SHELL`. */
const SCRIPTS: Record<Shell, string> = {
  bash: `# oauth-ssh completion for bash: eval "$(oauth-ssh completion bash)" in ~/.bashrc
_oauth_ssh_completions() {
  # Taken as they come (oauth-ssh filters by prefix): compgen -W would expand $(...) in a host name.
  # A read loop, not mapfile: macOS's /bin/bash is 3.2.
  COMPREPLY=()
  local line
  while IFS= read -r line; do COMPREPLY+=("$line"); done < <(oauth-ssh __complete bash "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
}
complete -o bashdefault -o default -F _oauth_ssh_completions oauth-ssh
`,
  zsh: `#compdef oauth-ssh
# oauth-ssh completion for zsh: save as _oauth-ssh in a directory on $fpath, or eval "$(oauth-ssh completion zsh)" in ~/.zshrc
_oauth_ssh() {
  local -a reply
  reply=("\${(@f)$(oauth-ssh __complete zsh "\${words[@]:1:$CURRENT-1}" 2>/dev/null)}")
  if (( \${#reply} )) && [[ -n "\${reply[1]}" ]]; then _describe 'oauth-ssh' reply; else _default; fi
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then _oauth_ssh "$@"; else compdef _oauth_ssh oauth-ssh; fi
`,
  fish: `# oauth-ssh completion for fish: oauth-ssh completion fish > ~/.config/fish/completions/oauth-ssh.fish
complete -c oauth-ssh -f -a '(oauth-ssh __complete fish (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
`,
};

export function completionScript(shell: string): string {
  if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`no completion for "${shell}": choose ${SHELLS.join(', ')}`);
  return SCRIPTS[shell as Shell];
}

/** Host aliases from an ssh config text: `Host` words without wildcards or negation. */
export function sshConfigHosts(text: string): string[] {
  return [...text.matchAll(/^\s*Host\s+(.+)$/gim)].flatMap((m) => m[1]!.trim().split(/\s+/)).filter((h) => !/[*?!]/.test(h));
}

/** Only plain host names are offered: a shell may expand anything else it is handed ($(...), `...`, ~). */
const isHostName = (word: string) => /^[A-Za-z0-9._:%@-]+$/.test(word);

/** Hosts worth offering: the ones you have logins for, then your ssh config's aliases. */
export async function knownHosts(): Promise<string[]> {
  const hosts: string[] = [];
  try {
    const { TokenStore } = await import('../store/token-store.js');
    hosts.push(...TokenStore.forListing().list().map((r) => r.fqdn));
  } catch {
    // no store yet
  }
  try {
    hosts.push(...sshConfigHosts(readFileSync(join(homedir(), '.ssh', 'config'), 'utf8')));
  } catch {
    // no ssh config
  }
  return [...new Set(hosts)].filter(isHostName);
}

/** A command as its yargs builder declares it: options and subcommands, recorded rather than parsed. */
export interface CommandSpec {
  name: string;
  describe: string;
  options: Array<{ name: string; describe: string; takesValue: boolean; negatable: boolean }>;
  subcommands: CommandSpec[];
  /** Whether its first positional is a host (login HOST, token show HOST). */
  takesHost: boolean;
  choices: string[];
}

/** Runs a builder against a stand-in for yargs that writes down what it declares. */
export function recordCommand(module: CommandModule): CommandSpec {
  const spec: CommandSpec = { name: module.command.split(' ')[0]!, describe: module.describe, options: [], subcommands: [], takesHost: /\[host\]|<host>/.test(module.command), choices: [] };
  const recorder: unknown = new Proxy(
    {},
    {
      get: (_target, method: string) => (...args: unknown[]) => {
        const [name, options] = args as [unknown, { describe?: string; type?: string; choices?: string[] } | undefined];
        if (method === 'option' && typeof name === 'string') spec.options.push({ name, describe: options?.describe ?? '', takesValue: options?.type !== 'boolean', negatable: options?.type === 'boolean' });
        if (method === 'positional' && Array.isArray(options?.choices)) spec.choices.push(...options.choices);
        if (method === 'command' && name && typeof name === 'object') spec.subcommands.push(recordCommand(name as CommandModule));
        return recorder;
      },
    },
  );
  (module.builder as (y: unknown) => unknown)(recorder);
  return spec;
}

const GLOBAL_OPTIONS = [
  { name: 'help', describe: 'show help', takesValue: false, negatable: false },
  { name: 'version', describe: 'show the version', takesValue: false, negatable: false },
];

type Candidate = { word: string; describe: string };

/** What fits as the last word of `words` (the ones before it typed in full). */
export async function candidates(specs: CommandSpec[], words: string[], hosts: () => Promise<string[]>): Promise<Candidate[]> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  let level: CommandSpec | null = null;
  let children = specs;
  let positionals = 0;
  for (let i = 0; i < before.length; i++) {
    const word = before[i]!;
    if (word === '--') return []; // ssh's own arguments follow: the shell's defaults serve better
    if (word.startsWith('-')) {
      const option = level?.options.find((o) => `--${o.name}` === word);
      if (option?.takesValue) i++;
      continue;
    }
    const child = children.find((c) => c.name === word);
    if (child) {
      level = child;
      children = child.subcommands;
      positionals = 0;
    } else if (level === null) return []; // a host: the rest are ssh's command and arguments
    else positionals++;
  }
  const previous = before.at(-1);
  if (previous?.startsWith('--') && level?.options.find((o) => `--${o.name}` === previous)?.takesValue) return [];
  const out: Candidate[] = [];
  if (current.startsWith('-')) {
    for (const o of [...(level?.options ?? []), ...GLOBAL_OPTIONS]) {
      out.push({ word: `--${o.name}`, describe: o.describe });
      if (o.negatable) out.push({ word: `--no-${o.name}`, describe: o.describe });
    }
  } else if (positionals === 0) {
    out.push(...children.map((c) => ({ word: c.name, describe: c.describe })));
    out.push(...(level?.choices ?? []).map((c) => ({ word: c, describe: '' })));
    if (level === null || level.takesHost) out.push(...(await hosts()).map((h) => ({ word: h, describe: 'host' })));
  }
  return out.filter((c) => c.word.startsWith(current));
}

/** `oauth-ssh __complete SHELL WORDS...`: one candidate a line, with descriptions where the shell shows them. */
export async function completeLine(shell: string, words: string[]): Promise<number> {
  const { loadCommands } = await import('./index.js');
  const specs = (await loadCommands()).map(recordCommand);
  const found = await candidates(specs, words.length ? words : [''], knownHosts);
  const line = (c: Candidate) => (shell === 'zsh' ? `${c.word.replace(/:/g, '\\:')}${c.describe ? `:${c.describe}` : ''}` : shell === 'fish' && c.describe ? `${c.word}\t${c.describe}` : c.word);
  process.stdout.write(found.map((c) => `${line(c).replace(/\n/g, ' ')}\n`).join(''));
  return 0;
}

export const completionCommand = {
  command: 'completion [shell]',
  describe: 'print a shell completion script (bash, zsh or fish; default: your $SHELL)',
  builder: (y: Argv) => y.positional('shell', { type: 'string', choices: [...SHELLS], describe: 'the shell' }),
  handler: (argv: { shell?: string }) => {
    const shell = argv.shell ?? basename(process.env.SHELL ?? 'bash');
    process.stdout.write(completionScript(shell));
  },
};

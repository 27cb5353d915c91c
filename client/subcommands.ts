/** The client's own commands, and the one a mistyped word was probably meant to be. */

export const SUBCOMMANDS = new Set(['login', 'logout', 'token', 'accounts', 'status', 'setup', 'doctor', 'completion', 'help', '--help', '-h', '--version']);

/** Edit distance (with transpositions) between short words. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The subcommand a bare word was probably meant to be (`tokens` -> `token`). Host names keep
 * working: a word with a dot, @, colon, digit or dash is never taken for a typo (login1, login-2).
 */
export function nearSubcommand(word: string): string | undefined {
  if (SUBCOMMANDS.has(word) || /[.@:/0-9-]/.test(word) || word.length < 4) return undefined;
  return [...SUBCOMMANDS].filter((c) => !c.startsWith('-') && c !== 'help').find((c) => distance(word.toLowerCase(), c) <= (c.length > 5 ? 2 : 1));
}



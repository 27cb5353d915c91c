/**
 * Mutation check of the bridge: each mutant is the real pam_oauth_ssh.c with
 * one defence removed, compiled like the real one. The whole unhappy-peer
 * table (test/helpers/bridge-cases.ts) runs against it, and at least one case
 * must fail; a mutant that survives means a defence no test can see, and the
 * suite fails.
 */
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { BRIDGE_CASES, runBridgeCase } from '../helpers/bridge-cases.js';
import { run } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp.js';

interface Mutant {
  name: string;
  /** The exact text of the defence, and what the mutant has instead. */
  from: string;
  to: string;
}

const MUTANTS: Mutant[] = [
  { name: 'default result SUCCESS', from: 'int result = PAM_AUTHINFO_UNAVAIL;\n  int keepalives = 0;', to: 'int result = PAM_SUCCESS;\n  int keepalives = 0;' },
  {
    name: 'acct_mgmt always SUCCESS',
    from: 'PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv) {\n  (void)flags;\n  return authenticated_here(pamh, argc, argv) ? PAM_SUCCESS : PAM_IGNORE;',
    to: 'PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv) {\n  (void)flags; (void)pamh; (void)argc; (void)argv;\n  return PAM_SUCCESS;',
  },
  { name: 'peer uid not checked', from: ' || cred.uid != o->daemon_uid', to: '' },
  { name: 'lower-case success accepted', from: 'if (strcmp(name, table[i].name) == 0) return table[i].code;', to: 'if (strcasecmp(name, table[i].name) == 0) return table[i].code;' },
  { name: 'raw NUL accepted', from: 'if ((unsigned char)*c < 0x20) {', to: 'if ((unsigned char)*c < 0x20 && *c != 0) {' },
  { name: 'no line bound (64 lines)', from: 'for (int lines = 0; lines < MAX_DAEMON_LINES;) {', to: 'for (int lines = 0;;) {' },
  { name: 'no deadline', from: 'int wait = left < o->timeout_ms ? (int)left : o->timeout_ms;\n    if (wait <= 0) {', to: 'int wait = o->timeout_ms;\n    if (wait <= 0 && left > 0) {' },
  { name: 'environment mark trusted', from: '  if (!is_ticket(ticket) || parse_options(pamh, argc, argv, &o) != 0', to: '  if (ticket) return 1;\n  if (!is_ticket(ticket) || parse_options(pamh, argc, argv, &o) != 0' },
];

test('every mutant of the bridge is killed by the unhappy-peer table', async (t) => {
  const source = await readFile('server-pam/pam_oauth_ssh.c', 'utf8');
  // The Makefile's flags (hardening included), less -Werror: a mutant may leave a variable unused.
  const makefile = await readFile('server-pam/Makefile', 'utf8');
  const cflags = [...makefile.matchAll(/^CFLAGS\s*[?+:]?=\s*(.*)$/gm)].flatMap((m) => m[1]!.split(/\s+/)).filter((f) => f && f !== '-Werror');
  const dir = await tempDir(t, 'oauth-ssh-test-mutants-');
  const survivors: string[] = [];
  for (const mutant of MUTANTS) {
    t.true(source.includes(mutant.from), `the mutation "${mutant.name}" applies to the current source`);
    const file = `${dir}/${mutant.name.replace(/\W+/g, '-')}`;
    await writeFile(`${file}.c`, source.replace(mutant.from, mutant.to));
    const built = await run('cc', [...cflags, '-fPIC', '-shared', '-o', `${file}.so`, `${file}.c`, '-lpam']);
    t.is(built.code, 0, `${mutant.name}: ${built.stderr}`);
    let killedBy: string | undefined;
    for (const c of BRIDGE_CASES) {
      const { result, peer } = await runBridgeCase(t, `${file}.so`, c);
      if (!c.holds(result, peer)) {
        killedBy = c.name;
        break;
      }
    }
    if (killedBy) t.log(`${mutant.name}: killed by "${killedBy}"`);
    else survivors.push(mutant.name);
  }
  t.deepEqual(survivors, [], 'mutants that no case of the table kills');
});

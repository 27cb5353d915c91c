import test from 'ava';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastingCommand, selfCommand } from '../../client/launcher.js';

test('the setup helper runs the oauth-ssh command on PATH, never node\'s path or the package\'s', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'oauth-ssh-launcher-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pkg = join(dir, 'lib/node_modules/oauth-ssh/dist/client');
  mkdirSync(pkg, { recursive: true });
  const script = join(pkg, 'bin.js');
  writeFileSync(script, '#!/usr/bin/env node\n');
  chmodSync(script, 0o755);
  const npmBin = join(dir, 'npm-bin');
  mkdirSync(npmBin);
  symlinkSync(script, join(npmBin, 'oauth-ssh'));
  const debBin = join(dir, 'deb-bin');
  mkdirSync(debBin);
  writeFileSync(join(debBin, 'oauth-ssh'), `#!/bin/sh\nexec node ${script} "$@"\n`, { mode: 0o755 });
  const other = join(dir, 'other-bin');
  mkdirSync(other);
  writeFileSync(join(other, 'oauth-ssh'), '#!/bin/sh\nexec something-else "$@"\n', { mode: 0o755 });

  t.is(lastingCommand({ script: join(npmBin, 'oauth-ssh'), execArgv: [], path: `${other}:${npmBin}` }), `'${join(npmBin, 'oauth-ssh')}'`, 'npm: its link');
  t.is(lastingCommand({ script, execArgv: [], path: `/usr/bin:${other}:${debBin}` }), `'${join(debBin, 'oauth-ssh')}'`, 'the Debian wrapper that runs this script, not another oauth-ssh');
  t.is(lastingCommand({ script, execArgv: [], path: other }), `'${script}'`, 'nothing on PATH runs it: the script itself (its #! finds node)');
  t.is(lastingCommand({ script: join(dir, 'bin.ts'), execArgv: ['--import', 'tsx'], path: npmBin }), selfCommand(), 'a checkout under tsx');
  t.false(lastingCommand({ script, execArgv: [], path: npmBin }).includes(process.execPath));
});

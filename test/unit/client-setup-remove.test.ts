/** `setup --remove` takes the helper and askpass away only when no ssh config file still uses them. */
import test, { type ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setupSshConfig } from '../../client/ssh-config-setup.js';
import { tempDir } from '../helpers/temp.js';

async function home(t: ExecutionContext) {
  const dir = await tempDir(t);
  process.env.XDG_DATA_HOME = join(dir, 'data');
  const defaultConfig = join(dir, '.ssh', 'config');
  const setup = (file: string, pattern: string, remove = false) => setupSshConfig(file, pattern, remove, join(dir, '.ssh'));
  const launchersThere = () => existsSync(join(dir, 'data/oauth-ssh/oauth-ssh-helper')) && existsSync(join(dir, 'data/oauth-ssh/askpass'));
  return { dir, defaultConfig, setup, launchersThere };
}

test.serial('the last remove deletes the launchers; an earlier one, or one that removed nothing, keeps them', async (t) => {
  const { dir, defaultConfig, setup, launchersThere } = await home(t);
  const work = join(dir, 'work.conf');
  await setup(defaultConfig, 'a.example');
  await setup(work, 'b.example');
  const first = await setup(defaultConfig, 'a.example', true);
  t.false(first.launchersRemoved);
  t.deepEqual(first.stillUsedBy, [work]);
  const typo = await setup(join(dir, 'nonexistent.conf'), 'b.example', true);
  t.false(typo.changed);
  t.false(typo.launchersRemoved, 'a remove that took nothing out deletes nothing');
  t.true(launchersThere());
  const last = await setup(work, 'b.example', true);
  t.true(last.launchersRemoved);
  t.false(launchersThere());
});

test.serial('a remove that takes nothing out deletes nothing, even with no block left anywhere', async (t) => {
  const { dir, defaultConfig, setup, launchersThere } = await home(t);
  await setup(defaultConfig, 'a.example');
  await writeFile(defaultConfig, ''); // edited away by hand
  const typo = await setup(join(dir, 'nonexistent.conf'), 'a.example', true);
  t.false(typo.changed);
  t.false(typo.launchersRemoved);
  t.true(launchersThere());
});

test.serial('after an upgrade (blocks but no record yet) a remove deletes nothing', async (t) => {
  const { dir, defaultConfig, setup, launchersThere } = await home(t);
  const work = join(dir, 'work.conf');
  await setup(work, 'b.example');
  await setup(defaultConfig, 'a.example');
  await rm(join(dir, 'data/oauth-ssh/setup.json'));
  const removed = await setup(defaultConfig, 'a.example', true);
  t.true(removed.changed);
  t.false(removed.launchersRemoved, 'work.conf, unrecorded, may still use them');
  t.true(launchersThere());
  // Still unknown later: a new add does not make the older files known.
  await setup(defaultConfig, 'c.example');
  t.false((await setup(defaultConfig, 'c.example', true)).launchersRemoved);
  t.true(launchersThere());
});

test.serial('a symlinked file is one file', async (t) => {
  const { dir, defaultConfig, setup, launchersThere } = await home(t);
  await setup(defaultConfig, 'a.example');
  const link = join(dir, 'cfglink');
  await symlink(defaultConfig, link);
  await setup(link, 'b.example');
  t.true((await setup(defaultConfig, 'a.example', true)).stillUsedBy.length === 1);
  const last = await setup(link, 'b.example', true);
  t.deepEqual(last.stillUsedBy, []);
  t.true(last.launchersRemoved);
  t.false(launchersThere());
  await writeFile(defaultConfig, '');
});

test.serial('a damaged record is moved aside, and then the launchers are kept: the files they serve are unknown', async (t) => {
  const { dir, defaultConfig, setup, launchersThere } = await home(t);
  await setup(defaultConfig, 'a.example');
  await writeFile(join(dir, 'data/oauth-ssh/setup.json'), '{ damaged');
  const removed = await setup(defaultConfig, 'a.example', true);
  t.true(removed.changed);
  t.false(removed.launchersRemoved);
  t.true(launchersThere());
});

import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadClientConfig } from '../../client/config.js';
import { tempDir } from '../helpers/temp.js';

test('the parsed config is cached, follows edits, and survives a damaged cache', async (t) => {
  const dir = await tempDir(t);
  process.env.XDG_CACHE_HOME = join(dir, 'cache');
  process.env.OAUTH_SSH_CONFIG = join(dir, 'config.yaml');
  await writeFile(process.env.OAUTH_SSH_CONFIG, 'client_id: first\n');
  t.is((await loadClientConfig()).clientId, 'first');
  const cache = join(dir, 'cache/oauth-ssh/config.json');
  t.like(JSON.parse(await readFile(cache, 'utf8')), { file: process.env.OAUTH_SSH_CONFIG, doc: { client_id: 'first' } });
  await writeFile(process.env.OAUTH_SSH_CONFIG, 'client_id: second-value\nbackend: file\n');
  t.is((await loadClientConfig()).clientId, 'second-value', 'an edited file is parsed again');
  await writeFile(cache, '{ damaged');
  t.is((await loadClientConfig()).backend, 'file');
  await writeFile(process.env.OAUTH_SSH_CONFIG, 'client_id: [unclosed\n');
  await t.throwsAsync(loadClientConfig(), { message: /config\.yaml: not valid YAML/ });
});

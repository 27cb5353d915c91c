import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempLabel } from './namespace.js';
import type { Teardown } from './teardown.js';

/** A private (0700) temporary directory removed at teardown, also when the test fails. */
export async function tempDir(t: Teardown, label = 'oauth-ssh-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), tempLabel(label)));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

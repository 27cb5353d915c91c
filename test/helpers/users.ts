/**
 * Local Unix accounts for tests, all named with TEST_USER_PREFIX so that
 * scripts/test-cleanup can remove leftovers of a killed run. Each is deleted
 * (with its home) at teardown.
 */
import { randomBytes } from 'node:crypto';
import type { Teardown } from './teardown.js';
import { run, runOk } from './processes.js';

export const TEST_USER_PREFIX = 'oast';

export interface TestUser {
  name: string;
  uid: number;
  home: string;
}

export async function createTestUser(t: Teardown, options: { system?: boolean; name?: string } = {}): Promise<TestUser> {
  const name = options.name ?? `${TEST_USER_PREFIX}${randomBytes(4).toString('hex')}`;
  await runOk('useradd', [...(options.system ? ['--system'] : []), '--create-home', '--shell', '/bin/sh', name]);
  t.teardown(async () => {
    await run('pkill', ['-KILL', '-u', name]);
    await run('userdel', ['--remove', '--force', name]);
  });
  const [, , uid, , , home] = (await runOk('getent', ['passwd', name])).trim().split(':');
  return { name, uid: Number(uid), home: home! };
}

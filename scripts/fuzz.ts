/**
 * scripts/fuzz: the suite's two fuzzers, for longer and with any seed.
 *   scripts/fuzz [bridge|daemon|all] [--seed N] [--rounds N] [--frames N] [--sessions N]
 * Round i uses seed N+i; a failure prints the seed that reproduces it
 * (OAUTH_SSH_FUZZ_SEED=... in the suite, or --seed here) and exits 1.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSanitized, fuzzBridge } from '../test/helpers/fuzz-bridge.js';
import { fuzzDaemon } from '../test/helpers/fuzz-daemon.js';
import { startJwtIssuer } from '../test/helpers/jwt-issuer.js';
import { installPamService } from '../test/helpers/pam.js';
import { startServerWithLines } from '../test/helpers/server.js';
import { scriptTeardown } from '../test/helpers/teardown.js';
import { tempDir } from '../test/helpers/temp.js';
import { createTestUser } from '../test/helpers/users.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seed: { type: 'string' }, rounds: { type: 'string', default: '10' }, frames: { type: 'string', default: '1000000' }, sessions: { type: 'string', default: '50000' } },
});
const which = positionals[0] ?? 'all';
if (!['bridge', 'daemon', 'all'].includes(which)) {
  console.error('usage: scripts/fuzz [bridge|daemon|all] [--seed N] [--rounds N] [--frames N] [--sessions N]');
  process.exit(2);
}
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const rounds = Number(values.rounds);
const t = scriptTeardown();
let failed = false;
try {
  if (which !== 'daemon') {
    const dir = await tempDir(t, 'oauth-ssh-fuzz-');
    const { bridge, driver } = await buildSanitized(dir);
    const socketPath = join(dir, 'fuzz.sock');
    const service = await installPamService(t, `auth required ${bridge} socket=${socketPath} timeout=5 deadline=60`);
    for (let i = 0; i < rounds && !failed; i++) {
      const report = await fuzzBridge({ seed: seed + i, minFrames: Number(values.frames), socketPath, service, driver });
      const bad = report.sanitizer || report.mismatches.join('\n');
      console.log(`bridge seed ${seed + i}: ${report.frames} frames, ${report.sessions} sessions: ${bad ? 'FAILED' : 'ok'}`);
      if (bad) {
        console.log(bad);
        failed = true;
      }
    }
  }
  if (which !== 'bridge' && !failed) {
    const issuer = await startJwtIssuer(t);
    const user = await createTestUser(t);
    const server = await startServerWithLines(t, ['auth_method scitokens', `scitokens_issuers ${issuer.issuer}`, 'scitokens_audience https://ssh.example.org', 'audit_log file:/dev/null']);
    const token = await issuer.mint({ sub: 'fuzz', aud: 'https://ssh.example.org', scope: `ssh:/${user.name}`, padding: 'p'.repeat(600) }, { expiresIn: 24 * 3600 });
    for (let i = 0; i < rounds && !failed; i++) {
      const report = await fuzzDaemon({ seed: seed + i, sessions: Number(values.sessions), socketPath: server.socketPath, user: user.name, token });
      console.log(`daemon seed ${seed + i}: ${report.sessions} sessions, ${report.successes} successes: ${report.violations.length ? 'FAILED' : 'ok'}`);
      if (report.violations.length) {
        console.log(report.violations.join('\n'));
        failed = true;
      }
    }
  }
} finally {
  await t.run();
}
process.exit(failed ? 1 : 0);

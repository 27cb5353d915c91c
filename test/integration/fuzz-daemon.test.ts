/**
 * The bounded daemon fuzzer in the suite: a hostile bridge against the real
 * daemon (a JWT issuer behind it), oracle "SUCCESS only for the right user
 * and token, CHECK only for a ticket issued to that user". `scripts/fuzz
 * daemon` runs it longer, with any seed.
 */
import test from 'ava';
import { fuzzDaemon } from '../helpers/fuzz-daemon.js';
import { startJwtIssuer } from '../helpers/jwt-issuer.js';
import { startServerWithLines } from '../helpers/server.js';
import { createTestUser } from '../helpers/users.js';

const SEED = Number(process.env.OAUTH_SSH_FUZZ_SEED ?? 20261201);
const AUD = 'https://ssh.example.org';

test('fuzz: a hostile bridge gets SUCCESS only for the right user and token', async (t) => {
  const issuer = await startJwtIssuer(t);
  const user = await createTestUser(t);
  const server = await startServerWithLines(t, ['auth_method scitokens', `scitokens_issuers ${issuer.issuer}`, `scitokens_audience ${AUD}`, 'audit_log stderr']);
  // Long enough to travel in parts (the fuzzer splits it at 500 characters).
  const token = await issuer.mint({ sub: 'fuzz', aud: AUD, scope: `ssh:/${user.name}`, padding: 'p'.repeat(600) });
  const report = await fuzzDaemon({ seed: SEED, sessions: 10_000, socketPath: server.socketPath, user: user.name, token });
  t.log(`seed ${SEED}: ${report.sessions} sessions, ${report.successes} successes; outcomes ${JSON.stringify(report.outcomes)}`);
  t.true(report.successes > 50, 'the fuzzer reaches SUCCESS too: the oracle is not vacuous');
  t.deepEqual(report.violations, [], `reproduce with OAUTH_SSH_FUZZ_SEED=${SEED}`);
});

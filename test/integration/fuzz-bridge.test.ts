/**
 * The bounded bridge fuzzer in the suite: at least 100,000 hostile frames
 * against the bridge built with ASan and UBSan, judged by a model of
 * PROTOCOL.md. `scripts/fuzz bridge` runs it longer, with any seed.
 */
import test from 'ava';
import { join } from 'node:path';
import { buildSanitized, fuzzBridge, modelResult } from '../helpers/fuzz-bridge.js';
import { installPamService } from '../helpers/pam.js';
import { tempDir } from '../helpers/temp.js';

const SEED = Number(process.env.OAUTH_SSH_FUZZ_SEED ?? 20261201);

test('the model of PROTOCOL.md agrees with the protocol document on the cases it names', (t) => {
  const f = (s: string, newline = true) => ({ bytes: Buffer.from(s, 'latin1'), newline });
  t.is(modelResult([f('INFO hi'), f('RESULT SUCCESS')]), 'SUCCESS');
  t.is(modelResult([f('RESULT SUCCESS\u0000AUTH_ERR')]), 'AUTHINFO_UNAVAIL');
  t.is(modelResult([f('RESULT SUCC%45SS')]), 'SUCCESS', 'a value is decoded before it is read');
  t.is(modelResult([...Array(63).fill(f('INFO x')), f('RESULT SUCCESS')]), 'SUCCESS', '64 lines in all');
  t.is(modelResult([...Array(64).fill(f('INFO x')), f('RESULT SUCCESS')]), 'AUTHINFO_UNAVAIL', 'a 65th line');
  t.is(modelResult([...Array(1024).fill(f('KEEPALIVE')), f('RESULT SUCCESS')]), 'SUCCESS');
  t.is(modelResult([...Array(1025).fill(f('KEEPALIVE')), f('RESULT SUCCESS')]), 'AUTHINFO_UNAVAIL');
  t.is(modelResult([f(`TICKET ${'a'.repeat(64)}`), f('RESULT SUCCESS')]), 'SUCCESS');
  t.is(modelResult([f('INFO x'), f('RESULT SUCCESS', false)]), 'AUTHINFO_UNAVAIL', 'cut off before the newline');
});

test('fuzz: 100,000+ hostile frames against the bridge under ASan and UBSan, judged by the protocol model', async (t) => {
  const dir = await tempDir(t, 'oauth-ssh-test-fuzz-');
  const { bridge, driver } = await buildSanitized(dir);
  const socketPath = join(dir, 'fuzz.sock');
  const service = await installPamService(t, `auth required ${bridge} socket=${socketPath} timeout=5 deadline=60`);
  const report = await fuzzBridge({ seed: SEED, minFrames: 100_000, socketPath, service, driver });
  t.log(`seed ${SEED}: ${report.frames} frames in ${report.sessions} sessions; expected outcomes ${JSON.stringify(report.counts)}`);
  t.true(report.frames >= 100_000);
  t.true((report.counts.SUCCESS ?? 0) > 10, 'the fuzzer reaches SUCCESS too: the oracle is not vacuous');
  t.is(report.sanitizer, '', 'no sanitizer report');
  t.deepEqual(report.mismatches, [], `reproduce with OAUTH_SSH_FUZZ_SEED=${SEED}`);
});

// A fixed-seed sample of the rotation fault harness (test/aws/rotationFaults.mjs; the full run of a
// few hundred cases is bench/rotation-faults.mjs): random layouts and secrets, kills at random
// instants and mid-call, concurrent rotations, random resume/rollback sequences, then the
// invariants (one active key, its pair in every touched file and authenticating, no raw secret
// stored or printed, no temp file, only stale locks). A failure prints the case to replay.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMoto, type Moto } from '../aws/moto.mjs';
import { runCases } from '../aws/rotationFaults.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const SEED = 20251122;
const CASES = 24;
let moto: Moto;

before(async () => {
  moto = await startMoto();
});
after(() => moto?.stop());

test(`rotation under faults: ${CASES} generated cases (seed ${SEED}) keep every invariant`, async () => {
  const r = await runCases(moto, { seed: SEED, count: CASES, parallel: 2 });
  assert.equal(r.run, CASES);
  const report = r.failures
    .map((f) => `seed ${f.seed} case ${f.index}: ${f.summary}\n  ${f.violations.join('\n  ')}\n  replay: ROTATION_FAULTS_SEED=${f.seed} ROTATION_FAULTS_ONLY=${f.index} node bench/rotation-faults.mjs`)
    .join('\n');
  assert.equal(r.failures.length, 0, report);
});

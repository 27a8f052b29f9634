// The rotation fault harness at scale (test/aws/rotationFaults.mjs says what it does and checks):
// a few hundred generated cases of random file layouts and secrets, kills at random instants and
// mid-call, concurrent rotations, random resume/rollback sequences. Prints the cases run and the
// invariants held; exits non-zero on any violation, printing the seed and case to replay:
//   ROTATION_FAULTS_SEED=<seed> ROTATION_FAULTS_ONLY=<index> node bench/rotation-faults.mjs
// ROTATION_FAULTS_CASES (default 240) and ROTATION_FAULTS_PARALLEL (default 2) size the run.
import { startMoto } from '../test/aws/moto.mjs';
import { generateCases, runCase, runCases } from '../test/aws/rotationFaults.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const seed = Number(process.env.ROTATION_FAULTS_SEED) || Date.now() % 1_000_000;
const count = Number(process.env.ROTATION_FAULTS_CASES) || 240;
const parallel = Number(process.env.ROTATION_FAULTS_PARALLEL) || 2;
const only = process.env.ROTATION_FAULTS_ONLY;
const moto = await startMoto();
const started = Date.now();
let failed = 0;
try {
  if (only !== undefined) {
    const index = Number(only);
    const c = generateCases(seed, index + 1)[index];
    const r = await runCase(moto, c, `${seed}-${index}-replay`);
    console.log(`seed ${seed} case ${index}: ${r.summary}`);
    for (const v of r.violations) console.log(`  VIOLATION ${v}`);
    failed = r.violations.length ? 1 : 0;
  } else {
    const types = new Map();
    const r = await runCases(moto, {
      seed,
      count,
      parallel,
      onCase: (index, res) => {
        const type = res.summary.split(' ')[0].replace(/\(.*/, '');
        types.set(type, (types.get(type) ?? 0) + 1);
        if ((index + 1) % 20 === 0) console.log(`  … ${index + 1} cases`);
      },
    });
    const secs = (Date.now() - started) / 1000;
    console.log(`rotation faults (seed ${seed}): ${r.run} cases in ${secs.toFixed(0)} s (${(secs / r.run).toFixed(1)} s a case, ${parallel} at a time): ${[...types].map(([t, n]) => `${n} ${t}`).join(', ')}`);
    console.log(`invariants held in ${r.held} of ${r.run} cases`);
    for (const f of r.failures) {
      console.log(`FAILED seed ${f.seed} case ${f.index}: ${f.summary}`);
      for (const v of f.violations) console.log(`  VIOLATION ${v}`);
      console.log(`  replay: ROTATION_FAULTS_SEED=${f.seed} ROTATION_FAULTS_ONLY=${f.index} node bench/rotation-faults.mjs`);
    }
    failed = r.failures.length;
  }
} finally {
  moto.stop();
}
process.exit(failed ? 1 : 0);

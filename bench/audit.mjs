// Times the account audit (`keysentry audit`, a separate process, through the real SDK) against
// moto seeded like the tests (and with the seed-2 traffic and bill), over every region moto lists
// (38 here) and over three regions: today's checks (--no-hardening, no traffic, no bill) and the same
// audit with the hardening checks, --traffic and --costs, in the same run. moto answers far faster
// than AWS, so the figures are the client's own cost (start-up, SDK, checks) plus the emulator's,
// not what a real account costs. Fails when the full audit takes more than twice today's.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMoto } from '../test/aws/moto.mjs';
import { seedAccount } from '../test/aws/seedAccount.mjs';
import { queueBill, seedTraffic } from '../test/aws/seedTraffic.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli.js');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const RUNS = 5;

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const moto = await startMoto();
let failed = false;
try {
  const seeded = await seedAccount(moto);
  // Three days of NetworkOut for every instance (moto's GetMetricData is quadratic in what it holds).
  await seedTraffic(moto.endpoint, { relay: seeded.stray.instance, quiet: [{ region: 'us-east-1', instance: seeded.web.instance }, { region: 'us-east-1', instance: seeded.recent }], days: 3 });
  const env = { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: seeded.admin.id, AWS_SECRET_ACCESS_KEY: seeded.admin.secret, AWS_REGION: 'us-east-1' };
  const today = ['--no-hardening'];
  const full = ['--traffic', '--traffic-days', '3', '--costs'];
  for (const [label, scope] of [['every region moto lists', []], ['3 regions', ['--regions', 'us-east-1,ap-south-1,eu-west-1']]]) {
    const medians = {};
    for (const [which, extra] of [['today\'s checks', today], ['with hardening, --traffic, --costs', full]]) {
      const times = [];
      for (let i = 0; i < RUNS; i++) {
        if (extra === full) await queueBill(moto.endpoint);
        const t = performance.now();
        // Async: moto's log pipe must keep draining while the audit runs.
        try {
          await promisify(execFile)('node', [cli, 'audit', '--format', 'json', ...scope, ...extra], { env, maxBuffer: 64 * 1024 * 1024 });
        } catch (e) {
          if (e.code !== 1) throw e;
          const out = JSON.parse(e.stdout.toString());
          if (i === 0) {
            const dt = out.incidents.filter((x) => x.type === 'data-transfer').length;
            console.log(`audit (${label}, ${which}): ${out.regions.length} region(s), ${out.incidents.length} incident(s)${out.traffic ? `, ${out.traffic.instancesChecked} instance(s) of traffic, ${dt} data-transfer` : ''}${out.errors.length ? `, ${out.errors.length} error(s)` : ''}`);
          }
        }
        times.push(performance.now() - t);
      }
      medians[which] = median(times);
      console.log(`keysentry audit, ${label}, ${which}: median ${Math.round(median(times))} ms over ${RUNS} runs (min ${Math.round(Math.min(...times))}, max ${Math.round(Math.max(...times))})`);
    }
    const [a, b] = Object.values(medians);
    const ratio = b / a;
    console.log(`keysentry audit, ${label}: the new checks take ${ratio.toFixed(2)}x today's time (limit 2x)${ratio > 2 ? '  FAIL' : ''}`);
    if (ratio > 2) failed = true;
  }
} finally {
  moto.stop();
}
if (failed) process.exitCode = 1;

// Times the account audit (`keysentry audit`, a separate process, through the real SDK) against
// moto seeded like the tests, over every region moto lists and over three regions. moto answers far faster than AWS, so the audit figures are the
// client's own cost (start-up, SDK, checks) plus the emulator's, not what a real account costs.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMoto } from '../test/aws/moto.mjs';
import { seedAccount } from '../test/aws/seedAccount.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli.js');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const moto = await startMoto();
try {
  const seeded = await seedAccount(moto);
  const env = { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: seeded.admin.id, AWS_SECRET_ACCESS_KEY: seeded.admin.secret, AWS_REGION: 'us-east-1' };
  for (const [label, extra] of [['every region moto lists', []], ['3 regions', ['--regions', 'us-east-1,ap-south-1,eu-west-1']]]) {
    const times = [];
    let found = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      // Async: moto's log pipe must keep draining while the audit runs.
      try {
        await promisify(execFile)('node', [cli, 'audit', '--format', 'json', ...extra], { env, maxBuffer: 64 * 1024 * 1024 });
      } catch (e) {
        if (e.code !== 1) throw e;
        const out = JSON.parse(e.stdout.toString());
        found = out.incidents.length;
        if (i === 0) console.log(`audit (${label}): ${out.regions.length} region(s), ${found} incident(s)`);
      }
      times.push(performance.now() - t);
    }
    console.log(`keysentry audit, ${label}: median ${Math.round(median(times))} ms over 5 runs (min ${Math.round(Math.min(...times))}, max ${Math.round(Math.max(...times))})`);
  }
} finally {
  moto.stop();
}


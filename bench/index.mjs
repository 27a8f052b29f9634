// npm run bench: every benchmark in this folder, one after the other, each in its own Node process
// (so one's memory and warm caches do not colour the next). A benchmark is a bench/*.mjs file
// other than this one; each prints its own numbers and exits non-zero when a check fails.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'index.mjs')
  .filter((f) => !only.length || only.some((o) => f.startsWith(o)))
  .sort();
let failed = 0;
for (const f of benches) {
  console.log(`\n== bench/${f}`);
  const r = spawnSync(process.execPath, [path.join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`bench/${f} failed (exit ${r.status ?? r.signal})`);
  }
}
console.log(`\n${benches.length - failed} of ${benches.length} benchmark(s) passed their checks`);
process.exit(failed ? 1 : 0);

// npm run bench: Keysentry's scan speed and memory on the reference corpus (61 MB, ~3,960 files),
// secretlint's time on a fixed subset of the same files (scaled to the whole corpus by bytes),
// the equivalence of the anchor windows with every rule on every whole file, and the time to
// rescan a 5,000-line document after an edit, and the ratio to a bare walk of the same files.
// Prints numbers; asserts nothing about speed. Fails when a check fails (equivalence, threads).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpus = path.join(root, '.cache', 'perf-corpus');
execFileSync('bash', [path.join(root, 'bench', 'make-perf-corpus.sh'), corpus], { stdio: 'inherit' });
const cli = path.join(root, 'dist', 'cli.js');
const runs = Number(process.env.BENCH_RUNS ?? 9);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const hasTime = existsSync('/usr/bin/time');

function timed(args, cwd) {
  const started = process.hrtime.bigint();
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 })
    : spawnSync(process.execPath, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const rssKb = hasTime ? Number(r.stderr.trim().split('\n').pop()) : NaN;
  return { ms, rssKb, stdout: r.stdout, status: r.status };
}

// 1. keysentry scan --all-files, warm cache, including Node start-up, against the floor: a bare
// Node walk that reads every file and runs one regex over it (bench/baseline/bare-walk.mjs). The
// three are run in turn within each round, so a busy machine slows them alike; the ratio is
// the scan's time over the walk's. Also one thread only (KEYSENTRY_SCAN_THREADS=1).
const bare = path.join(root, 'bench', 'baseline', 'bare-walk.mjs');
const oneThread = { ...process.env, KEYSENTRY_SCAN_THREADS: '1' };
function timedEnv(args, cwd, env) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 30 });
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, stdout: r.stdout, status: r.status };
}
timed([cli, 'scan', '--all-files', '--format', 'json'], corpus); // warm the page cache
timed([bare, corpus], corpus);
const samples = [];
const bareSamples = [];
const oneSamples = [];
let peak = 0;
let last;
let lastOne;
for (let i = 0; i < runs; i++) {
  bareSamples.push(timed([bare, corpus], corpus).ms);
  last = timed([cli, 'scan', '--all-files', '--format', 'json'], corpus);
  samples.push(last.ms);
  peak = Math.max(peak, last.rssKb);
  lastOne = timedEnv([cli, 'scan', '--all-files', '--format', 'json'], corpus, oneThread);
  oneSamples.push(lastOne.ms);
}
const fast = JSON.parse(last.stdout);
const one = JSON.parse(lastOne.stdout);
const m = median(samples);
const mb = median(bareSamples);
const m1 = median(oneSamples);
console.log(`bare Node walk + one regex (bench/baseline/bare-walk.mjs): median ${mb.toFixed(0)} ms over ${runs} runs (min ${Math.min(...bareSamples).toFixed(0)}, max ${Math.max(...bareSamples).toFixed(0)})`);
console.log(`keysentry scan --all-files: median ${m.toFixed(0)} ms over ${runs} runs (min ${Math.min(...samples).toFixed(0)}, max ${Math.max(...samples).toFixed(0)}), peak RSS ${(peak / 1024).toFixed(0)} MB; ratio to the bare walk ${(m / mb).toFixed(2)}`);
console.log(`keysentry scan --all-files, one thread: median ${m1.toFixed(0)} ms; ratio to the bare walk ${(m1 / mb).toFixed(2)}`);
console.log(`  ${fast.stats.files} files, ${(fast.stats.bytes / 1e6).toFixed(1)} MB, ${fast.findings.length} findings: ${fast.findings.map((f) => `${f.file}:${f.line} ${f.kind}`).join(', ')}`);
let failed = 0;
const threadsSame = JSON.stringify(fast.findings) === JSON.stringify(one.findings) && JSON.stringify(fast.stats.skipped) === JSON.stringify(one.stats.skipped);
console.log(`worker threads vs one thread: ${threadsSame ? 'identical' : 'DIFFERENT'}`);
if (!threadsSame) failed++;

// 2. Equivalence: every rule on every whole file must find exactly the same.
const ex = timed([cli, 'scan', '--all-files', '--format', 'json', '--exhaustive'], corpus);
const slow = JSON.parse(ex.stdout);
const same = JSON.stringify(slow.findings) === JSON.stringify(fast.findings);
console.log(`equivalence with every rule on every whole file: ${same ? 'identical' : 'DIFFERENT'} (${slow.findings.length} vs ${fast.findings.length} findings; exhaustive run took ${(ex.ms / 1000).toFixed(1)} s)`);
if (!same) failed++;

// 3. secretlint 12 CLI, recommended preset, on every 20th file (fixed subset), scaled by bytes.
const files = [];
(function walk(d) {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.isFile() && e.name !== '.complete') files.push(p);
  }
})(corpus);
files.sort();
const subset = files.filter((_, i) => i % 20 === 0);
const subsetBytes = subset.reduce((n, f) => n + statSync(f).size, 0);
const totalBytes = files.reduce((n, f) => n + statSync(f).size, 0);
const rcDir = mkdtempSync(path.join(tmpdir(), 'keysentry-bench-'));
writeFileSync(path.join(rcDir, '.secretlintrc.json'), JSON.stringify({ rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] }));
const sl = timed([path.join(root, 'node_modules', 'secretlint', 'bin', 'secretlint.js'), '--secretlintrc', path.join(rcDir, '.secretlintrc.json'), '--format', 'json', ...subset.map((f) => path.relative(corpus, f))], corpus);
const scaled = (sl.ms * totalBytes) / subsetBytes;
const ks = timed([cli, 'scan', '--all-files', '--format', 'json', ...subset.map((f) => path.relative(corpus, f))], corpus);
console.log(`secretlint 12 (recommended preset) on a fixed subset of ${subset.length} files (${(subsetBytes / 1e6).toFixed(1)} MB): ${(sl.ms / 1000).toFixed(1)} s, scaled to the corpus: ~${(scaled / 1000).toFixed(0)} s`);
console.log(`keysentry on the same subset: ${ks.ms.toFixed(0)} ms; on the whole corpus ${median(samples).toFixed(0)} ms: ~${Math.round(scaled / median(samples))}x faster than secretlint`);

// 4. Re-typing in a 5,000-line file: the in-editor rescan of one document.
const typing = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'typing.ts')], { cwd: root, encoding: 'utf8' });
process.stdout.write(typing.stdout + typing.stderr);
process.exit(failed ? 1 : 0);

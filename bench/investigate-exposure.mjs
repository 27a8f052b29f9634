// npm run bench: the exposure date of a leaked key comes from git's pickaxe (`git log -S<key id>`,
// src/git/exposure.ts), which reads every diff of the history once. Histories of N commits (each
// changing a file of ~40 lines; the key added in the first tenth) for N = 1000 and 10000: 10x the
// history must cost well under 30x the time (quadratic would be ~100x). Also prints the time of a
// key that is not in the history (the whole walk), which the 20 s bound caps.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
const SIZES = (process.env.BENCH_COMMITS ?? '1000,10000').split(',').map(Number);
const KEY = 'AKIAZ4EXPOSUREBENCH7';

function build(n) {
  const dir = mkdtempSync(path.join(tmpdir(), 'keysentry-bench-exposure-'));
  execFileSync('git', ['init', '-q', '-b', 'main', dir], { env });
  const data = (s) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  const parts = [];
  const keyAt = Math.floor(n / 10);
  for (let i = 0; i < n; i++) {
    const body = Array.from({ length: 40 }, (_, l) => `line ${l} of file ${i % 50} version ${i}`).join('\n') + (i >= keyAt ? `\nAWS_ACCESS_KEY_ID=${KEY}\n` : '\n');
    parts.push(`commit refs/heads/main\nmark :${i + 1}\ncommitter B <b@example.invalid> ${1700000000 + i * 60} +0000\n${data(`c${i}\n`)}${i ? `from :${i}\n` : ''}M 100644 inline f${i % 50}.txt\n${data(body)}`);
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, env, input: parts.join('') });
  return { dir, expected: new Date((1700000000 + keyAt * 60) * 1000).toISOString() };
}

function measure(dir, key) {
  const code = `import('${path.join(root, 'src', 'git', 'exposure.ts').replace(/\\/g, '/')}').then(async (m) => { const t = performance.now(); const f = m.firstCommitAdding ?? m.default.firstCommitAdding; const r = await f(process.argv[1], process.argv[2]); console.log(JSON.stringify({ ms: performance.now() - t, r })); })`;
  const p = spawnSync(process.execPath, ['--import', 'tsx', '-e', code, dir, key], { cwd: root, env, encoding: 'utf8' });
  if (p.status !== 0) throw new Error(p.stderr);
  return JSON.parse(p.stdout.trim().split('\n').pop());
}

const results = [];
for (const n of SIZES) {
  const { dir, expected } = build(n);
  const hit = measure(dir, KEY);
  if (hit.r?.date !== expected) throw new Error(`expected ${expected}, found ${JSON.stringify(hit.r)}`);
  const miss = measure(dir, 'AKIAZ4NOTINHISTORY77');
  rmSync(dir, { recursive: true, force: true });
  results.push({ n, ms: hit.ms });
  console.log(`${String(n).padStart(6)} commits: first commit adding the key ${hit.ms.toFixed(0).padStart(6)} ms; key not in history ${miss.ms.toFixed(0).padStart(6)} ms`);
}
let failed = false;
const [first, last] = [results[0], results[results.length - 1]];
if (first && last && last.n > first.n) {
  const ratio = last.ms / first.ms;
  const inputRatio = last.n / first.n;
  console.log(`history x${inputRatio} -> time x${ratio.toFixed(1)} (limit x${inputRatio * 3}; quadratic ~x${inputRatio * inputRatio})`);
  if (ratio > inputRatio * 3) {
    console.log('FAIL: finding the exposure commit is not linear in the history');
    failed = true;
  }
}
process.exit(failed ? 1 : 0);

// npm run bench: the pre-push scan must take time linear in the number of refs pushed. A push of
// N updated branches (each one new commit on top of a branch the remote has) is scanned by the
// built CLI, as the hook runs it, for N = 30, 100 and 300. ~10x the refs must cost well under
// 30x the time (quadratic would be ~100x). The issue measured 39 s at 100 and 255 s at 300.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli.js');
if (!existsSync(cli)) throw new Error('dist/cli.js is missing: npm run build');
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
const SIZES = (process.env.BENCH_REFS ?? '30,100,300').split(',').map(Number);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A repository with `n` branches the remote has (remote-tracking refs) and one new commit on each. */
function build(n) {
  const dir = mkdtempSync(path.join(tmpdir(), 'keysentry-bench-refs-'));
  execFileSync('git', ['init', '-q', '-b', 'main', dir], { env });
  const parts = [];
  const data = (s) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  let mark = 1;
  parts.push(`commit refs/heads/main\nmark :${mark++}\ncommitter B <b@example.invalid> 1700000000 +0000\n${data('base\n')}M 100644 inline README.md\n${data('# base\n')}`);
  const lines = [];
  for (let i = 0; i < n; i++) {
    // The branch as the remote has it, then one local commit on top.
    const onRemote = mark++;
    parts.push(`commit refs/remotes/origin/b${i}\nmark :${onRemote}\ncommitter B <b@example.invalid> ${1700000100 + i} +0000\n${data(`remote ${i}\n`)}from :1\nM 100644 inline src/b${i}.js\n${data(`export const v${i} = ${i};\n`)}`);
    parts.push(`commit refs/heads/b${i}\nmark :${mark++}\ncommitter B <b@example.invalid> ${1700100000 + i} +0000\n${data(`local ${i}\n`)}from :${onRemote}\nM 100644 inline src/b${i}.js\n${data(`export const v${i} = ${i + 1};\nexport const w${i} = 'x';\n`)}`);
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, env, input: parts.join('') });
  const refs = execFileSync('git', ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/b*', 'refs/remotes/origin/'], { cwd: dir, env, encoding: 'utf8' });
  const sha = new Map(refs.trim().split('\n').map((l) => l.split(' ').reverse()).map(([s, r]) => [r, s]));
  for (let i = 0; i < n; i++) lines.push(`refs/heads/b${i} ${sha.get(`refs/heads/b${i}`)} refs/heads/b${i} ${sha.get(`refs/remotes/origin/b${i}`)}`);
  return { dir, input: lines.join('\n') + '\n' };
}

const results = [];
for (const n of SIZES) {
  const { dir, input } = build(n);
  const times = [];
  let out = '';
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const p = spawnSync(process.execPath, [cli, 'pre-push', '--fail-closed', '--no-record', '--format', 'json', '--', 'origin', 'origin'], { cwd: dir, env, input, encoding: 'utf8', maxBuffer: 1 << 28 });
    times.push(performance.now() - t0);
    if (p.status !== 0) throw new Error(`pre-push exited ${p.status}: ${p.stderr}`);
    out = p.stdout;
  }
  const commits = JSON.parse(out).commits;
  if (commits !== n) throw new Error(`expected ${n} outgoing commits, the scan found ${commits}`);
  rmSync(dir, { recursive: true, force: true });
  results.push({ n, ms: median(times) });
  console.log(`${String(n).padStart(4)} branches, ${n} outgoing commits: ${median(times).toFixed(0).padStart(6)} ms (median of ${runs})`);
}

let failed = false;
const first = results[0];
const last = results[results.length - 1];
if (first && last && last.n > first.n) {
  const inputRatio = last.n / first.n;
  const timeRatio = last.ms / first.ms;
  // Node start-up (~100 ms) is a constant that flattens the ratio; the check is against quadratic.
  const limit = inputRatio * 3;
  console.log(`input x${inputRatio.toFixed(1)} -> time x${timeRatio.toFixed(1)} (limit x${limit.toFixed(0)}; quadratic would be ~x${(inputRatio * inputRatio).toFixed(0)})`);
  if (timeRatio > limit) {
    console.log('FAIL: the pre-push scan is not linear in the number of refs');
    failed = true;
  }
}
process.exit(failed ? 1 : 0);

// npm run bench: path names are scanned in linear time. A push of one commit adding N files, with
// names made to pass the cheap filter (`secrets/` folders, `AKIA…` folder names, 40-character
// segments) and one file named after a key pair, is scanned by the built CLI as the hook runs it,
// for N = 2,000 and 20,000. The key in the name must be found each time, and 10x the files must
// cost well under 30x the time.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fakeKeyId, fakeSecret } from '../test/fixtures/fake-keys.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli.js');
if (!existsSync(cli)) throw new Error('dist/cli.js is missing: npm run build');
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
const SIZES = (process.env.BENCH_NAMES ?? '2000,20000').split(',').map(Number);

function build(n) {
  const dir = mkdtempSync(path.join(tmpdir(), 'keysentry-bench-names-'));
  execFileSync('git', ['init', '-q', '-b', 'main', dir], { env });
  const data = (s) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  const keyId = fakeKeyId();
  let secret = fakeSecret();
  while (secret.includes('/')) secret = fakeSecret();
  const lines = [`commit refs/heads/main\nmark :1\ncommitter B <b@example.invalid> 1700000000 +0000\n${data('base\n')}M 100644 inline README.md\n${data('# base\n')}`];
  const files = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 3;
    files.push(kind === 0 ? `secrets/app-${i}/config.yaml` : kind === 1 ? `AKIAFOLDER/${i}/x.txt` : `hashes/${(i.toString(16) + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0').slice(0, 40)}/f`);
  }
  files.push(`creds/${keyId}_${secret}.txt`);
  lines.push(`commit refs/heads/main\nmark :2\ncommitter B <b@example.invalid> 1700000100 +0000\n${data('many files\n')}from :1\n${files.map((f) => `M 100644 inline ${f}\n${data('x\n')}`).join('')}`);
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, env, input: lines.join(''), maxBuffer: 1 << 28 });
  const rev = (r) => execFileSync('git', ['rev-parse', r], { cwd: dir, env, encoding: 'utf8' }).trim();
  return { dir, secret, input: `refs/heads/main ${rev('main')} refs/heads/main ${rev('main~1')}\n` };
}

const times = [];
let failed = false;
for (const n of SIZES) {
  const { dir, secret, input } = build(n);
  try {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, 'pre-push', '--no-record', '--format', 'json', '--', 'origin', 'origin'], { cwd: dir, env, input, encoding: 'utf8', maxBuffer: 1 << 28 });
    const ms = performance.now() - t0;
    times.push(ms);
    const found = r.status === 1 && /\(file name\) creds\//.test(r.stdout);
    if (!found || r.stdout.includes(secret) || r.stderr.includes(secret)) failed = true;
    console.log(`  ${String(n).padStart(6)} files: ${Math.round(ms)} ms (${((ms * 1000) / n).toFixed(0)} µs per file)${found ? '' : '  KEY IN NAME NOT FOUND'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const ratio = times[times.length - 1] / times[0];
const scale = SIZES[SIZES.length - 1] / SIZES[0];
console.log(`  ${scale}x the files: ${ratio.toFixed(1)}x the time (linear ~${scale}x; quadratic ~${scale * scale}x)`);
if (ratio > scale * 3) {
  console.log('  FAIL: name scanning does not scale linearly');
  failed = true;
}
process.exit(failed ? 1 : 0);

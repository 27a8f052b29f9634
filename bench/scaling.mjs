// npm run bench: the scanner is linear on hostile inputs. Each input below is scanned at size N
// and 10N (N chosen so that 10N takes a few hundred ms); the time should grow about 10x. Fails
// (exit 1) when a ratio exceeds MAX_RATIO, i.e. when some step is super-linear again.
//   node bench/scaling.mjs                 all cases, the current scanner
//   node bench/scaling.mjs --only yxdz     one case
//   node bench/scaling.mjs --legacy        the scanner before issue #11 (test/fixtures/legacy-scanner),
//                                          for the README's "before" column; give it --only and patience
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The scanner is TypeScript: run this file again with tsx loaded (as bench/run.mjs runs typing.ts).
if (!process.env.KEYSENTRY_SCALING_CHILD) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, KEYSENTRY_SCALING_CHILD: '1' },
  });
  process.exit(r.status ?? 1);
}
const args = process.argv.slice(2);
const legacy = args.includes('--legacy');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const scale = Number(process.env.SCALING_SCALE ?? 1);
const MAX_RATIO = 20;
const RUNS = Number(process.env.SCALING_RUNS ?? 3);
/** The small size is measured more often: its noise weighs most in the ratio. */
const SMALL_RUNS = RUNS + 2;

const engine = await import(legacy ? '../test/fixtures/legacy-scanner/engine.ts' : '../src/core/detect/engine.ts');
const { IgnoreMatcher } = await import(legacy ? '../test/fixtures/legacy-scanner/ignoreFile.ts' : '../src/core/detect/ignoreFile.ts');
const { fakeKeyId, fakeSecret, fakeSessionToken } = await import('../test/fixtures/fake-keys.mjs');
const { scanBytes } = legacy ? {} : await import('../src/core/detect/scanFiles.ts');

// A small pool of fake keys, reused: generating millions would time the generator.
const ids = Array.from({ length: 512 }, (_, i) => fakeKeyId(i % 3 ? 'AKIA' : 'ASIA'));
const secrets = Array.from({ length: 512 }, () => fakeSecret());
const token = fakeSessionToken();
const pick = (pool, i) => pool[i % pool.length];

/** name → [N, make(n) → text]; the ignore case returns a function to time instead of a text. */
const cases = {
  'CloudTrail export (n events)': [
    1000,
    (n) =>
      JSON.stringify(
        {
          Records: Array.from({ length: n }, (_, i) => ({
            eventVersion: '1.08',
            userIdentity: { type: 'AssumedRole', principalId: 'AROAEXAMPLE:session', accessKeyId: pick(ids, i), accountId: '123456789012' },
            eventTime: '2024-01-01T00:00:00Z',
            eventName: 'GetObject',
            sourceIPAddress: '203.0.113.7',
          })),
        },
        null,
        2,
      ),
  ],
  'YXdz flood (n x 4 chars)': [25_000, (n) => 'YXdz'.repeat(n)],
  'one line of 40-char tokens (n)': [6_000, (n) => 'aws_secret_access_key=' + Array.from({ length: n }, (_, i) => pick(secrets, i * 7 + (i >> 9))).join(',')],
  'many key ids (n lines)': [4_000, (n) => Array.from({ length: n }, (_, i) => `AWS_ACCESS_KEY_ID=${pick(ids, i)}`).join('\n')],
  'many named secrets (n lines)': [3_000, (n) => Array.from({ length: n }, (_, i) => `aws_secret_access_key = ${pick(secrets, i)}`).join('\n')],
  'ids and secrets on one line (n pairs)': [1_000, (n) => Array.from({ length: n }, (_, i) => `"${pick(ids, i)}","${pick(secrets, i)}"`).join(',')],
  'long line, key in the middle (n x 8 chars)': [100_000, (n) => 'var a=1;'.repeat(n / 2) + `k="${ids[0]}";s="${secrets[0]}";secret=1;` + 'b=2;'.repeat(n)],
  'PEM headers without END (n)': [3_000, (n) => '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n'.repeat(n)],
  'PuTTY headers on one line (n)': [10_000, (n) => 'PuTTY-User-Key-File-2: x '.repeat(n) + '\nx\n'],
  'session tokens with ASIA ids (n)': [500, (n) => Array.from({ length: n }, (_, i) => `aws_access_key_id=${pick(ids, i * 3)}\naws_session_token=${token}`).join('\n')],
  'suppression comments and keys (n)': [1_000, (n) => Array.from({ length: n }, (_, i) => `# secretlint-disable\naws_secret_access_key = ${pick(secrets, i)} # secretlint-disable-line\n# secretlint-enable\n${pick(ids, i)}`).join('\n')],
  '"secret" words and whitespace (n)': [20_000, (n) => 'secret   \n\t '.repeat(n) + `aws_secret_access_key = ${secrets[1]}`],
  // Encoded values: every candidate is decoded and its text scanned again (decode.ts), at most 10,000 per file.
  'decode: base64 values with encoded ids (n lines)': [
    500,
    (n) => Array.from({ length: n }, (_, i) => `  key${i}: ${Buffer.from(`id=${pick(ids, i)} note=${i}`).toString('base64')}`).join('\n'),
  ],
  'decode: one line of %2F-encoded runs (n)': [20_000, (n) => `url=${pick(ids, 0)}:` + 'abc%2Fdef%2B'.repeat(n)],
  'decode: a huge base64 run with an encoded anchor (n x 4 chars)': [200_000, (n) => 'secret: QUtJQ' + 'QUFB'.repeat(n)],
  // Binary content (a NUL first): printable strings and UTF-16LE runs are extracted, then scanned.
  'binary: UTF-16LE key lines (n)': [
    3_000,
    (n) => {
      if (!scanBytes) return () => undefined;
      const bytes = Buffer.concat([Buffer.from([0x4d, 0x5a, 0, 0]), ...Array.from({ length: n }, (_, i) => Buffer.from(`\0AWS_ACCESS_KEY_ID=${pick(ids, i)}\r\n`, 'utf16le'))]);
      return Object.assign(() => scanBytes(bytes, 'x.bin', {}), { bytes: bytes.length });
    },
  ],
  'binary: 3-char UTF-16LE runs (n)': [
    200_000,
    (n) => {
      if (!scanBytes) return () => undefined;
      const bytes = Buffer.concat([Buffer.from([0x4d, 0x5a, 0, 0]), Buffer.from('A\0K\0I\0\x01'.repeat(n), 'latin1')]);
      return Object.assign(() => scanBytes(bytes, 'x.bin', {}), { bytes: bytes.length });
    },
  ],
  'nested-star ignore pattern (n names)': [
    20_000,
    (n) => {
      // Distinct names, and a fresh matcher for every timed run: the matcher caches answers per
      // path, so a reused one would time cache hits (the warm-up run filled the cache).
      const names = Array.from({ length: n }, (_, i) => `src/${'a'.repeat(45)}${i}`);
      return () => {
        const m = new IgnoreMatcher('a*a*a*a*a*a*a*a*a*a*a*a*b\n');
        return names.filter((p) => m.ignores(p)).length;
      };
    },
  ],
};

async function timeOnce(input) {
  globalThis.gc?.(); // each run starts from a collected heap: the previous run's garbage is not billed to it
  const t = performance.now();
  if (typeof input === 'function') await input();
  else await engine.scanText(input, 'bench.json');
  return performance.now() - t;
}

async function measure(make, n, runs) {
  const input = make(n);
  if (!legacy) await timeOnce(input); // warm-up
  const xs = [];
  for (let i = 0; i < runs; i++) xs.push(await timeOnce(input));
  // The fastest run: on a shared machine the others measure the neighbours.
  return { ms: Math.min(...xs), bytes: typeof input === 'string' ? input.length : (input.bytes ?? 0) };
}

const rows = [];
let failed = 0;
for (const [name, [baseN, make]] of Object.entries(cases)) {
  if (only && !name.toLowerCase().includes(only.toLowerCase())) continue;
  const n = Math.max(1, Math.round(baseN * scale));
  const small = await measure(make, n, legacy ? 1 : SMALL_RUNS);
  // The old scanner is quadratic on most of these: 10N is only tried when it can end within minutes.
  if (legacy && small.ms > 3000) {
    rows.push([name, String(n), small.ms.toFixed(1), 'not run', '-', '']);
    console.log(rows.at(-1).join(' | '));
    continue;
  }
  const big = await measure(make, n * 10, legacy ? 1 : RUNS);
  const ratio = big.ms / Math.max(small.ms, 0.5);
  const ok = ratio <= MAX_RATIO;
  if (!ok) failed++;
  rows.push([name, String(n), small.ms.toFixed(1), big.ms.toFixed(1), ratio.toFixed(1) + (ok ? '' : ' !'), big.bytes ? `${(big.bytes / 1e6).toFixed(1)} MB` : '']);
  if (legacy) console.log(rows.at(-1).join(' | ')); // the old scanner is slow: show each row as it comes
}

const head = ['input', 'N', 'ms at N', 'ms at 10N', 'ratio', 'size at 10N'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => '| ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
console.log(`scaling of ${legacy ? 'the scanner before issue #11' : 'the scanner'}: fastest of ${RUNS} runs at N and 10N; linear when the ratio is about 10 (fails above ${MAX_RATIO})`);
console.log(line(head));
console.log('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
for (const r of rows) console.log(line(r));
if (failed) console.log(`${failed} input(s) scale super-linearly`);
process.exit(failed ? 1 : 0);

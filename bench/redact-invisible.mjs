// redact() on hostile text at N and 10N characters: the time must scale about linearly (ratio
// near 10; the check fails above 20), and the plain-text path (no invisible character, no line
// break) is compared with the invisible-free view in the same run. Inputs: runs of base64 split
// by soft hyphens, zero-width spaces, tag characters and line breaks, near-miss 39-char runs,
// `%` and `&#` floods, blank-line floods.
// Usage: node bench/redact-invisible.mjs [N characters, default 50000]
// Each size is timed three times and the fastest run counts (the machine is shared).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tsImport } from 'tsx/esm/api';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const here = path.dirname(fileURLToPath(import.meta.url));
const { redact } = await tsImport(path.join(here, '..', 'src', 'core', 'mask.ts'), import.meta.url);
const N = Number(process.argv[2]) || 50_000;
const MAX_RATIO = 20;
const fill = (unit, n) => unit.repeat(Math.max(1, Math.ceil(n / unit.length))).slice(0, n);
const CASES = {
  'plain base64 run (fast path)': (n) => fill('A', n),
  'plain words (fast path)': (n) => fill('the quick brown fox ', n),
  'A + soft hyphen': (n) => fill('A\u00ad', n),
  'A + zero-width space': (n) => fill('A\u200b', n),
  'A + tag character': (n) => fill('A\u{e0041}', n),
  'A + line break': (n) => fill('A\n', n),
  'A + CRLF + indent': (n) => fill('A\r\n  ', n),
  '39-char runs split by U+00AD': (n) => fill(`${'B'.repeat(39)} \u00ad`, n),
  '% flood with breaks': (n) => fill('AAAA%\n', n),
  '&# flood with ZWJ': (n) => fill('&#\u200d', n),
  'blank-line flood': (n) => fill('A\n\n\n', n),
  'key ids by line': (n) => fill('AKIAIOSFODNN7EXAMPLE\n', n),
};
function time(fn) {
  gc();
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
let failed = 0;
console.log(`redact(): N=${N} and 10N characters`);
for (const [name, make] of Object.entries(CASES)) {
  const small = make(N);
  const big = make(10 * N);
  redact(small); // warm up
  const a = Math.max(Math.min(time(() => redact(small)), time(() => redact(small)), time(() => redact(small))), 1); // floor: sub-ms timings are noise
  const b = Math.min(time(() => redact(big)), time(() => redact(big)), time(() => redact(big)));
  const ratio = b / a;
  const ok = ratio <= MAX_RATIO;
  if (!ok) failed++;
  console.log(`${name.padEnd(32)} ${a.toFixed(1).padStart(8)} ms ${b.toFixed(1).padStart(9)} ms  x${ratio.toFixed(1)}${ok ? '' : '  FAIL (above x' + MAX_RATIO + ')'}`);
}
process.exit(failed ? 1 : 0);

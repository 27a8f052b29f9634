// The abuse-notice parser on hostile notices, each at N and 10N bytes: the time must scale about
// linearly (ratio near 10; the check fails above 20). Inputs: `<` floods (the HTML-to-text step),
// `&#` floods and out-of-range character references, deep and wide multipart, one long line,
// many headers, line-break floods, encoded-word floods and quoted-printable floods.
// Usage: node bench/notice-scaling.mjs [N bytes, default 90000: 10N stays under the 1 MB cap]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tsImport } from 'tsx/esm/api';

// A collection before each timed run, so that one run's garbage is not billed to the next.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const here = path.dirname(fileURLToPath(import.meta.url));
const { parseNotice } = await tsImport(path.join(here, '..', 'src', 'core', 'incidents', 'notice.ts'), import.meta.url);
const N = Number(process.argv[2]) || 90_000;
const MAX_RATIO = 20;

const fill = (unit, n) => unit.repeat(Math.max(1, Math.ceil(n / unit.length))).slice(0, n);
const eml = (headers, body) => `From: AWS Abuse <ec2-abuse@amazon.com>\nSubject: Your EC2 Abuse Report\nDate: Wed, 18 Nov 2026 21:03:00 +0000\n${headers}\n${body}`;
function nested(n) {
  // multipart inside multipart, as deep as the size allows, then a text part
  let depth = Math.floor(n / 60);
  let body = 'i-0f3e7a91c2d4b5a68 port scanning\n';
  let type = 'text/plain';
  while (depth-- > 0) {
    const b = `b${depth}`;
    body = `--${b}\nContent-Type: ${type}\n\n${body}\n--${b}--\n`;
    type = `multipart/mixed; boundary="${b}"`;
  }
  return eml(`Content-Type: ${type}\n`, body);
}
const CASES = {
  '< flood (HTML)': (n) => `<html><body>${fill('<', n)}</body></html>`,
  '<a< flood (HTML)': (n) => `<html><body>${fill('<a', n)}`,
  '<script flood': (n) => `<html><body>${fill('<script>', n)}`,
  '&# flood': (n) => `<html><body>${fill('&#', n)}`,
  '&#x110000; flood': (n) => `<html><body>${fill('&#x110000;&#99999999999;&#xD800;', n)}`,
  'deep multipart': nested,
  'wide multipart': (n) => eml('Content-Type: multipart/mixed; boundary="x"\n', fill('--x\nContent-Type: text/plain\n\nabuse\n', n)),
  'one long line (a)': (n) => fill('a', n),
  'one long line (1.1.1.)': (n) => fill('1.', n),
  'one long line (hex:)': (n) => fill('a:', n),
  'many headers': (n) => fill('X-Header: value\n', n) + '\nport scanning i-0f3e7a91c2d4b5a68',
  'line-break flood': (n) => `x\n${fill('\n', n)}`,
  'white space flood': (n) => `x${fill(' \t', n)}`,
  'encoded-word flood': (n) => `Subject: ${fill('=?utf-8?q?', n)}\nFrom: a\n\nbody`,
  'quoted-printable flood': (n) => eml('Content-Transfer-Encoding: quoted-printable\n', fill('=3D=\n', n)),
  'base64 flood': (n) => eml('Content-Transfer-Encoding: base64\nContent-Type: text/html\n', fill('PDw8PDw8PDw8\n', n)),
  'key ids and IPs': (n) => fill('AKIAIOSFODNN7EXAMPLE 203.0.113.9 i-0f3e7a91c2d4b5a68 ', n),
  'IAM user flood': (n) => fill('IAM user ', n),
  'case/ticket flood': (n) => fill('case: case ', n),
  // A boundary as long as the input (review: ~400 KB emptied the parse), and many near-delimiter lines.
  'huge MIME boundary': (n) => eml(`Content-Type: multipart/mixed; boundary="${fill('b', n)}"\n`, `--${fill('b', n)}\nContent-Type: text/plain\n\nport scanning i-0f3e7a91c2d4b5a68\n`),
  'exposed-at + blanks': (n) => fill(`publicly available online at${' '.repeat(200)}\n${' '.repeat(200)}x `, n),
  'notice families flood': (n) => fill('Abuse date (yyyy-mm-dd): 2024-13-45 Abuse time: 99:99 Time zone: +9999 contact AWS by 2025-02-30 within five (7) days Case ID: Severity: IAM User \'a.b-c\' ', n),
  'near-delimiter lines': (n) => eml('Content-Type: multipart/mixed; boundary="0123456789012345678901234567890123456789012345678901234567890123456789"\n', fill('--01234567890123456789012345678901234567890123456789012345678901234567x\n', n)),
};

function time(input) {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    gc();
    const t = performance.now();
    parseNotice(input);
    best = Math.min(best, performance.now() - t);
  }
  return best;
}
const firstLine = (e) => String(e?.message ?? e).split('\n')[0].slice(0, 120);

let failed = 0;
console.log(`N = ${N} bytes; ratio = time(10N) / time(N), linear ≈ 10, check fails above ${MAX_RATIO}`);
for (const [name, make] of Object.entries(CASES)) {
  const small = make(N);
  const big = make(10 * N);
  let a;
  let b;
  let ratio = Infinity;
  try {
    time(small); // warm up
    // The machine is shared: a ratio over the limit is measured again (up to 3 times, the best
    // counts). A quadratic step gives ratios in the hundreds every time.
    for (let attempt = 0; attempt < 3 && ratio > MAX_RATIO; attempt++) {
      const x = time(small);
      const y = time(big);
      // Below 2 ms the ratio is noise: count such a case as linear.
      if (y / Math.max(x, 2) < ratio) [a, b, ratio] = [x, y, y / Math.max(x, 2)];
    }
  } catch (e) {
    failed++;
    console.log(`FAIL ${name.padEnd(24)} threw: ${firstLine(e)}`);
    continue;
  }
  const ok = ratio <= MAX_RATIO;
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(24)} N: ${a.toFixed(1).padStart(8)} ms   10N: ${b.toFixed(1).padStart(9)} ms   ratio ${ratio.toFixed(1)}`);
}
process.exit(failed ? 1 : 0);

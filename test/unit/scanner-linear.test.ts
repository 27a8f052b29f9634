// The linear scanner must find exactly what the scanner before issue #11 found (kept as an oracle
// in test/fixtures/legacy-scanner) and exactly what every rule finds on the whole text (the
// exhaustive mode), on generated files: random fake keys in random layouts. And scanning any
// input, however hostile, terminates and never throws. Speed is measured in bench/scaling.mjs;
// nothing here is timed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { scanText, MAX_MATCHES_PER_FILE } from '../../src/core/detect/engine';
import { runOwnRules } from '../../src/core/detect/ownRules';
import { pemPrivateKeyRegex, puttyKeyRegex } from '../../src/core/detect/patterns';
import { scanText as oldScanText } from '../fixtures/legacy-scanner/engine';
import { AWS_SECRET_CONTEXT } from '../../src/core/detect/patterns';
import type { Finding } from '../../src/core/types';

/**
 * The old scanner's findings, less what issue #16 stopped reporting on purpose: a secret named
 * only by a `secret…` name with no AWS context on its line (`secret = …`) and no key id to pair with,
 * and 40-character fragments of a percent-encoded value (`…%2F` + 40 characters).
 */
async function legacyScanText(text: string, file: string): Promise<Finding[]> {
  const lines = text.split('\n');
  return (await oldScanText(text, file)).filter((f) => {
    if (f.kind !== 'aws-secret-access-key' || f.rule !== 'keysentry/aws-secret-access-key') return true;
    const line = lines[f.line - 1] ?? '';
    if (line[f.column - 2] === '%' || line[f.column + 39] === '%') return false; // a fragment of a percent-encoded value
    if (f.pairedKeyId) return true;
    return AWS_SECRET_CONTEXT.test(line.slice(0, f.column - 1).slice(-200));
  });
}
// @ts-expect-error plain ESM helper
import { fakePrivateKey, fakeOpenSshKey, fakePuttyKey } from '../fixtures/fake-keys.mjs';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.split('');
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('');
const chars = (alphabet: string[], length: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...alphabet), minLength: length, maxLength: length });

// Key material from fast-check's own randomness, so a failing case replays from its seed.
const keyId = fc.tuple(fc.constantFrom('AKIA', 'ASIA', 'ABIA', 'ACCA', 'A3TX', 'AIDA'), chars(BASE32, 16)).map(([p, b]) => p + b);
const secret = chars(B64, 40);
const token = fc.tuple(fc.constantFrom('IQoJb3JpZ2luX2Vj', 'FwoGZXIvYXdzE', 'YXdz'), chars(B64, 220)).map(([m, b]) => m + b);
const PEMS: string[] = [fakePrivateKey('pkcs1'), fakePrivateKey('ec'), fakeOpenSshKey()];
const PUTTY: string = fakePuttyKey();
const pem = fc.tuple(fc.constantFrom(...PEMS), fc.constantFrom('plain', 'json', 'crlf', 'truncated', 'no-end')).map(([k, how]) => {
  if (how === 'json') return JSON.stringify({ private_key: k });
  if (how === 'crlf') return k.replace(/\n/g, '\r\n');
  if (how === 'truncated') return k.slice(0, 120);
  if (how === 'no-end') return k.replace(/-----END/, '----- END');
  return k;
});

const idName = fc.constantFrom('AWS_ACCESS_KEY_ID', 'aws_access_key_id', '"AccessKeyId"', 'accessKeyId', 'key', '');
const secretName = fc.constantFrom('AWS_SECRET_ACCESS_KEY', 'aws_secret_access_key', '"SecretAccessKey"', 'secretKey', 'secret', 'password', 'value', '');
const tokenName = fc.constantFrom('AWS_SESSION_TOKEN', 'aws_session_token', '"SessionToken"', 'security_token', 'blob', '');
const assign = fc.constantFrom(' = ', '=', ': ', ': "', "='", ' => ', ',', '\n   =\n  "', ' ');
const marker = fc.constantFrom(
  ' # secretlint-disable-line',
  ' # gitleaks:allow',
  ' # keysentry:ignore',
  // Markers count only after a comment token that follows a blank (suppress.ts): each one here does.
  ' # secretlint-disable-next-line\n',
  ' # keysentry:ignore-next-line\n',
  ' # secretlint-disable\n',
  ' # secretlint-enable\n',
  ' # secretlint-disable @secretlint/secretlint-rule-aws\n',
  '',
);
const filler = fc.oneof(
  fc.constantFrom('', 'x', 'filler line', 'export const secretName = getSecret();', 'secret secret secret', '-----BEGIN PUBLIC KEY-----', 'PuTTY-User-Key-File-2: ssh-rsa', 'AKIAXXXXXXXXXXXXXXXX'),
  fc.string({ maxLength: 40 }),
  fc.nat({ max: 400 }).map((n) => 'var a=1;'.repeat(n)),
);
const piece = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(idName, assign, keyId, marker).map(([n, a, v, m]) => `${n}${a}${v}${m}`) },
  { weight: 3, arbitrary: fc.tuple(secretName, assign, secret, marker).map(([n, a, v, m]) => `${n}${a}${v}${m}`) },
  { weight: 1, arbitrary: fc.tuple(tokenName, assign, token).map(([n, a, v]) => `${n}${a}${v}`) },
  { weight: 1, arbitrary: pem },
  { weight: 1, arbitrary: fc.constant(PUTTY) },
  { weight: 4, arbitrary: filler },
  { weight: 1, arbitrary: marker },
);
const separator = fc.constantFrom('\n', '\n', '\n', ' ', ',', '', '\r\n', '\n\n\n\n\n\n\n', '\t');
const layout = fc.array(fc.tuple(piece, separator), { minLength: 1, maxLength: 24 }).map((parts) => parts.map(([p, s]) => p + s).join('') + '\n # secretlint-enable\n'); // an unended block disable hides nothing now (suppress.ts); the old scanner's hid to the end

test('generated files: the linear scanner finds exactly what the old one did, and what every rule finds on the whole text', async () => {
  await fc.assert(
    fc.asyncProperty(layout, fc.constantFrom('x.txt', 'config.yml', 'k.pem', '.env'), async (text, file) => {
      const now = await scanText(text, file);
      const before = await legacyScanText(text, file);
      assert.deepEqual(now, before, 'same findings as before the change');
      const exhaustive = await scanText(text, file, { exhaustive: true });
      assert.deepEqual(now, exhaustive, 'same findings as every rule on the whole text');
    }),
    { numRuns: 300 },
  );
});

test('pairing at the edges: ids at equal and boundary distances (PAIR_CHARS, PAIR_LINES) pair as before', async () => {
  const gap = fc.oneof(fc.constant(3), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 975, max: 1025 }));
  const newlines = fc.integer({ min: 0, max: 7 });
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.oneof(keyId, secret, token), gap, newlines, fc.constantFrom(' ', ',', '+', '/')), { minLength: 2, maxLength: 8 }), async (parts) => {
      const text = parts.map(([v, g, n, sep]) => `${v}${sep}${'.'.repeat(g)}${'\n'.repeat(n)}`).join('');
      assert.deepEqual(await scanText(text, 'x.txt'), await legacyScanText(text, 'x.txt'));
    }),
    { numRuns: 300 },
  );
  // A secret exactly between two ids: the first in file order wins the tie, as before.
  await fc.assert(
    fc.asyncProperty(keyId, fc.oneof(secret, token), keyId, gap, fc.integer({ min: 0, max: 6 }), async (a, v, b, g, n) => {
      const pad = ` ${'.'.repeat(g)}${'\n'.repeat(n)}`;
      const text = `${a}${pad}${v}${pad}${b}`;
      assert.deepEqual(await scanText(text, 'x.txt'), await legacyScanText(text, 'x.txt'));
    }),
    { numRuns: 100 },
  );
});

test('generated files at 10x: the same findings as the old scanner, keys far apart and close together', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(layout, { minLength: 5, maxLength: 10 }), async (texts) => {
      const text = texts.join('\n');
      assert.deepEqual(await scanText(text, 'big.txt'), await legacyScanText(text, 'big.txt'));
    }),
    { numRuns: 25 },
  );
});

// Hostile building blocks, repeated, mixed with arbitrary text: whatever comes out, a scan ends and returns findings.
const hostile = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('YXdz', 'IQoJb3JpZ2luX2Vj', 'secret', 'secretlint-disable\n', 'secretlint-enable ', '-----BEGIN RSA PRIVATE KEY-----', '-----END PRIVATE KEY-----', 'PuTTY-User-Key-File-3: ', 'Private-Lines: 3\n', '\uFEFF', '\u2028', '\r', '\0'),
  keyId,
  secret,
  token,
);
const hostileText = fc.array(fc.tuple(hostile, fc.nat({ max: 50 })), { maxLength: 30 }).map((parts) => parts.map(([p, n]) => p.repeat(n)).join(''));

test('any input: a scan terminates, never throws, and both modes agree', async () => {
  await fc.assert(
    fc.asyncProperty(hostileText, async (text) => {
      const fast = await scanText(text, 'x.txt');
      assert.ok(Array.isArray(fast));
      assert.deepEqual(fast, await scanText(text, 'x.txt', { exhaustive: true }));
    }),
    { numRuns: 200 },
  );
});

test('linear PEM and PuTTY matching give exactly the regexes’ matches', () => {
  fc.assert(
    fc.property(hostileText, fc.array(fc.constantFrom(...PEMS, PUTTY, '-----END RSA PRIVATE KEY-----', '-----BEGIN PRIVATE KEY-----', 'PuTTY-User-Key-File-2: x\nPrivate-Lines: 1\nQUJD\n'), { maxLength: 6 }), (noise, keys) => {
      const text = keys.map((k, i) => (i % 2 ? k + noise : noise.slice(0, 50) + k)).join('');
      const own = runOwnRules(text).matches.filter((m) => m.kind === 'private-key');
      const expected = [
        ...[...text.matchAll(pemPrivateKeyRegex())].map((m) => ({ start: m.index, value: m[0], body: m[2] })),
        ...[...text.matchAll(puttyKeyRegex())].map((m) => ({ start: m.index, value: m[0], body: m[2] })),
      ];
      assert.deepEqual(own.map((m) => ({ start: m.start, value: m.value, body: m.fingerprintSource })), expected);
    }),
    { numRuns: 300 },
  );
});

test('the match cap: past it a file is reported as not fully scanned, never silently', async () => {
  const text = Array.from({ length: 50 }, (_, i) => `AWS_ACCESS_KEY_ID=AKIA${'ABCDEFGHKLMNOPQR'.slice(i % 8)}${'STUVWXYZ'.slice(0, i % 8)}`).join('\n');
  const reasons: string[] = [];
  const capped = await scanText(text, 'x.env', { maxMatches: 10, onIncomplete: (r) => reasons.push(r) });
  assert.equal(reasons.length, 1);
  assert.match(reasons[0] as string, /more than 10 candidate matches/);
  assert.ok(capped.length <= 10);
  const full: string[] = [];
  await scanText(text, 'x.env', { onIncomplete: (r) => full.push(r) });
  assert.deepEqual(full, [], 'under the cap, nothing is reported');
  assert.ok(MAX_MATCHES_PER_FILE >= 100_000);
});

test('the linear session-token matcher gives exactly the regex’s matches, and survives a 12 MB base64 run', async () => {
  const { sessionTokenMatches } = await import('../../src/core/detect/ownRules');
  const { sessionTokenRegex } = await import('../../src/core/detect/patterns');
  const unit = fc.constantFrom('A', 'b', '9', '+', '/', '=', ' ', '\n', '%', '-');
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.string({ unit, maxLength: 8 }), fc.nat({ max: 140 })), { maxLength: 6 }), (parts) => {
      const text = parts.map(([s, n]) => s + 'Qx7+/'.repeat(Math.ceil(n / 5)).slice(0, n)).join('');
      const want = [...text.matchAll(sessionTokenRegex())].map((m) => [m.index, m[0]]);
      assert.deepEqual([...sessionTokenMatches(text)].map((m) => [m.index, m.value]), want);
    }),
    { numRuns: 500 },
  );
  const huge = 'aws_session_token = ' + 'QUFB'.repeat(3_000_000) + '\nsecret YXdz\n';
  await scanText(huge, 'blob.txt');
});

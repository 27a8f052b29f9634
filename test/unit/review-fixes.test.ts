// Breaks found by the adversarial review of the incident half, each failing before its fix:
// secrets in encodings redact() did not see, and an incidents file or lock that is a FIFO.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { redact } from '../../src/core/mask';
import { IncidentBook } from '../../src/core/incidents/book';
import { tryLock } from '../../src/core/fileLock';
import { tempDir } from './helpers';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

test('review: redact() masks a secret however a notice or URL encodes it', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...B64), { minLength: 40, maxLength: 40 }), fc.constantFrom('', 'x ', 'Subject: ', 'https://h/?s='), fc.constantFrom('', ' y', '=leaked', '&b=1'), (chars, before, after) => {
      const secret = chars.join('');
      for (const shown of [secret, encodeURIComponent(secret), secret.replaceAll('/', '&#x2F;').replaceAll('+', '&#43;'), secret.replaceAll('/', '%2f')]) {
        const out = redact(`${before}${shown}${after}`);
        assert.ok(!out.includes(shown), `${shown} survived in ${out}`);
        assert.ok(!out.includes(secret.slice(4)), 'no long piece of it either');
      }
    }),
    { seed: 17, numRuns: 300 },
  );
  assert.equal(redact('see https://example.com/a/b/c and commit deadbeef'), 'see https://example.com/a/b/c and commit deadbeef');
});

test('review: an incidents file or lock that is a FIFO is never waited on', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'incidents.json');
  execFileSync('mkfifo', [file]);
  const started = Date.now();
  const book = new IncidentBook(file);
  assert.ok(Date.now() - started < 5000);
  assert.ok(book.incidents.length === 0);
  const lock = path.join(dir, 'other.lock');
  execFileSync('mkfifo', [lock]);
  const r = tryLock(lock, 'test');
  assert.ok(Date.now() - started < 5000, 'a FIFO lock file is judged without opening it');
  r.lock?.release();
});

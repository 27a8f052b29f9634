// The notice parser on hostile input (it never throws, always ends, and refuses more than the
// cap with a clear error), and secrets pasted into a notice: random fake secrets planted in
// every field of a notice never reach any output (CLI text and JSON, the parsed notice, the
// incident) or any stored file (incidents.json, exports, the report), which are all 0600.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { IncidentBook } from '../../src/core/incidents/book';
import { htmlToText, isUsableNotice, MAX_NOTICE_BYTES, noticeIncident, parseNotice } from '../../src/core/incidents/notice';
import { formatNotice, incidentReport } from '../../src/core/incidents/report';
import { assertNoSecret, runCli, tempDir } from './helpers';
// @ts-expect-error plain ESM fixture generator
import { fakeKeyId, fakePrivateKey, fakeSecret, fakeSessionToken } from '../fixtures/fake-keys.mjs';

const PIECES = ['<', '>', '<a', '</script>', '<script>', '<style', '&#', '&#x110000;', '&#xD800;', '&#99999999999999;', '&amp;', '&', ';', '=?utf-8?b?', '=?iso-8859-1?q?', '?=', '=3D', '=\n', '\n', '\r\n', '\n\n', 'Content-Type: multipart/mixed; boundary="b"\n', '--b\n', '--b--', 'Content-Transfer-Encoding: base64\n', 'Content-Transfer-Encoding: quoted-printable\n', 'Subject: ', 'From: ', 'Date: ', '<html>', '<br>', 'i-0f3e7a91c2d4b5a68', '203.0.113.9', '1.', 'a:', 'IAM user ', 'case: ', 'within 24 hours', '\u0000', '\ufeff', '\ud800', 'é'];
const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }).map((a) => a.join('')),
);

test('notice: parse never throws and always returns, on any string or bytes (property)', () => {
  fc.assert(
    fc.property(hostileText, (s) => {
      const n = parseNotice(s);
      assert.equal(typeof n.text, 'string');
      assert.ok(Array.isArray(n.warnings));
      noticeIncident(n);
      formatNotice(n);
    }),
    { seed: 5, numRuns: 600 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
      const n = parseNotice(Buffer.from(bytes));
      noticeIncident(n);
    }),
    { seed: 6, numRuns: 300 },
  );
});

test('notice: character references out of range read as U+FFFD; nothing in HTML makes it throw', () => {
  assert.equal(htmlToText('<p>a&#x110000;b&#xD800;c&#0;d&#99999999999;e&#x41;&lt;&bogus;</p>'), 'a\ufffdb\ufffdc\ufffdd\ufffde' + 'A<&bogus;\n');
  const n = parseNotice('<html><body>Port scanning from i-0f3e7a91c2d4b5a68 &#x110000;</body></html>');
  assert.equal(n.abuseType, 'port-scan');
  assert.deepEqual(n.instanceIds, ['i-0f3e7a91c2d4b5a68']);
  assert.equal(htmlToText('a<b'), 'a<b', 'a < with no > after it is text');
  assert.equal(htmlToText('x<script>evil()</script>y<style>z'), 'x yz', 'scripts dropped; an unclosed style drops only its tag');
});

test('notice: more than the cap is refused with a clear error by the CLI and cut by the parser', async (t) => {
  const dir = tempDir(t);
  const big = 'Port scanning from i-0f3e7a91c2d4b5a68. '.repeat(Math.ceil((MAX_NOTICE_BYTES * 1.5) / 40));
  writeFileSync(path.join(dir, 'big.txt'), big);
  const r = await runCli(['notice', 'big.txt'], dir);
  assert.equal(r.code, 2);
  assert.match(r.err, /big\.txt is 1\.5 MB; an AWS abuse notice is a few KB and Keysentry reads at most 1 MB/);
  const n = parseNotice(big);
  assert.match(n.warnings.join('\n'), /only its first 1 MB was read/);
  assert.equal(n.abuseType, 'port-scan');
});

/** A notice with `s` in every field it has: headers (plain and RFC 2047), URLs, case id, user, HTML, base64 and quoted-printable bodies. */
function plant(s: string, keyId: string, pem: string): Record<string, string> {
  const b64 = (x: string): string => Buffer.from(x).toString('base64');
  const qp = (x: string): string => x.replace(/=/g, '=3D').replace(/(.{30})/g, '$1=\n');
  const text = `AWS Abuse Report [${String(Math.random()).slice(2, 13).padEnd(11, '7')}]. The AWS Access Key ${keyId} (IAM user "${s.slice(0, 20)}") with its secret ${s} is publicly available at https://evil.example/${s}/x?k=${s} and http://evil.example/?token=${s}&a=1
Case ID: ${s}
IAM user: ${s}
Reference: ${s}
Subject: ${s}
From: ${s}
Port scanning from i-0f3e7a91c2d4b5a68 in us-east-1, reply within 24 hours.
${pem}`;
  return {
    'plain.txt': text,
    'headers.eml': `From: ${s} <abuse@amazon.com>\nSubject: Exposed key ${s}\nDate: Wed, 18 Nov 2026 21:03:00 +0000\nX-Case: ${s}\n\n${text}`,
    'encoded-subject.eml': `From: =?utf-8?B?${b64(s)}?= <a@b.c>\nSubject: =?utf-8?B?${b64(`Key ${s} exposed`)}?=\nDate: Wed, 18 Nov 2026 21:03:00 +0000\n\n${text}`,
    'html.eml': `From: a@b.c\nSubject: x\nContent-Type: text/html\n\n<html><body><p>${text.replace(s, `${s.slice(0, 10)}<b></b>${s.slice(10)}`).replace(/\n/g, '<br>')}</p><a href="https://evil.example/${s}">${s}</a></body></html>`,
    'base64.eml': `From: a@b.c\nSubject: x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n${b64(text).replace(/(.{76})/g, '$1\n')}`,
    'qp-multipart.eml': `From: a@b.c\nSubject: x\nContent-Type: multipart/alternative; boundary="zz"\n\n--zz\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n${qp(text)}\n--zz\nContent-Type: text/html\n\n<p>${s}</p>\n--zz--\n`,
  };
}

test('notice: random secrets planted in every field never reach any output or stored file (0600)', async (t) => {
  const dir = tempDir(t);
  const home = tempDir(t);
  const store = path.join(home, 'incidents.json');
  const book = new IncidentBook(store);
  const secrets: string[] = [];
  const outputs: string[] = [];
  for (const make of [() => fakeSecret(), () => fakeSecret('/'), () => fakeSecret('+'), () => fakeSessionToken()]) {
    const secret = make() as string;
    const pem = fakePrivateKey('pkcs8') as string;
    secrets.push(secret, pem);
    for (const [name, body] of Object.entries(plant(secret, fakeKeyId() as string, pem))) {
      writeFileSync(path.join(dir, name), body);
      const n = parseNotice(Buffer.from(body));
      const text = await runCli(['notice', name], dir);
      const json = await runCli(['notice', name, '--format', 'json'], dir);
      assert.notEqual(json.code, 2, json.err);
      outputs.push(JSON.stringify(n), formatNotice(n), text.out, text.err, json.out, json.err);
      if (isUsableNotice(n)) {
        const d = noticeIncident(n);
        outputs.push(JSON.stringify(d));
        const inc = book.add({ ...d, source: 'notice' }, 'tester', `Imported from ${name}: ${n.subject ?? ''}`);
        book.record(inc.id, { actor: 'tester', kind: 'note', text: `Parser: ${n.warnings.join('; ')} ${n.text}` });
        outputs.push(incidentReport(book.get(inc.id)!, undefined, 'tester'));
      }
    }
  }
  assert.ok(book.incidents.length >= 4, 'the planted notices open incidents');
  outputs.push(book.export());
  // An export imported elsewhere (a crafted one too) is redacted on the way in.
  const crafted = JSON.parse(book.export());
  crafted.incidents[0].title = `forged ${secrets[0]}`;
  crafted.incidents[0].id = 'notice:crafted';
  new IncidentBook(path.join(home, 'other.json')).import(JSON.stringify(crafted), 'tester');
  for (const f of readdirSync(home)) {
    const file = path.join(home, f);
    outputs.push(readFileSync(file, 'utf8'));
    if (f.endsWith('.json')) assert.equal(statSync(file).mode & 0o777, 0o600, `${f} is 0600`);
  }
  assertNoSecret(outputs, secrets);
});

test('notice: a MIME boundary longer than RFC 2046 allows (400 KB) is malformed, and the body is still read as text', () => {
  const boundary = 'b'.repeat(400_000);
  const eml = `From: AWS Abuse <ec2-abuse@amazon.com>\nSubject: Your EC2 Abuse Report\nDate: Wed, 18 Nov 2026 21:03:00 +0000\nContent-Type: multipart/mixed; boundary="${boundary}"\n\n--${boundary}\nContent-Type: text/plain\n\nPort scanning from instance i-0f3e7a91c2d4b5a68 in us-east-1 (203.0.113.9).\n--${boundary}--\n`;
  const n = parseNotice(eml);
  assert.deepEqual(n.instanceIds, ['i-0f3e7a91c2d4b5a68']);
  assert.equal(n.abuseType, 'port-scan');
  assert.match(n.warnings.join('\n'), /boundary is longer than the 70 characters/);
  // A 70-character boundary is fine, split in one pass.
  const ok = 'x'.repeat(70);
  const n2 = parseNotice(`From: a@b\nSubject: s\nContent-Type: multipart/alternative; boundary=${ok}\n\n--${ok}\nContent-Type: text/plain\n\nSSH brute force from i-0f3e7a91c2d4b5a68\n--${ok}\nContent-Type: text/html\n\n<p>html part</p>\n--${ok}--\n`);
  assert.deepEqual(n2.instanceIds, ['i-0f3e7a91c2d4b5a68']);
  assert.doesNotMatch(n2.text, /html part/);
  assert.deepEqual(n2.warnings.filter((w) => /boundary/.test(w)), []);
});

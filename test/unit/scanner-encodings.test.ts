// Keys hidden by their encoding (issue #11's leftovers): UTF-16LE strings inside binary files
// (Windows resources, registry exports packed into installers, .NET string heaps) and UTF-16 text
// without a byte-order mark that is of odd length or mostly non-Latin. scanBytes is what the CLI
// scan, the editor's worker and the pre-push gate all call on a file's or blob's bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { scanBytes, detectEncoding, printableText } from '../../src/core/detect/scanFiles';
import type { Finding } from '../../src/core/types';
// @ts-expect-error plain ESM helper
import { fakeKeyId, fakeSecret } from '../fixtures/fake-keys.mjs';

const leak = (): { id: string; secret: string; text: string } => {
  const id = fakeKeyId() as string;
  const secret = fakeSecret() as string;
  return { id, secret, text: `[default]\r\naws_access_key_id = ${id}\r\naws_secret_access_key = ${secret}\r\n` };
};

async function scan(bytes: Buffer, file = 'x.bin'): Promise<Finding[]> {
  const r = await scanBytes(bytes, file, {});
  assert.ok(Array.isArray(r), 'scanned, not skipped');
  return r;
}

const kindsOf = (fs: Finding[]): string[] => fs.map((f) => f.kind).sort();
const noRaw = (fs: Finding[], secret: string): void => assert.ok(!JSON.stringify(fs).includes(secret), 'the raw secret never reaches a finding');

test('UTF-16LE strings inside a binary file are found (a PE resource, a registry export in an installer)', async () => {
  const l = leak();
  // An executable-like blob: MZ header, NULs, random bytes, then the UTF-16LE string, then more noise.
  const pe = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.alloc(200), randomBytes(3000), Buffer.from(`\0\0${l.text}`, 'utf16le'), randomBytes(2000)]);
  assert.equal(detectEncoding(pe).encoding, 'binary');
  const found = await scan(pe);
  assert.deepEqual(kindsOf(found), ['aws-access-key-id', 'aws-secret-access-key']);
  assert.equal(found.find((f) => f.kind === 'aws-secret-access-key')?.pairedKeyId, l.id);
  noRaw(found, l.secret);
  // Odd alignment: the run starts at an odd byte offset.
  const odd = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0]), Buffer.from(`Windows Registry Editor Version 5.00\r\n"AWS_ACCESS_KEY_ID"="${l.id}"\r\n"AWS_SECRET_ACCESS_KEY"="${l.secret}"\r\n`, 'utf16le'), Buffer.alloc(64)]);
  assert.deepEqual(kindsOf(await scan(odd)), ['aws-access-key-id', 'aws-secret-access-key']);
  // ASCII strings in the same binary are still found, and a key id in UTF-16LE alone too.
  const id2 = fakeKeyId() as string;
  const mixed = Buffer.concat([Buffer.from([0, 1, 2, 3]), Buffer.from(`AKID=${id2}\0`), Buffer.from(`\0${l.id}\0`, 'utf16le'), Buffer.alloc(10)]);
  assert.deepEqual((await scan(mixed)).map((f) => f.preview).sort(), [id2, l.id].sort());
});

test('UTF-16 without a byte-order mark: odd length, mostly Cyrillic or CJK text, both byte orders', async () => {
  const l = leak();
  const cyrillic = `# Учётные данные для развёртывания в облаке, не публиковать никогда\r\n${'Это длинный комментарий на русском языке о настройке сервера. '.repeat(20)}\r\n${l.text}`;
  const cjk = `# 部署凭据请勿提交到版本库中这是一个很长的中文注释用于说明配置文件的用途\r\n${'这是关于服务器配置的一段很长的中文说明文字。'.repeat(30)}\r\n${l.text}`;
  const cases: Record<string, Buffer> = {
    'odd length (a trailing newline byte)': Buffer.concat([Buffer.from(l.text, 'utf16le'), Buffer.from('\n')]),
    'Cyrillic, LE': Buffer.from(cyrillic, 'utf16le'),
    'CJK, LE': Buffer.from(cjk, 'utf16le'),
    'CJK, BE': Buffer.from(cjk, 'utf16le').swap16(),
    'Cyrillic, LE, odd length': Buffer.concat([Buffer.from(cyrillic, 'utf16le'), Buffer.from([0x0a])]),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    assert.match(detectEncoding(bytes).encoding, /^utf-16/, name);
    const found = await scan(bytes, 'creds.txt');
    assert.deepEqual(kindsOf(found), ['aws-access-key-id', 'aws-secret-access-key'], name);
    // Line numbers are those of the decoded text.
    const text = name.startsWith('odd length') ? l.text : name.startsWith('Cyrillic') ? cyrillic : cjk;
    const idLine = text.slice(0, text.indexOf(l.id)).split('\n').length;
    assert.equal(found.find((f) => f.kind === 'aws-access-key-id')?.line, idLine, name);
    noRaw(found, l.secret);
  }
  // Binaries with NULs at both parities stay binary.
  assert.equal(detectEncoding(Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), randomBytes(4000)])).encoding, 'binary');
});

test('property: a leak written as UTF-16LE anywhere in random binary noise is found, at any alignment', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 600 }), fc.boolean(), async (before, after, nul) => {
      const l = leak();
      const bytes = Buffer.concat([Buffer.from([0, 0x90, 0]), Buffer.from(before), Buffer.from(`\0${l.text}`, 'utf16le'), Buffer.from(after), Buffer.from(nul ? [0] : [])]);
      const found = await scanBytes(bytes, 'x.dat', {});
      assert.ok(Array.isArray(found));
      const kinds = found.map((f) => f.kind);
      assert.ok(kinds.includes('aws-access-key-id') && kinds.includes('aws-secret-access-key'), `found in ${bytes.length} bytes`);
      noRaw(found, l.secret);
    }),
    { numRuns: 60 },
  );
});

test('printableText keeps every byte offset and line count, and is linear in shape', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (a) => {
      const b = Buffer.from(a);
      const t = printableText(b);
      assert.equal(t.length, b.length);
      const nl = (s: string): number => s.split('\n').length;
      // A newline is kept (ASCII) or moved within its UTF-16 run: never created or lost.
      assert.equal(nl(t), nl(b.toString('latin1')));
    }),
    { numRuns: 200 },
  );
});

// Archives are opened within one budget, whatever they claim: real zip/gzip/tar files made by
// Python's and GNU's own tools (not by our code), bombs, overlapping entries, encrypted and
// corrupt entries, and random bytes. Nothing here asserts a duration: the budget is what bounds the work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ARCHIVE_LIMITS, newArchiveBudget, openArchive } from '../../src/core/detect/archives';
// @ts-expect-error plain ESM helper
import { fakeKeyId, fakeSecret } from '../fixtures/fake-keys.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'keysentry-archives-'));
const py = (code: string): void => void execFileSync('python3', ['-c', code], { cwd: dir });

test('a zip made by Python: every file entry, deflated and stored, by name; folders skipped', () => {
  const id = fakeKeyId() as string;
  const secret = fakeSecret() as string;
  py(`import zipfile
z = zipfile.ZipFile('a.zip', 'w')
z.writestr('conf/', '')
z.writestr('conf/.env', 'AWS_ACCESS_KEY_ID=${id}\\nAWS_SECRET_ACCESS_KEY=${secret}\\n', zipfile.ZIP_DEFLATED)
z.writestr('notes.txt', 'plain', zipfile.ZIP_STORED)
z.writestr('été.txt', 'unicode name', zipfile.ZIP_DEFLATED)
z.close()`);
  const got = openArchive(readFileSync(path.join(dir, 'a.zip')), newArchiveBudget());
  assert.ok(got);
  assert.equal(got.format, 'zip');
  assert.deepEqual(got.entries.map((e) => e.name), ['conf/.env', 'notes.txt', 'été.txt']);
  assert.ok(got.entries[0]?.bytes.toString().includes(secret));
  assert.deepEqual(got.notOpened, []);
});

test('gzip keeps its stored name; tar.gz and plain tar list their files', () => {
  const secret = fakeSecret() as string;
  writeFileSync(path.join(dir, 'creds'), `aws_secret_access_key = ${secret}\n`);
  execFileSync('gzip', ['-kf', 'creds'], { cwd: dir });
  const gz = openArchive(readFileSync(path.join(dir, 'creds.gz')), newArchiveBudget());
  assert.equal(gz?.format, 'gzip');
  assert.equal(gz?.entries[0]?.name, 'creds');
  assert.ok(gz?.entries[0]?.bytes.toString().includes(secret));
  execFileSync('tar', ['-czf', 'b.tar.gz', 'creds'], { cwd: dir });
  execFileSync('tar', ['-cf', 'b.tar', 'creds', 'creds.gz'], { cwd: dir });
  const tgz = openArchive(readFileSync(path.join(dir, 'b.tar.gz')), newArchiveBudget());
  assert.equal(tgz?.format, 'tar.gz');
  assert.deepEqual(tgz?.entries.map((e) => e.name), ['creds']);
  const tar = openArchive(readFileSync(path.join(dir, 'b.tar')), newArchiveBudget());
  assert.deepEqual(tar?.entries.map((e) => e.name), ['creds', 'creds.gz']);
  // A long name (GNU 'L' record) is kept whole.
  const long = `${'d'.repeat(120)}.env`;
  writeFileSync(path.join(dir, long), 'x');
  execFileSync('tar', ['--format=gnu', '-cf', 'long.tar', long], { cwd: dir });
  assert.equal(openArchive(readFileSync(path.join(dir, 'long.tar')), newArchiveBudget())?.entries[0]?.name, long);
});

test('a zip bomb stops at the budget and says so; the budget is shared by nested archives', () => {
  py(`import zipfile
z = zipfile.ZipFile('bomb.zip', 'w', zipfile.ZIP_DEFLATED)
for i in range(3): z.writestr(f'zeros{i}', b'\\0' * (40 * 1024 * 1024))
z.close()`);
  const bytes = readFileSync(path.join(dir, 'bomb.zip'));
  assert.ok(bytes.length < 1024 * 1024);
  const budget = newArchiveBudget();
  const got = openArchive(bytes, budget);
  assert.ok(got);
  assert.equal(budget.bytesLeft, 0);
  assert.ok(got.entries.reduce((n, e) => n + e.bytes.length, 0) <= ARCHIVE_LIMITS.bytes);
  assert.match(got.notOpened.map((n) => n.why).join('\n'), /decompression budget/);
  // What is left of the budget is all a second archive gets.
  const after = openArchive(gzipSync(Buffer.alloc(1024)), budget);
  assert.match(after?.notOpened[0]?.why ?? '', /decompression budget/);
});

test('overlapping entries (one deflated body named 5,000 times) count every time they are opened', () => {
  // A central directory whose entries all point at the same local header: the "better zip bomb".
  const body = Buffer.alloc(1024 * 1024, 0x41);
  const deflated = execFileSync('python3', ['-c', 'import sys,zlib; c=zlib.compressobj(9, zlib.DEFLATED, -15); sys.stdout.buffer.write(c.compress(sys.stdin.buffer.read())+c.flush())'], { input: body });
  const name = Buffer.from('a');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(deflated.length, 18);
  local.writeUInt32LE(body.length, 22);
  local.writeUInt16LE(1, 26);
  const n = 5000;
  const central: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(8, 10);
    c.writeUInt32LE(deflated.length, 20);
    c.writeUInt32LE(body.length, 24);
    c.writeUInt16LE(1, 28);
    c.writeUInt32LE(0, 42);
    central.push(c, name);
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(n, 8);
  end.writeUInt16LE(n, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(31 + deflated.length, 16);
  const zip = Buffer.concat([local, name, deflated, cd, end]);
  const got = openArchive(zip, newArchiveBudget());
  assert.ok(got);
  assert.equal(got.entries.length, ARCHIVE_LIMITS.bytes / body.length);
  assert.match(got.notOpened.at(-1)?.why ?? '', /decompression budget/);
});

test('encrypted, unknown-method, truncated and corrupt archives are listed as not opened, never thrown', () => {
  py(`import zipfile
z = zipfile.ZipFile('lzma.zip', 'w', zipfile.ZIP_LZMA)
z.writestr('x.env', 'data')
z.close()`);
  assert.match(openArchive(readFileSync(path.join(dir, 'lzma.zip')), newArchiveBudget())?.notOpened[0]?.why ?? '', /compression method 14/);
  const plain = readFileSync(path.join(dir, 'a.zip'));
  const encrypted = Buffer.from(plain);
  // Set the "encrypted" flag on the first file entry's central record.
  const cd = encrypted.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  for (let p = encrypted.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); p !== -1 && p <= cd; p = encrypted.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), p + 4)) encrypted.writeUInt16LE(encrypted.readUInt16LE(p + 8) | 1, p + 8);
  assert.ok(openArchive(encrypted, newArchiveBudget())?.notOpened.some((n) => /encrypted/.test(n.why)));
  assert.match(openArchive(plain.subarray(0, plain.length - 30), newArchiveBudget())?.notOpened[0]?.why ?? '', /central directory/);
  const gz = gzipSync(Buffer.from('hello world, hello world'));
  gz[12] = gz[12]! ^ 0xff;
  gz[13] = gz[13]! ^ 0xff;
  const corrupt = openArchive(gz, newArchiveBudget());
  assert.equal(corrupt?.entries.length, 0);
  assert.match(corrupt?.notOpened[0]?.why ?? '', /corrupt|budget/);
});

test('any bytes that start like an archive: never throws, never exceeds the budget', () => {
  const heads = [Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.from([0x50, 0x4b, 0x05, 0x06])];
  fc.assert(
    fc.property(fc.integer({ min: 0, max: heads.length - 1 }), fc.uint8Array({ maxLength: 4096 }), (h, rest) => {
      const budget = newArchiveBudget();
      const got = openArchive(Buffer.concat([heads[h] as Buffer, Buffer.from(rest)]), budget);
      if (!got) return;
      assert.ok(budget.bytesLeft >= 0 && budget.entriesLeft >= 0);
      assert.ok(got.entries.reduce((n, e) => n + e.bytes.length, 0) <= ARCHIVE_LIMITS.bytes);
    }),
    { numRuns: 400, seed: 11 },
  );
});

// ---- Through the scanner and the gate: keys inside archives are found and named by entry. ----
import { runBuiltCli, tempDir, assertNoSecret } from './helpers';

function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
}

test('keysentry scan: a key in a zip inside a zip, in a .gz and in a tar.gz is found, named by its entry', async (t) => {
  const d = tempDir(t);
  const id = fakeKeyId() as string;
  const secret = fakeSecret() as string;
  execFileSync('python3', ['-c', `import zipfile, gzip, tarfile, io
env = 'AWS_ACCESS_KEY_ID=${id}\\nAWS_SECRET_ACCESS_KEY=${secret}\\n'
z = zipfile.ZipFile('inner.zip', 'w', zipfile.ZIP_DEFLATED); z.writestr('app/.env', env); z.close()
z = zipfile.ZipFile('outer.zip', 'w', zipfile.ZIP_DEFLATED); z.write('inner.zip'); z.close()
open('creds.gz', 'wb').write(gzip.compress(env.encode()))
t = tarfile.open('b.tar.gz', 'w:gz'); data = env.encode(); ti = tarfile.TarInfo('deploy/creds'); ti.size = len(data); t.addfile(ti, io.BytesIO(data)); t.close()`], { cwd: d });
  const outputs: string[] = [];
  const r = await runBuiltCli(['scan', '.', '--format', 'json'], {}, { cwd: d, outputs });
  const json = JSON.parse(r.out) as { findings: Array<{ file: string; inArchive?: string; kind: string; line: number }>; stats: { skipped: unknown[] } };
  const places = json.findings.filter((f) => f.kind === 'aws-secret-access-key').map((f) => `${f.file}!${f.inArchive}:${f.line}`).sort();
  assert.deepEqual(places, ['b.tar.gz!deploy/creds:2', 'creds.gz!creds:2', 'inner.zip!app/.env:2', 'outer.zip!inner.zip!app/.env:2']);
  const text = await runBuiltCli(['scan', '.'], {}, { cwd: d, outputs });
  assert.match(text.out, /inner\.zip!app\/\.env:2:/);
  assertNoSecret(outputs, [secret]);
});

test('the gate blocks a push of a zipped or gzipped key, and reports an archive it could not open instead of passing it silently', async (t) => {
  const d = tempDir(t);
  const id = fakeKeyId() as string;
  const secret = fakeSecret() as string;
  gitIn(d, 'init', '-q', '--bare', 'remote.git');
  const w = path.join(d, 'w');
  gitIn(d, 'init', '-q', '-b', 'main', w);
  gitIn(w, 'remote', 'add', 'origin', path.join(d, 'remote.git'));
  writeFileSync(path.join(w, 'README'), 'hi\n');
  gitIn(w, 'add', 'README');
  gitIn(w, 'commit', '-qm', 'init');
  gitIn(w, 'push', '-q', 'origin', 'main');
  const outputs: string[] = [];
  assert.equal((await runBuiltCli(['install-hook'], {}, { cwd: w, outputs })).code, 0);
  const push = (): { status: number | null; out: string } => {
    const r = spawnSync('git', ['push', 'origin', 'main'], { cwd: w, encoding: 'utf8' });
    outputs.push(r.stdout, r.stderr);
    return { status: r.status, out: r.stdout + r.stderr };
  };
  execFileSync('python3', ['-c', `import zipfile
z = zipfile.ZipFile('backup.zip', 'w', zipfile.ZIP_DEFLATED); z.writestr('prod/.env', 'AWS_ACCESS_KEY_ID=${id}\\nAWS_SECRET_ACCESS_KEY=${secret}\\n'); z.close()`], { cwd: w });
  gitIn(w, 'add', 'backup.zip');
  gitIn(w, 'commit', '-qm', 'backup');
  const blocked = push();
  assert.notEqual(blocked.status, 0);
  assert.match(blocked.out, /backup\.zip!prod\/\.env:2/);
  gitIn(w, 'reset', '-q', '--hard', 'HEAD^');
  // An LZMA entry cannot be opened: the push stops (fail-closed) and says what was not scanned.
  execFileSync('python3', ['-c', `import zipfile
z = zipfile.ZipFile('data.zip', 'w', zipfile.ZIP_LZMA); z.writestr('x.env', 'nothing to see'); z.close()`], { cwd: w });
  gitIn(w, 'add', 'data.zip');
  gitIn(w, 'commit', '-qm', 'data');
  const partial = push();
  assert.notEqual(partial.status, 0, partial.out);
  assert.match(partial.out, /data\.zip.*partially scanned.*compression method 14/);
  assertNoSecret(outputs, [secret]);
});

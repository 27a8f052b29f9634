import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempDir, assertNoSecret } from './helpers';
import { scanPaths } from '../../src/core/detect/scanFiles';
import { gitSource } from '../../src/cli/scan';
// @ts-expect-error plain ESM helper
import { fakeKeyId, fakeSecret, fakePrivateKey, fakeOpenSshKey, fakePuttyKey, fakeSessionToken, makeDemoWorkspace } from '../fixtures/fake-keys.mjs';

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' });

test('scan: exit codes, JSON shape, masked output in every format', async (t) => {
  const dir = tempDir(t);
  const ws = makeDemoWorkspace(path.join(dir, 'repo'));
  const json = await runCli(['scan', '--format', 'json'], ws.dir);
  assert.equal(json.code, 1);
  const parsed = JSON.parse(json.out);
  assert.deepEqual(Object.keys(parsed), ['version', 'findings', 'stats']);
  assert.deepEqual(Object.keys(parsed.stats).sort(), ['baselined', 'bytes', 'files', 'ms', 'skipped']);
  const files = [...new Set(parsed.findings.map((f: { file: string }) => f.file))].sort();
  assert.deepEqual(files, ['.env', 'deploy/id_rsa', 'deploy/server.pem', 'src/upload.py']);
  for (const f of parsed.findings) {
    assert.match(f.fingerprint, /^[0-9a-f]{64}$/);
    assert.ok(['aws-access-key-id', 'aws-secret-access-key', 'aws-session-token', 'private-key'].includes(f.kind));
    for (const k of ['line', 'column', 'endLine', 'endColumn']) assert.equal(typeof f[k], 'number');
  }
  const text = await runCli(['scan'], ws.dir);
  const sarif = await runCli(['scan', '--format', 'sarif'], ws.dir);
  assert.equal(text.code, 1);
  const s = JSON.parse(sarif.out);
  assert.equal(s.version, '2.1.0');
  assert.equal(s.runs[0].results.length, parsed.findings.length);
  assert.ok(s.runs[0].results.every((r: { partialFingerprints: Record<string, string> }) => /^[0-9a-f]{64}$/.test(r.partialFingerprints['keysentry/v1'] ?? '')));
  assertNoSecret([json.out, json.err, text.out, text.err, sarif.out, sarif.err], ws.secrets);
  // Relative to the current directory, with / separators.
  const sub = await runCli(['scan', '--format', 'json', 'deploy'], ws.dir);
  assert.deepEqual([...new Set(JSON.parse(sub.out).findings.map((f: { file: string }) => f.file))].sort(), ['deploy/id_rsa', 'deploy/server.pem']);
});

test('scan: clean tree exits 0; bad arguments exit 2 with a clear message', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'a.txt'), 'nothing here\n');
  assert.equal((await runCli(['scan', '--all-files'], dir)).code, 0);
  const bad = await runCli(['scan', '--format', 'xml'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--format must be text, json or sarif/);
  assert.equal((await runCli(['scan', '--max-file-size', 'lots'], dir)).code, 2);
  const missing = await runCli(['scan', 'nope'], dir);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /nope: no such file or folder/);
  assert.equal((await runCli(['scan', '--frobnicate'], dir)).code, 2);
});

test('scan: what git would commit by default; --all-files scans ignored files too', async (t) => {
  const dir = tempDir(t);
  git(dir, 'init', '-q');
  writeFileSync(path.join(dir, '.gitignore'), 'secrets/\n*.local\n');
  mkdirSync(path.join(dir, 'secrets'));
  writeFileSync(path.join(dir, 'secrets', 'prod.env'), `AWS_ACCESS_KEY_ID=${fakeKeyId()}\n`);
  writeFileSync(path.join(dir, 'dev.local'), `AWS_ACCESS_KEY_ID=${fakeKeyId()}\n`);
  writeFileSync(path.join(dir, 'untracked.txt'), `AWS_ACCESS_KEY_ID=${fakeKeyId()}\n`);
  writeFileSync(path.join(dir, '.git', 'info', 'exclude'), 'excluded.txt\n');
  writeFileSync(path.join(dir, 'excluded.txt'), `AWS_ACCESS_KEY_ID=${fakeKeyId()}\n`);
  const def = JSON.parse((await runCli(['scan', '--format', 'json'], dir)).out);
  assert.deepEqual(def.findings.map((f: { file: string }) => f.file), ['untracked.txt']);
  const all = JSON.parse((await runCli(['scan', '--format', 'json', '--all-files'], dir)).out);
  assert.deepEqual(all.findings.map((f: { file: string }) => f.file).sort(), ['dev.local', 'excluded.txt', 'secrets/prod.env', 'untracked.txt']);
});

test('scan outside git skips dependency folders; .secretlintignore applies', async (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'node_modules', 'pkg'), { recursive: true });
  mkdirSync(path.join(dir, 'fixtures'));
  writeFileSync(path.join(dir, 'node_modules', 'pkg', 'index.js'), `const k = "${fakeKeyId()}";\n`);
  writeFileSync(path.join(dir, 'fixtures', 'k.txt'), `const k = "${fakeKeyId()}";\n`);
  writeFileSync(path.join(dir, 'app.js'), `const k = "${fakeKeyId()}";\n`);
  writeFileSync(path.join(dir, '.secretlintignore'), '# test data\nfixtures/\n');
  const r = JSON.parse((await runCli(['scan', '--format', 'json'], dir)).out);
  assert.deepEqual(r.findings.map((f: { file: string }) => f.file), ['app.js']);
});

test('baseline: keyed by fingerprint, survives moved lines; a malformed one is a clear error', async (t) => {
  const dir = tempDir(t);
  const secret = fakeSecret();
  writeFileSync(path.join(dir, 'a.env'), `AWS_SECRET_ACCESS_KEY=${secret}\n`);
  const first = JSON.parse((await runCli(['scan', '--format', 'json'], dir)).out);
  const fp = first.findings[0].fingerprint;
  writeFileSync(path.join(dir, '.keysentry-baseline.json'), JSON.stringify({ version: 1, entries: [{ fingerprint: fp, kind: 'aws-secret-access-key' }] }));
  writeFileSync(path.join(dir, 'a.env'), `# moved down\n\nAWS_SECRET_ACCESS_KEY=${secret}\n`);
  const second = await runCli(['scan', '--format', 'json'], dir);
  assert.equal(second.code, 0);
  assert.equal(JSON.parse(second.out).stats.baselined, 1);
  writeFileSync(path.join(dir, '.keysentry-baseline.json'), '{ "version": 1, "entries": [ {');
  const broken = await runCli(['scan'], dir);
  assert.equal(broken.code, 2);
  assert.match(broken.err, /\.keysentry-baseline\.json: not valid JSON/);
  const explicit = await runCli(['scan', '--baseline', 'missing.json'], dir);
  assert.equal(explicit.code, 2);
  assert.match(explicit.err, /missing\.json: baseline file not found/);
});

test('bad input: binary, huge, NUL, invalid UTF-8, UTF-16, symlink loops, key files by name', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'image.bin'), Buffer.concat([Buffer.from([0x89, 0x50, 0, 0, 1, 2]), Buffer.from(`AKIA${'Q'.repeat(16)}`)]));
  writeFileSync(path.join(dir, 'big.log'), Buffer.alloc(3 * 1024 * 1024, 'a'));
  writeFileSync(path.join(dir, 'latin.txt'), Buffer.concat([Buffer.from([0xff, 0xc3, 0x28]), Buffer.from(`\nAWS_ACCESS_KEY_ID=${fakeKeyId()}\n`)]));
  writeFileSync(path.join(dir, 'utf16.txt'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`AWS_ACCESS_KEY_ID=${fakeKeyId()}\n`, 'utf16le')]));
  mkdirSync(path.join(dir, 'loop'));
  symlinkSync('..', path.join(dir, 'loop', 'again'));
  writeFileSync(path.join(dir, 'id_ed25519'), fakeOpenSshKey());
  writeFileSync(path.join(dir, 'id_ed25519.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM user@host\n');
  writeFileSync(path.join(dir, 'server.ppk'), fakePuttyKey());
  writeFileSync(path.join(dir, 'client.p12'), Buffer.concat([Buffer.from([0x30, 0x82, 0x09, 0x8c, 0x02, 0x01, 0x03]), Buffer.alloc(200, 7)]));
  const r = await runCli(['scan', '--format', 'json', '--max-file-size', String(2 * 1024 * 1024)], dir);
  const parsed = JSON.parse(r.out);
  const byFile = parsed.findings.map((f: { file: string; rule: string }) => `${f.file}:${f.rule}`).sort();
  assert.deepEqual(byFile, ['client.p12:keysentry/key-pair-file', 'id_ed25519:secretlint/privatekey', 'latin.txt:secretlint/aws', 'server.ppk:keysentry/putty-private-key', 'utf16.txt:secretlint/aws']);
  const skipped = parsed.stats.skipped.map((s: { file: string; reason: string }) => `${s.file}:${s.reason}`).sort();
  // Binary files are scanned as their printable strings now; only the file over the limit is skipped.
  assert.deepEqual(skipped, ['big.log:too-large']);
});

test('the anchor windows find exactly what every rule finds on every whole file', async (t) => {
  const dir = tempDir(t);
  const pieces = [
    `AWS_ACCESS_KEY_ID=${fakeKeyId()}\nAWS_SECRET_ACCESS_KEY=${fakeSecret('/')}\n`,
    `${'filler line\n'.repeat(7)}${fakeKeyId()}\n${'x\n'.repeat(4)}v=${fakeSecret()}\n${'y\n'.repeat(6)}w=${fakeSecret()}\n`,
    `aws_secret_access_key\n   =\n  "${fakeSecret()}"\n`,
    `${fakePrivateKey('pkcs1')}\n${'z'.repeat(5000)}\n`,
    JSON.stringify({ key: fakePrivateKey('ec'), id: fakeKeyId('ASIA'), token: fakeSessionToken() }),
    `${fakeKeyId('ASIA')}\n\n\n\n\nsession=${fakeSessionToken()}\n`,
    fakePuttyKey(),
    `# secretlint-disable\n${'n\n'.repeat(30)}aws_secret_access_key = ${fakeSecret()}\n# secretlint-enable\n`,
    'var q=1;'.repeat(20000) + `k="${fakeKeyId()}";s="${fakeSecret()}"`,
    `Secret: ${fakeSecret()}\n${'secret '.repeat(50)}\n`,
  ];
  pieces.forEach((p, i) => writeFileSync(path.join(dir, `f${i}.txt`), p));
  const fast = await scanPaths({ paths: [], cwd: dir }, gitSource);
  const slow = await scanPaths({ paths: [], cwd: dir, exhaustive: true }, gitSource);
  assert.ok(fast.findings.length >= 14);
  assert.deepEqual(fast.findings, slow.findings);
  assert.ok(readFileSync(path.join(dir, 'f0.txt'), 'utf8').length > 0);
});

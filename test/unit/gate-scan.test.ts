// `keysentry scan` never skips silently: names that are not UTF-8, symlinked arguments, unreadable
// folders, FIFOs, UTF-16/32 text and binary files. Every skip is listed (text and JSON), and
// --fail-on-skip gives CI a distinct exit status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { assertNoSecret, runCli, tempDir } from './helpers';
import { decode, detectEncoding } from '../../src/core/detect/scanFiles';
// @ts-expect-error plain ESM helper
import { fakeKeyId, fakeSecret } from '../fixtures/fake-keys.mjs';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.invalid', NO_COLOR: '1' };
Object.assign(process.env, { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' });
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function leak(): { keyId: string; secret: string; text: string } {
  const keyId = fakeKeyId();
  const secret = fakeSecret();
  return { keyId, secret, text: `AWS_ACCESS_KEY_ID=${keyId}\nAWS_SECRET_ACCESS_KEY=${secret}\n` };
}

const filesWithSecrets = (out: string): string[] =>
  [...new Set((JSON.parse(out) as { findings: Array<{ file: string; kind: string }> }).findings.filter((f) => f.kind === 'aws-secret-access-key').map((f) => f.file))].sort();

/** Writes a file whose name is raw bytes (not UTF-8): `dir` + '/' + bytes. */
function writeRawName(dir: string, name: Buffer, content: string): void {
  writeFileSync(Buffer.concat([Buffer.from(dir + '/'), name]), content);
}

test('names that are not UTF-8 are read as bytes (in git and outside), shown escaped, and scanned', async (t) => {
  const secrets: string[] = [];
  for (const inGit of [true, false]) {
    const dir = tempDir(t, 'keysentry-names-');
    if (inGit) git(dir, 'init', '-q');
    const a = leak();
    const b = leak();
    secrets.push(a.secret, b.secret);
    writeRawName(dir, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x65, 0x6e, 0x76]), a.text); // "café.env" in Latin-1
    mkdirSync(Buffer.concat([Buffer.from(dir + '/'), Buffer.from([0xff, 0x64])]));
    writeRawName(dir, Buffer.from([0xff, 0x64, 0x2f, 0x6b, 0x65, 0x79, 0x73]), b.text); // "\xffd/keys"
    if (inGit) git(dir, 'add', '-A');
    const r = await runCli(['scan', '--format', 'json'], dir);
    assert.equal(r.code, 1, r.err);
    assert.deepEqual(filesWithSecrets(r.out), ['\\xffd/keys', 'caf\\xe9.env'], inGit ? 'in git' : 'outside git');
    const text = await runCli(['scan'], dir);
    assert.match(text.out, /caf\\xe9\.env/);
    assertNoSecret([r.out, r.err, text.out, text.err], secrets);
  }
});

test('symlinked arguments are followed; FIFOs and broken links are listed; --fail-on-skip exits 3', async (t) => {
  const dir = tempDir(t, 'keysentry-links-');
  const real = path.join(dir, 'real');
  mkdirSync(path.join(real, 'conf'), { recursive: true });
  const l = leak();
  writeFileSync(path.join(real, 'conf', 'app.env'), l.text);
  const ws = path.join(dir, 'ws');
  mkdirSync(ws);
  symlinkSync(path.join(real, 'conf'), path.join(ws, 'linked-dir'));
  symlinkSync(path.join(real, 'conf', 'app.env'), path.join(ws, 'linked.env'));
  symlinkSync(path.join(dir, 'nowhere'), path.join(ws, 'broken'));
  execFileSync('mkfifo', [path.join(ws, 'pipe')]);
  const viaDir = await runCli(['scan', '--format', 'json', 'linked-dir'], ws);
  assert.equal(viaDir.code, 1, `a symlinked folder is scanned, not "0 files": ${viaDir.out}`);
  const viaFile = await runCli(['scan', '--format', 'json', 'linked.env'], ws);
  assert.equal(viaFile.code, 1, viaFile.out);
  // A FIFO given as an argument must not hang the scan, and is listed.
  const odd = await runCli(['scan', '--format', 'json', 'pipe', 'broken'], ws);
  assert.equal(odd.code, 0);
  const skipped = (JSON.parse(odd.out) as { stats: { skipped: Array<{ file: string; reason: string }> } }).stats.skipped.map((s) => `${s.file}:${s.reason}`).sort();
  assert.deepEqual(skipped, ['broken:not-a-file', 'pipe:not-a-file']);
  const strict = await runCli(['scan', '--fail-on-skip', 'pipe'], ws);
  assert.equal(strict.code, 3);
  assert.match(strict.out, /Not scanned: 1 file\(s\) or folder\(s\):\n {2}pipe {2}not-a-file/);
  const usage = await runCli(['scan', '--help'], ws);
  assert.match(usage.out, /--fail-on-skip/);
  assertNoSecret([viaDir.out, viaFile.out, odd.out, strict.out], [l.secret]);
});

test('an unreadable folder is listed as not scanned (in git and outside), never "0 files, clean"', (t) => {
  const dir = tempDir(t, 'keysentry-unreadable-');
  chmodSync(dir, 0o755);
  const secrets: string[] = [];
  for (const inGit of [true, false]) {
    const ws = path.join(dir, inGit ? 'git' : 'plain');
    mkdirSync(path.join(ws, 'secret'), { recursive: true });
    if (inGit) git(ws, 'init', '-q');
    const l = leak();
    secrets.push(l.secret);
    writeFileSync(path.join(ws, 'secret', 'app.env'), l.text);
    writeFileSync(path.join(ws, 'ok.txt'), 'fine\n');
    // Root reads every folder: run the CLI as an unprivileged user that owns the tree.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) for (const p of [ws, path.join(ws, 'ok.txt'), path.join(ws, 'secret'), path.join(ws, 'secret', 'app.env'), ...(inGit ? walkAll(path.join(ws, '.git')) : [])]) chownSync(p, 65534, 65534);
    chmodSync(path.join(ws, 'secret'), 0o000);
    const r = spawnSync(process.execPath, [CLI, 'scan', '--format', 'json', '--fail-on-skip'], { cwd: ws, env: { ...ENV, HOME: ws }, encoding: 'utf8', ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
    chmodSync(path.join(ws, 'secret'), 0o755);
    assert.equal(r.status, 3, `${inGit ? 'git' : 'plain'}: ${r.stdout}${r.stderr}`);
    const skipped = (JSON.parse(r.stdout) as { stats: { skipped: Array<{ file: string; reason: string }> } }).stats.skipped;
    assert.deepEqual(skipped.map((s) => `${s.file}:${s.reason}`), ['secret/:unreadable']);
    assertNoSecret([r.stdout, r.stderr], secrets);
  }
});

function walkAll(dir: string): string[] {
  const out = [dir];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walkAll(p));
    else out.push(p);
  }
  return out;
}

test('UTF-32 and BOM-less UTF-16 text is decoded; binary files are scanned as their strings', async (t) => {
  const dir = tempDir(t, 'keysentry-enc-');
  const secrets: string[] = [];
  const utf32 = (s: string, be: boolean, bom: boolean): Buffer => {
    const cps = [...(bom ? '\ufeff' : '') + s].map((c) => c.codePointAt(0) as number);
    const b = Buffer.alloc(cps.length * 4);
    cps.forEach((cp, i) => (be ? b.writeUInt32BE(cp, i * 4) : b.writeUInt32LE(cp, i * 4)));
    return b;
  };
  const files: Record<string, (s: string) => Buffer> = {
    'a32le-bom.env': (s) => utf32(s, false, true),
    'a32be-bom.env': (s) => utf32(s, true, true),
    'a32le.env': (s) => utf32(s, false, false),
    'a32be.env': (s) => utf32(s, true, false),
    'a16le.env': (s) => Buffer.from(s, 'utf16le'),
    'a16be.env': (s) => Buffer.from(s, 'utf16le').swap16(),
    'blob.bin': (s) => Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0]), Buffer.alloc(300), Buffer.from(s), Buffer.alloc(9000, 0x90)]),
  };
  for (const [name, encode] of Object.entries(files)) {
    const l = leak();
    secrets.push(l.secret);
    writeFileSync(path.join(dir, name), encode(`# ünïcode\n${l.text}`));
  }
  const r = await runCli(['scan', '--format', 'json', '--all-files'], dir);
  assert.equal(r.code, 1);
  assert.deepEqual(filesWithSecrets(r.out), Object.keys(files).sort());
  assert.deepEqual((JSON.parse(r.out) as { stats: { skipped: unknown[] } }).stats.skipped, []);
  assertNoSecret([r.out, r.err], secrets);
  // Any text survives its encoding: decode(encode(s)) === s.
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme-ascii', minLength: 8, maxLength: 200 }), fc.constantFrom('le', 'be'), (s, e) => {
      const text = `k=${s}`;
      return decode(utf32(text, e === 'be', false)).text === text && detectEncoding(utf32(text, e === 'be', true)).encoding === `utf-32${e}`;
    }),
    { seed: 11, numRuns: 200 },
  );
});

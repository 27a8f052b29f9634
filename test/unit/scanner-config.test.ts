// Repository config files (`.keysentry-baseline.json`, `.secretlintignore`) are attacker-controlled,
// and so is their type. Each case runs the real CLI in a subprocess with a timeout, so a
// regression (a FIFO read that blocks, /dev/zero read to exhaustion) fails the test instead of
// hanging or killing the test runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir, assertNoSecret } from './helpers';
import { readConfigFile } from '../../src/core/detect/configFiles';
import { addToBaselineFile, loadBaseline, loadIgnore } from '../../src/core/detect/scanFiles';
import { IgnoreMatcher } from '../../src/core/detect/ignoreFile';
import { KeysentryError, type SkippedFile } from '../../src/core/types';
// @ts-expect-error plain ESM helper
import { fakeKeyId, fakeSecret } from '../fixtures/fake-keys.mjs';

const root = path.resolve(__dirname, '..', '..');
/** tsx by absolute path: the subprocesses run in temporary folders outside the project. */
const TSX = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const mkfifo = (p: string): void => void execFileSync('mkfifo', [p]);

interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** The CLI from source in its own process: a hang or an abort cannot take the test runner down. */
function cli(args: string[], cwd: string, timeoutMs = 30_000): CliRun {
  const r = spawnSync(process.execPath, ['--import', TSX, path.join(root, 'src', 'cli', 'main.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: timeoutMs,
    // A /dev/zero read fails fast at this heap size instead of taking the machine's memory first.
    env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=512' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

function workspace(t: { after: (fn: () => void) => void }): { dir: string; secrets: string[] } {
  const dir = tempDir(t, 'keysentry-config-');
  const id = fakeKeyId();
  const secret = fakeSecret();
  writeFileSync(path.join(dir, '.env'), `AWS_ACCESS_KEY_ID=${id}\nAWS_SECRET_ACCESS_KEY=${secret}\n`);
  return { dir, secrets: [secret] };
}

const hostile: Array<[string, (p: string, dir: string) => void, SkippedFile['reason']]> = [
  ['a symlink to /dev/zero', (p) => symlinkSync('/dev/zero', p), 'not-a-file'],
  ['a FIFO', (p) => mkfifo(p), 'not-a-file'],
  ['a folder', (p) => mkdirSync(p), 'not-a-file'],
  [
    'a symlink to a file outside the repository',
    (p, dir) => {
      const outside = path.join(path.dirname(dir), `${path.basename(dir)}-outside`);
      writeFileSync(outside, '*\n{"version":1,"entries":[]}\n');
      symlinkSync(outside, p);
    },
    'not-a-file',
  ],
  ['a 2 MB file', (p) => writeFileSync(p, '#'.repeat(2 * 1024 * 1024)), 'too-large'],
];

for (const name of ['.keysentry-baseline.json', '.secretlintignore']) {
  for (const [what, make, reason] of hostile) {
    test(`scan: ${name} that is ${what} is refused and reported, the scan completes`, (t) => {
      const { dir, secrets } = workspace(t);
      make(path.join(dir, name), dir);
      const r = cli(['scan', '--format', 'json'], dir);
      assert.equal(r.signal, null, `the scan was killed (${r.signal}): it hung or ran out of memory\n${r.err.slice(0, 500)}`);
      assert.equal(r.status, 1, r.err.slice(0, 500));
      const parsed = JSON.parse(r.out);
      assert.deepEqual(parsed.findings.map((f: { file: string }) => f.file).sort(), ['.env', '.env']);
      const skip = parsed.stats.skipped.find((s: SkippedFile) => s.file === name);
      assert.ok(skip, `refusal of ${name} reported: ${JSON.stringify(parsed.stats.skipped)}`);
      assert.equal(skip.reason, reason);
      const text = cli(['scan'], dir);
      assert.equal(text.status, 1);
      assert.ok(text.out.includes('Not scanned:') && text.out.includes(`  ${name}  `), text.out);
      assertNoSecret([r.out, r.err, text.out, text.err], secrets);
    });
  }
}

test('an explicit --baseline that is a FIFO or /dev/zero is a clear error, never a hang', (t) => {
  const { dir } = workspace(t);
  mkfifo(path.join(dir, 'fifo.json'));
  for (const target of ['fifo.json', '/dev/zero']) {
    const r = cli(['scan', '--baseline', target], dir);
    assert.equal(r.signal, null, `killed: ${r.signal}`);
    assert.equal(r.status, 2);
    assert.match(r.err, /baseline file refused/);
  }
});

test('readConfigFile: regular files are read; everything else is refused with a reason', (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'ok'), 'hello\n');
  assert.deepEqual(readConfigFile(path.join(dir, 'ok')), { status: 'ok', text: 'hello\n', bytes: Buffer.from('hello\n') });
  assert.deepEqual(readConfigFile(path.join(dir, 'missing')), { status: 'missing' });
  symlinkSync('/dev/zero', path.join(dir, 'zero'));
  assert.equal(readConfigFile(path.join(dir, 'zero')).status, 'refused');
  assert.equal(readConfigFile('/dev/zero').status, 'refused');
  mkfifo(path.join(dir, 'fifo'));
  assert.equal(readConfigFile(path.join(dir, 'fifo')).status, 'refused');
  writeFileSync(path.join(dir, 'big'), 'x'.repeat(101));
  assert.deepEqual(readConfigFile(path.join(dir, 'big'), 100), { status: 'refused', reason: 'too-large', detail: '101 bytes > 100, not read' });
  assert.equal(readConfigFile(path.join(dir, 'big'), 101).status, 'ok');
});

test('loadBaseline / loadIgnore report refusals; addToBaselineFile never replaces a refused baseline', (t) => {
  const dir = tempDir(t);
  symlinkSync('/dev/zero', path.join(dir, '.keysentry-baseline.json'));
  mkfifo(path.join(dir, '.secretlintignore'));
  const problems: SkippedFile[] = [];
  assert.equal(loadBaseline(undefined, dir, dir, problems).size, 0);
  assert.ok(loadIgnore(dir, problems).empty);
  assert.deepEqual(problems.map((p) => `${p.file}:${p.reason}`), ['.keysentry-baseline.json:not-a-file', '.secretlintignore:not-a-file']);
  assert.throws(() => addToBaselineFile(dir, []), KeysentryError);
  assert.ok(lstatSync(path.join(dir, '.keysentry-baseline.json')).isSymbolicLink(), 'the link is left as it is');
  assert.equal(readlinkSync(path.join(dir, '.keysentry-baseline.json')), '/dev/zero');
  // A regular baseline still works.
  const other = tempDir(t);
  addToBaselineFile(other, []);
  assert.ok(existsSync(path.join(other, '.keysentry-baseline.json')));
  assert.equal(JSON.parse(readFileSync(path.join(other, '.keysentry-baseline.json'), 'utf8')).version, 1);
});

test('.secretlintignore: a nested-star pattern against a long name answers at once', () => {
  // 151 s with the hand-written matcher; run in a subprocess with a timeout so a regression fails, not hangs.
  const script = `
    const { IgnoreMatcher } = require(${JSON.stringify(path.join(root, 'src', 'core', 'detect', 'ignoreFile.ts'))});
    const m = new IgnoreMatcher('a*a*a*a*a*a*a*a*a*a*a*a*b\\n');
    let n = 0;
    for (const len of [45, 100, 1000, 10000]) if (m.ignores('a'.repeat(len))) n++;
    process.stdout.write(String(n));`;
  const r = spawnSync(process.execPath, ['--import', TSX, '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.signal, null, 'the match did not finish in 20 s');
  assert.equal(r.stdout, '0', r.stderr);
});

test('.secretlintignore: an invalid line is reported and the other patterns still apply', async (t) => {
  const { dir, secrets } = workspace(t);
  writeFileSync(path.join(dir, 'ignored.txt'), `aws_secret_access_key = ${fakeSecret()}\n`);
  writeFileSync(path.join(dir, '.secretlintignore'), '[z-a].txt\nignored.txt\ntrailing\\\n');
  const r = cli(['scan', '--format', 'json'], dir);
  const parsed = JSON.parse(r.out);
  assert.deepEqual([...new Set(parsed.findings.map((f: { file: string }) => f.file))], ['.env'], 'ignored.txt stays ignored');
  const details = parsed.stats.skipped.filter((s: SkippedFile) => s.file === '.secretlintignore').map((s: SkippedFile) => s.detail);
  assert.equal(details.length, 2, JSON.stringify(details));
  assert.match(details[0], /^line 1: /);
  assert.match(details[1], /^line 3: .*lone backslash/);
  assertNoSecret([r.out, r.err], secrets);
});

test('IgnoreMatcher keeps gitignore semantics', () => {
  const m = new IgnoreMatcher('# comment\n*.log\n!keep.log\nbuild/\n/rooted.txt\ndocs/**/*.md\n');
  const cases: Array<[string, boolean]> = [
    ['a.log', true],
    ['sub/b.log', true],
    ['keep.log', false],
    ['build/out.js', true],
    ['src/build/out.js', true],
    ['build', false],
    ['rooted.txt', true],
    ['sub/rooted.txt', false],
    ['docs/a/b/c.md', true],
    ['docs/c.md', true],
    ['src/c.md', false],
    ['../outside.log', false],
    ['', false],
  ];
  for (const [p, want] of cases) assert.equal(m.ignores(p), want, p);
  assert.ok(new IgnoreMatcher('').empty);
  assert.deepEqual(new IgnoreMatcher('ok\n').problems, []);
});

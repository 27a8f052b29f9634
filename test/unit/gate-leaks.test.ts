// "The gate must not leak what it guards": secrets in commit subjects, pushes that got through
// (binary files, blobs over the limit, tags to blobs and trees), remotes named like options,
// and terminal escapes in names. Real git repositories, the built CLI, the installed hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assertNoSecret, tempDir } from './helpers';
import { hookBlock } from '../../src/core/push/hookBlock';
import { escapeControl, displayBytes } from '../../src/core/escape';
import { formatPushReport } from '../../src/core/push/pushReport';
import { legacyHookArgs } from '../../src/cli/prepush';
// @ts-expect-error plain ESM helper
import { fakeKeyId, fakeSecret } from '../fixtures/fake-keys.mjs';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  NO_COLOR: '1',
};
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const push = (cwd: string, ...args: string[]): { code: number; output: string } => {
  const r = spawnSync('git', ['push', ...args], { cwd, env: ENV, encoding: 'utf8' });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
};
const ESC = '\x1b';

function leak(): { keyId: string; secret: string; text: string } {
  const keyId = fakeKeyId();
  const secret = fakeSecret();
  return { keyId, secret, text: `AWS_ACCESS_KEY_ID=${keyId}\nAWS_SECRET_ACCESS_KEY=${secret}\n` };
}

function setup(t: { after: (fn: () => void) => void }, remoteName = 'origin'): { work: string; remote: string } {
  assert.ok(existsSync(CLI), 'dist/cli.js is built');
  const dir = tempDir(t, 'keysentry-gate-');
  const remote = path.join(dir, 'remote.git');
  const work = path.join(dir, 'work');
  git(dir, 'init', '-q', '--bare', '-b', 'main', remote);
  git(dir, 'init', '-q', '-b', 'main', work);
  git(work, 'config', `remote.${remoteName}.url`, remote);
  writeFileSync(path.join(work, 'README.md'), '# app\n');
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'Initial commit');
  const r = spawnSync(process.execPath, [CLI, 'install-hook', '--cli', CLI], { cwd: work, env: ENV, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(push(work, '--', remoteName, 'main').code, 0);
  return { work, remote };
}

const lastPushFile = (work: string): string => git(work, 'rev-parse', '--path-format=absolute', '--git-path', 'keysentry/last-push.json').trim();

test('a secret in a commit subject is masked in the blocked-push report, the findings file (0600) and the editor data', (t) => {
  const { work, remote } = setup(t);
  const l = leak();
  writeFileSync(path.join(work, 'notes.txt'), 'x\n');
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', `Use ${l.keyId} ${l.secret} for now`, '-m', `and aws_secret_access_key=${l.secret}`);
  const r = push(work, 'origin', 'main');
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /push blocked/);
  assert.match(r.output, new RegExp(`Use ${l.keyId} ${l.secret.slice(0, 4)}\\*+ for now`), 'the subject is shown, masked');
  const file = lastPushFile(work);
  assertNoSecret([r.output, readFileSync(file, 'utf8')], [l.secret]);
  assert.equal(statSync(file).mode & 0o777, 0o600, 'last-push.json is readable by its owner only');
  assert.equal(statSync(path.dirname(file)).mode & 0o077, 0);
  // What the editor reads (the outgoing-commit status runs the CLI with --format json).
  const json = spawnSync(process.execPath, [CLI, 'pre-push', '--format', 'json', '--no-record', '--', 'origin', 'origin'], {
    cwd: work,
    env: ENV,
    encoding: 'utf8',
    input: `refs/heads/main ${git(work, 'rev-parse', 'HEAD').trim()} refs/heads/main ${git(remote, 'rev-parse', 'main').trim()}\n`,
  });
  assert.equal(json.status, 1, json.stderr);
  assertNoSecret([json.stdout, json.stderr], [l.secret]);
  assert.ok(JSON.parse(json.stdout).findings.every((f: { subject: string }) => f.subject.startsWith(`Use ${l.keyId}`)));
});

test('pushes that got through: a key in a binary file, a tag to a blob, a tag to a tree, a blob over the limit', (t) => {
  const { work, remote } = setup(t);
  const before = git(remote, 'for-each-ref');
  // A NUL byte in the first 8 KB made the file "binary" and unscanned.
  const bin = leak();
  writeFileSync(path.join(work, 'app.db'), Buffer.concat([Buffer.from([0x53, 0x51, 0, 0, 1, 0xff, 0xfe]), Buffer.alloc(100), Buffer.from(bin.text), Buffer.alloc(5000)]));
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'Add database');
  const r1 = push(work, 'origin', 'main');
  assert.equal(r1.code, 1, r1.output);
  assert.match(r1.output, /app\.db:\d+:\d+ {2}AWS secret access key/);
  git(work, 'reset', '-q', '--hard', 'HEAD~1');

  // A tag pointing straight at a blob, and an annotated tag pointing at a tree.
  const blobLeak = leak();
  const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: work, env: ENV, input: blobLeak.text, encoding: 'utf8' }).trim();
  git(work, 'tag', 'blob-tag', blob);
  const r2 = push(work, 'origin', 'blob-tag');
  assert.equal(r2.code, 1, r2.output);
  assert.match(r2.output, /AWS secret access key/);
  const treeLeak = leak();
  const blob2 = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: work, env: ENV, input: treeLeak.text, encoding: 'utf8' }).trim();
  const sub = execFileSync('git', ['mktree'], { cwd: work, env: ENV, input: `100644 blob ${blob2}\tcreds.env\n`, encoding: 'utf8' }).trim();
  const tree = execFileSync('git', ['mktree'], { cwd: work, env: ENV, input: `040000 tree ${sub}\tdeploy\n`, encoding: 'utf8' }).trim();
  git(work, 'tag', '-a', '-m', 'a tree', 'tree-tag', tree);
  const r3 = push(work, 'origin', 'tree-tag');
  assert.equal(r3.code, 1, r3.output);
  assert.match(r3.output, /deploy\/creds\.env:2:\d+ {2}AWS secret access key/);

  // A blob over the size limit (50 MB) cannot be scanned: fail-closed stops the push and names it.
  writeFileSync(path.join(work, 'huge.bin'), Buffer.alloc(51 * 1024 * 1024, 0x41));
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'Add a large file');
  const r4 = push(work, 'origin', 'main');
  assert.equal(r4.code, 1, r4.output);
  assert.match(r4.output, /scan failed, push stopped \(fail-closed\): 1 file in the push could not be scanned/);
  assert.match(r4.output, /not scanned: [0-9a-f]{10} huge\.bin: too-large/);
  assert.equal(git(remote, 'for-each-ref'), before, 'nothing reached the remote');
  // Fail-open lets it through, and says so.
  spawnSync(process.execPath, [CLI, 'install-hook', '--cli', CLI, '--fail-open'], { cwd: work, env: ENV });
  const r5 = push(work, 'origin', 'main');
  assert.equal(r5.code, 0, r5.output);
  assert.match(r5.output, /1 file could not be scanned; pushing anyway \(fail-open\)/);
  assertNoSecret([r1.output, r2.output, r3.output, r4.output, r5.output], [bin.secret, blobLeak.secret, treeLeak.secret]);
});

test('a remote named --help or --fail-open neither skips the scan nor turns it fail-open (new and old hooks)', (t) => {
  for (const name of ['--help', '--fail-open']) {
    const { work, remote } = setup(t, name);
    const l = leak();
    writeFileSync(path.join(work, '.env'), l.text);
    git(work, 'add', '-A');
    git(work, 'commit', '-qm', 'env');
    const r = push(work, '--', name, 'main');
    assert.equal(r.code, 1, `${name}: ${r.output}`);
    assert.match(r.output, /push blocked/);
    assert.ok(!git(remote, 'for-each-ref').includes(git(work, 'rev-parse', 'HEAD').trim()), 'the commit did not reach the remote');
    // A hook installed by an older version (no "--"): the CLI reads that shape positionally.
    const hookFile = path.join(work, '.git', 'hooks', 'pre-push');
    writeFileSync(hookFile, readFileSync(hookFile, 'utf8').replace(' -- "$1" "$2"', ' "$1" "$2"'));
    const old = push(work, '--', name, 'main');
    assert.equal(old.code, 1, `${name} (old hook): ${old.output}`);
    const status = spawnSync(process.execPath, [CLI, 'install-hook', '--status'], { cwd: work, env: ENV, encoding: 'utf8' });
    assert.equal(status.status, 1);
    assert.match(status.stdout, /outdated/);
    assertNoSecret([r.output, old.output], [l.secret]);
  }
  assert.deepEqual(legacyHookArgs(['--fail-closed', '--help', 'url']), ['--fail-closed', '--', '--help', 'url']);
  assert.deepEqual(legacyHookArgs(['--fail-closed', '--', '--help', 'url']), ['--fail-closed', '--', '--help', 'url']);
  assert.match(hookBlock({ node: '/n', cli: '/c', failOpen: false }), / pre-push --fail-closed -- "\$1" "\$2"/);
});

test('control characters in names and subjects are escaped in every text report', async (t) => {
  const { work } = setup(t);
  const l = leak();
  const name = `evil${ESC}[2J${ESC}]0;title\x07.env`;
  writeFileSync(path.join(work, name), l.text);
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', `Subject ${ESC}[31mred\r`);
  const r = push(work, 'origin', 'main');
  assert.equal(r.code, 1, r.output);
  assert.ok(!r.output.includes(ESC), 'no raw escape in the push report');
  assert.match(r.output, /evil\\x1b\[2J\\x1b\]0;title\\x07\.env:1:1/);
  assert.match(r.output, /Subject \\x1b\[31mred/);
  const scan = spawnSync(process.execPath, [CLI, 'scan'], { cwd: work, env: ENV, encoding: 'utf8' });
  assert.equal(scan.status, 1);
  assert.ok(!scan.stdout.includes(ESC) && !scan.stderr.includes(ESC), 'no raw escape in the scan report');
  assert.match(scan.stdout, /evil\\x1b\[2J/);
  const missing = spawnSync(process.execPath, [CLI, 'scan', `nope${ESC}[2J`], { cwd: work, env: ENV, encoding: 'utf8' });
  assert.equal(missing.status, 2);
  assert.ok(!missing.stderr.includes(ESC), 'CLI errors escape too');
  assert.equal(escapeControl(`a${ESC}b\u202ec\n`), 'a\\x1bb\\u{202e}c\\x0a');
  assert.equal(displayBytes(Buffer.from([0x61, 0xff, 0xc3, 0xa9, 0x1b])), 'a\\xffé\\x1b');
  const report = formatPushReport({ refs: [{ localRef: `refs/heads/x${ESC}`, remoteRef: 'r', commits: 1, deleted: false }], commits: 1, findings: [], skipped: [{ commit: 'c'.repeat(40), file: `f${ESC}`, reason: 'too-large' }], baselined: 0, ms: 1 }, `o${ESC}`, false);
  assert.ok(!report.includes(ESC));
  assertNoSecret([r.output, scan.stdout, scan.stderr], [l.secret]);
});

test('install-hook in a Husky repository writes no machine path into the tracked .husky/pre-push, and flags it', (t) => {
  const { work, remote } = setup(t);
  mkdirSync(path.join(work, '.husky', '_'), { recursive: true });
  writeFileSync(path.join(work, '.husky', '_', 'pre-push'), '#!/usr/bin/env sh\nsh -e "$(dirname "$(dirname "$0")")/pre-push" "$@"\n', { mode: 0o755 });
  writeFileSync(path.join(work, '.husky', 'pre-push'), 'echo husky-ran >&2\n');
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'husky');
  git(work, 'config', 'core.hooksPath', '.husky/_');
  const r = spawnSync(process.execPath, [CLI, 'install-hook', '--cli', CLI], { cwd: work, env: ENV, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\.husky\/pre-push is in the work tree and tracked by git/);
  const hook = readFileSync(path.join(work, '.husky', 'pre-push'), 'utf8');
  for (const machinePath of [CLI, process.execPath, ROOT, path.dirname(work)]) assert.ok(!hook.includes(machinePath), `no ${machinePath} in the shared hook`);
  // This clone finds its CLI through the git dir, and blocks.
  const l = leak();
  writeFileSync(path.join(work, '.env'), l.text);
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'env');
  const mine = push(work, 'origin', 'main');
  assert.equal(mine.code, 1, mine.output);
  assert.match(mine.output, /push blocked/);
  const status = spawnSync(process.execPath, [CLI, 'install-hook', '--status'], { cwd: work, env: ENV, encoding: 'utf8' });
  assert.match(status.stdout, new RegExp(`runs ${CLI.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));

  // A teammate's clone: the committed hook, no Keysentry recorded, none on PATH.
  git(work, 'commit', '-q', '--allow-empty', '-m', 'noop');
  const mate = path.join(path.dirname(work), 'mate');
  git(path.dirname(work), 'clone', '-q', work, mate);
  git(mate, 'config', 'core.hooksPath', '.husky/_');
  git(mate, 'remote', 'set-url', 'origin', remote);
  const bare = { ...ENV, PATH: '/usr/bin:/bin' };
  const unscanned = spawnSync('git', ['push', 'origin', 'main'], { cwd: mate, env: bare, encoding: 'utf8' });
  assert.equal(unscanned.status, 0, unscanned.stderr);
  assert.match(unscanned.stderr, /Keysentry is not installed on this machine: this push was NOT scanned/);
  const l2 = leak();
  writeFileSync(path.join(mate, 'mate.env'), l2.text);
  git(mate, 'add', '-A');
  git(mate, 'commit', '-qm', 'mate env');
  const required = spawnSync('git', ['push', 'origin', 'main'], { cwd: mate, env: { ...bare, KEYSENTRY_REQUIRED: '1' }, encoding: 'utf8' });
  assert.equal(required.status, 1, required.stderr);
  // With `keysentry` on PATH the teammate's push is scanned.
  const bin = path.join(path.dirname(work), 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'keysentry'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, { mode: 0o755 });
  const scanned = spawnSync('git', ['push', 'origin', 'main'], { cwd: mate, env: { ...bare, PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
  assert.equal(scanned.status, 1, scanned.stderr);
  assert.match(scanned.stderr, /push blocked/);
  assertNoSecret([mine.output, unscanned.stderr, required.stderr, scanned.stderr], [l.secret, l2.secret]);
});

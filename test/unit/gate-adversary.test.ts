// Fixes for the adversarial review of the gate (see the repro scripts of that review): each test
// builds a real repository, pushes through the installed hook and checks what the remote got.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { tempDir } from './helpers';
import { addToBaselineFile } from '../../src/core/detect/scanFiles';
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
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
const gitIn = (cwd: string, input: string, ...args: string[]): string => execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', input });
const push = (cwd: string, ...args: string[]): { code: number; output: string } => {
  const r = spawnSync('git', ['push', ...args], { cwd, env: ENV, encoding: 'utf8' });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
};
const cli = (cwd: string, ...args: string[]): { code: number; output: string } => {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env: ENV, encoding: 'utf8' });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
};

function leak(): { keyId: string; secret: string; text: string } {
  const keyId = fakeKeyId();
  const secret = fakeSecret();
  return { keyId, secret, text: `AWS_ACCESS_KEY_ID=${keyId}\nAWS_SECRET_ACCESS_KEY=${secret}\n` };
}

function setup(t: { after: (fn: () => void) => void }, hook = true): { dir: string; work: string; remote: string } {
  assert.ok(existsSync(CLI), 'dist/cli.js is built');
  const dir = tempDir(t, 'keysentry-adv-');
  const remote = path.join(dir, 'remote.git');
  const work = path.join(dir, 'work');
  git(dir, 'init', '-q', '--bare', '-b', 'main', remote);
  git(dir, 'init', '-q', '-b', 'main', work);
  git(work, 'config', 'remote.origin.url', remote);
  writeFileSync(path.join(work, 'README.md'), '# app\n');
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'Initial commit');
  if (hook) assert.equal(cli(work, 'install-hook', '--cli', CLI).code, 0);
  assert.equal(push(work, 'origin', 'main').code, 0);
  return { dir, work, remote };
}

/** Whether the remote holds an object containing `secret` (read without replacements). */
function remoteHas(remote: string, secret: string): boolean {
  const all = execFileSync('git', ['cat-file', '--batch-all-objects', '--batch'], { cwd: remote, env: { ...ENV, GIT_NO_REPLACE_OBJECTS: '1' }, maxBuffer: 1 << 28 });
  return all.includes(Buffer.from(secret));
}

test('05: a replace ref hiding a secret blob does not fool the scan (push sends the original)', (t) => {
  const { work, remote } = setup(t);
  const { secret, text } = leak();
  writeFileSync(path.join(work, 'creds'), text);
  git(work, 'add', 'creds');
  git(work, 'commit', '-qm', 'add config');
  const bad = git(work, 'rev-parse', 'HEAD:creds').trim();
  const clean = gitIn(work, 'placeholder\n', 'hash-object', '-w', '--stdin').trim();
  git(work, 'replace', bad, clean);
  const r = push(work, 'origin', 'main');
  assert.notEqual(r.code, 0, r.output);
  assert.ok(!remoteHas(remote, secret), 'the remote never got the secret');
});

test('05: a replaced commit (its tree swapped) does not hide the secret either', (t) => {
  const { work, remote } = setup(t);
  const { secret, text } = leak();
  writeFileSync(path.join(work, 'creds'), text);
  git(work, 'add', 'creds');
  git(work, 'commit', '-qm', 'add config');
  const head = git(work, 'rev-parse', 'HEAD').trim();
  const fake = git(work, 'commit-tree', 'HEAD~1^{tree}', '-p', 'HEAD~1', '-m', 'add config').trim();
  git(work, 'replace', head, fake);
  const r = push(work, 'origin', 'main');
  assert.notEqual(r.code, 0, r.output);
  assert.ok(!remoteHas(remote, secret));
});

test('05: a repository with info/grafts is refused by the gate', (t) => {
  const { work, remote } = setup(t);
  const { secret, text } = leak();
  writeFileSync(path.join(work, 'creds'), text);
  git(work, 'add', 'creds');
  git(work, 'commit', '-qm', 'add config');
  writeFileSync(path.join(work, 'x'), 'y\n');
  git(work, 'add', 'x');
  git(work, 'commit', '-qm', 'more');
  // The graft makes HEAD's parent the pushed root: the secret commit vanishes from every walk.
  const grafts = git(work, 'rev-parse', '--path-format=absolute', '--git-path', 'info/grafts').trim();
  writeFileSync(grafts, `${git(work, 'rev-parse', 'HEAD').trim()} ${git(work, 'rev-parse', 'HEAD~2').trim()}\n`);
  const r = push(work, 'origin', 'main');
  assert.notEqual(r.code, 0, r.output);
  assert.match(r.output, /grafts/);
  assert.ok(!remoteHas(remote, secret));
});

test('07: a committed .husky/pre-push symlink is never followed for writing (install, uninstall)', (t) => {
  const { dir, work } = setup(t, false);
  const victim = path.join(dir, 'victim_profile');
  const before = 'export PATH=$PATH:/opt/bin\n';
  writeFileSync(victim, before);
  mkdirSync(path.join(work, '.husky'));
  git(work, 'config', 'core.hooksPath', '.husky/_'); // Husky installed: git runs .husky/
  symlinkSync('../../victim_profile', path.join(work, '.husky', 'pre-push'));
  for (const args of [['install-hook', '--cli', CLI], ['install-hook', '--uninstall'], ['install-hook', '--status']]) {
    const r = cli(work, ...args);
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, /symbolic link.*regular file/s, r.output);
  }
  assert.equal(readFileSync(victim, 'utf8'), before);
  assert.ok(lstatSync(path.join(work, '.husky', 'pre-push')).isSymbolicLink());
});

test('07: a .husky folder that is a symlink out of the repository gets no hook written', (t) => {
  const { dir, work } = setup(t, false);
  const outside = path.join(dir, 'outside');
  mkdirSync(outside);
  symlinkSync(outside, path.join(work, '.husky'));
  git(work, 'config', 'core.hooksPath', '.husky');
  const r = cli(work, 'install-hook', '--cli', CLI);
  assert.notEqual(r.code, 0, r.output);
  assert.match(r.output, /outside the repository/);
  assert.ok(!existsSync(path.join(outside, 'pre-push')));
});

test('09/13: a hook that is a link to /dev/zero or a FIFO is refused at once, never read', (t) => {
  const { work } = setup(t, false);
  mkdirSync(path.join(work, '.husky'));
  git(work, 'config', 'core.hooksPath', '.husky/_');
  symlinkSync('/dev/zero', path.join(work, '.husky', 'pre-push'));
  for (const args of [['install-hook', '--status'], ['install-hook', '--cli', CLI], ['install-hook', '--uninstall']]) {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: work, env: ENV, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.signal, null, 'finished');
    assert.notEqual(r.status, 0);
  }
  unlinkSync(path.join(work, '.husky', 'pre-push'));
  execFileSync('mkfifo', [path.join(work, '.husky', 'pre-push')]);
  const r = spawnSync(process.execPath, [CLI, 'install-hook', '--status'], { cwd: work, env: ENV, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.signal, null, 'finished');
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /FIFO/);
});

test('07: allowlisting into a baseline that is a symlink refuses and leaves the target alone', (t) => {
  const { dir, work } = setup(t, false);
  const target = path.join(dir, 'target.json');
  writeFileSync(target, '{}');
  symlinkSync(target, path.join(work, '.keysentry-baseline.json'));
  assert.throws(() => addToBaselineFile(work, []), /symbolic link/);
  assert.equal(readFileSync(target, 'utf8'), '{}');
});

test('10: a secret in a file name, ref name or push URL never appears raw in the report, last-push.json or scan output', (t) => {
  fc.assert(
    fc.property(fc.constantFrom('creds-', 'x', 'a/b-'), fc.constantFrom('.txt', '', '.env'), (pre, post) => {
      const keyId = fakeKeyId();
      // A 40-character secret without "/" so that it fits in one path segment and one ref name.
      const secret = (fakeSecret() as string).replace(/\//g, 'a');
      const dir = tempDir(t, 'keysentry-adv-');
      const work = path.join(dir, 'work');
      git(dir, 'init', '-q', '-b', 'main', work);
      const file = path.join(work, `${pre}${secret}${post}`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `key id ${keyId}\n`);
      git(work, 'add', '-A');
      git(work, 'commit', '-qm', 'add');
      git(work, 'branch', `deploy-${secret}`);
      const url = `https://${keyId}:${secret}@git.example.com/r.git`;
      const r = spawnSync(process.execPath, [CLI, 'pre-push', '--fail-closed', '--', url, url], {
        cwd: work, env: ENV, encoding: 'utf8',
        input: `refs/heads/deploy-${secret} ${git(work, 'rev-parse', 'HEAD').trim()} refs/heads/deploy-${secret} ${'0'.repeat(40)}\n`,
      });
      assert.equal(r.status, 1, r.stderr);
      const outputs = [r.stdout, r.stderr, readFileSync(path.join(work, '.git', 'keysentry', 'last-push.json'), 'utf8')];
      for (const format of ['text', 'json', 'sarif']) outputs.push(cli(work, 'scan', '--format', format).output);
      const json = spawnSync(process.execPath, [CLI, 'pre-push', '--format', 'json', '--no-record', '--', url, url], { cwd: work, env: ENV, encoding: 'utf8', input: `refs/heads/main ${git(work, 'rev-parse', 'HEAD').trim()} refs/heads/main ${'0'.repeat(40)}\n` });
      outputs.push(json.stdout, json.stderr);
      for (const o of outputs) assert.ok(!o.includes(secret), `raw secret in: ${o.slice(0, 300)}`);
    }),
    { numRuns: 3 },
  );
});

test('01: a secret in an inner tag of a tag chain stops the push', (t) => {
  const { work, remote } = setup(t);
  const { secret, keyId } = leak();
  git(work, 'tag', '-a', 'inner', '-m', `deploy creds: aws_access_key_id=${keyId} aws_secret_access_key=${secret}`, 'HEAD');
  git(work, 'tag', '-a', 'mid', '-m', 'harmless', 'inner');
  git(work, 'tag', '-a', 'outer', '-m', 'harmless', 'mid');
  const r = push(work, 'origin', 'outer');
  assert.equal(r.code, 1, r.output);
  assert.ok(!r.output.includes(secret));
  assert.ok(!remoteHas(remote, secret));
});

test('02: a secret in a commit author or committer name, or a tagger name, stops the push', (t) => {
  const { work, remote } = setup(t);
  const { secret, keyId } = leak();
  writeFileSync(path.join(work, 'f'), 'x\n');
  git(work, 'add', 'f');
  execFileSync('git', ['-c', `user.name=deploy ${keyId} ${secret}`, 'commit', '-qm', 'add f'], { cwd: work, env: { ...ENV, GIT_AUTHOR_NAME: undefined, GIT_COMMITTER_NAME: undefined } });
  const r = push(work, 'origin', 'main');
  assert.equal(r.code, 1, r.output);
  assert.ok(!r.output.includes(secret));
  assert.ok(!remoteHas(remote, secret));
  git(work, 'reset', '-q', '--hard', 'HEAD~1');
  execFileSync('git', ['-c', `user.name=deploy ${keyId} ${secret}`, 'tag', '-a', 'v1', '-m', 'release'], { cwd: work, env: { ...ENV, GIT_COMMITTER_NAME: undefined } });
  const r2 = push(work, 'origin', 'v1');
  assert.equal(r2.code, 1, r2.output);
  assert.ok(!remoteHas(remote, secret));
});

test('14: scan lists a submodule as not scanned, and --fail-on-skip fails', (t) => {
  const { dir, work } = setup(t, false);
  const lib = path.join(dir, 'lib');
  git(dir, 'init', '-q', '-b', 'main', lib);
  writeFileSync(path.join(lib, 'creds'), leak().text);
  git(lib, 'add', '-A');
  git(lib, 'commit', '-qm', 'creds');
  git(work, '-c', 'protocol.file.allow=always', 'submodule', '-q', 'add', lib, 'lib');
  git(work, 'commit', '-qm', 'sub');
  const r = cli(work, 'scan', '--fail-on-skip', '--format', 'json');
  assert.equal(r.code, 3, r.output);
  assert.match(r.output, /"file": "lib"[\s\S]*submodule: scan it separately/);
});

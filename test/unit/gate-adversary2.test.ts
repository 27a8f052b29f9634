// Fixes for the second adversarial review of the gate (repro scripts in that review's folder):
// each test builds real repositories and pushes through the installed hook, checking what the
// remote got, or drives the CLI / core directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers';
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
const push = (cwd: string, ...args: string[]): { code: number; output: string } => {
  const r = spawnSync('git', ['push', ...args], { cwd, env: ENV, encoding: 'utf8' });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
};
const cli = (cwd: string, args: string[], input = '', env: NodeJS.ProcessEnv = ENV): { code: number; output: string; stdout: string } => {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env, encoding: 'utf8', input });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}`, stdout: r.stdout };
};

function leak(): { keyId: string; secret: string; text: string } {
  const keyId = fakeKeyId();
  const secret = fakeSecret();
  return { keyId, secret, text: `AWS_ACCESS_KEY_ID=${keyId}\nAWS_SECRET_ACCESS_KEY=${secret}\n` };
}

/** A bare server and a clone of it on branch main, with the hook installed. */
function clone(dir: string, name = 'server.git'): { server: string; work: string } {
  const server = path.join(dir, name);
  const work = path.join(dir, 'work');
  git(dir, 'init', '-q', '--bare', server);
  git(dir, 'clone', '-q', server, work);
  git(work, 'checkout', '-q', '-b', 'main');
  return { server, work };
}
const installHook = (work: string): void => assert.equal(cli(work, ['install-hook']).code, 0);
const onServer = (server: string, secret: string): boolean => spawnSync('git', ['--git-dir', server, 'log', '--all', '-p'], { env: ENV, encoding: 'utf8' }).stdout.includes(secret);

// 2. git config changes `git log --raw` output.
for (const [key, value] of [['log.showRoot', 'false'], ['i18n.logOutputEncoding', 'UTF-16']]) {
  test(`gate-adversary2: ${key}=${value} does not blind the scan of a first commit`, (t) => {
    const dir = tempDir(t);
    const { server, work } = clone(dir);
    installHook(work);
    git(work, 'config', key as string, value as string);
    const l = leak();
    writeFileSync(path.join(work, '.env'), l.text);
    git(work, 'add', '.env');
    git(work, 'commit', '-qm', 'initial commit');
    const r = push(work, 'origin', 'main');
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, /push blocked/);
    assert.ok(!onServer(server, l.secret));
    assert.ok(!r.output.includes(l.secret));
  });
}

// 3. protocol.<name>.allow from the repository outranks protocol.allow: every transport is pinned.
test('gate-adversary2: a repository protocol.ext.allow=always does not run an ext:: lazy fetch', (t) => {
  const dir = tempDir(t);
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  // Older git (which ignores GIT_NO_LAZY_FETCH) simulated by dropping the variable.
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  writeFileSync(path.join(bin, 'git'), `#!/bin/sh\nunset GIT_NO_LAZY_FETCH\nexec ${realGit} "$@"\n`);
  chmodSync(path.join(bin, 'git'), 0o755);
  const repo = path.join(dir, 'r');
  git(dir, 'init', '-q', repo);
  git(repo, 'checkout', '-q', '-b', 'main');
  writeFileSync(path.join(repo, 'a'), 'x\n');
  git(repo, 'add', 'a');
  git(repo, 'commit', '-qm', 'i');
  const pwned = path.join(dir, 'PWNED');
  git(repo, 'config', 'core.repositoryformatversion', '1');
  git(repo, 'config', 'extensions.partialClone', 'origin');
  git(repo, 'config', 'remote.origin.promisor', 'true');
  git(repo, 'config', 'remote.origin.url', `ext::sh -c touch% ${pwned}`);
  git(repo, 'config', 'protocol.ext.allow', 'always');
  const head = git(repo, 'rev-parse', 'HEAD').trim();
  cli(repo, ['pre-push', '--no-record', '--', 'origin', 'origin'], `refs/heads/main ${head} refs/heads/main ${'2'.repeat(40)}\n`, { ...ENV, PATH: `${bin}:${process.env.PATH}` });
  assert.ok(!existsSync(pwned), 'repository config ran a command during the push scan');
});

test('gate-adversary2: partial clones are refused on git that ignores GIT_NO_LAZY_FETCH', async () => {
  const { lazyFetchSwitchHonoured } = (await import('../../src/git/history')) as { lazyFetchSwitchHonoured: (v: string) => boolean };
  for (const v of ['git version 2.39.3', 'git version 2.40.1', 'git version 2.44.0', 'git version 2.38.5', 'git version 1.9.0']) assert.equal(lazyFetchSwitchHonoured(v), false, v);
  for (const v of ['git version 2.39.4', 'git version 2.40.2', 'git version 2.43.4', 'git version 2.44.1', 'git version 2.45.0', 'git version 2.47.1.windows.1', 'git version 3.0.0']) assert.equal(lazyFetchSwitchHonoured(v), true, v);
});

// 1. Remote-tracking refs are evidence of what a server has only when fetched from the URL pushed to.
function committedLeak(work: string, file = 'creds.ini'): { secret: string; sha: string } {
  const l = leak();
  writeFileSync(path.join(work, file), l.text);
  git(work, 'add', file);
  git(work, 'commit', '-qm', 'internal config');
  return { secret: l.secret, sha: git(work, 'rev-parse', 'HEAD').trim() };
}

test('gate-adversary2: after `git remote set-url` the old server\'s tracking refs do not hide commits from the new one', (t) => {
  const dir = tempDir(t);
  const { work } = clone(dir, 'internal.git');
  const pub = path.join(dir, 'public.git');
  git(dir, 'init', '-q', '--bare', pub);
  const { secret } = committedLeak(work);
  assert.equal(push(work, '-q', 'origin', 'main').code, 0); // no hook yet
  // The hook has seen the old URL once (a clean push of another branch), then the repository moves.
  installHook(work);
  git(work, 'remote', 'set-url', 'origin', pub);
  const r = push(work, 'origin', 'main');
  assert.notEqual(r.code, 0, r.output);
  assert.ok(!onServer(pub, secret));
  assert.match(r.output, /no remote-tracking ref taken as on the remote/);
  assert.ok(!r.output.includes(secret));
});

test('gate-adversary2: a URL change seen by the hook re-marks every tracking ref stale', (t) => {
  const dir = tempDir(t);
  const { work } = clone(dir, 'internal.git');
  installHook(work);
  writeFileSync(path.join(work, 'a.txt'), 'clean\n');
  git(work, 'add', 'a.txt');
  git(work, 'commit', '-qm', 'clean');
  assert.equal(push(work, 'origin', 'main').code, 0);
  // A key pushed to the internal server past the hook, then the move.
  const { secret } = committedLeak(work);
  assert.equal(push(work, '--no-verify', '-q', 'origin', 'main').code, 0);
  const pub = path.join(dir, 'public.git');
  git(dir, 'init', '-q', '--bare', pub);
  git(work, 'remote', 'set-url', 'origin', pub);
  git(work, 'checkout', '-q', '-b', 'feature');
  const r = push(work, 'origin', 'feature');
  assert.notEqual(r.code, 0, r.output);
  assert.ok(!onServer(pub, secret));
});

test('gate-adversary2: a pushurl other than the url, and a push to a URL, trust no tracking ref', (t) => {
  const dir = tempDir(t);
  const { work } = clone(dir, 'internal.git');
  const { secret } = committedLeak(work);
  assert.equal(push(work, '-q', 'origin', 'main').code, 0);
  installHook(work);
  const pub = path.join(dir, 'public.git');
  git(dir, 'init', '-q', '--bare', pub);
  git(work, 'remote', 'set-url', '--push', 'origin', pub);
  let r = push(work, 'origin', 'main');
  assert.notEqual(r.code, 0, r.output);
  assert.match(r.output, /pushes to a URL other than the one it fetches from/);
  git(work, 'config', '--unset', 'remote.origin.pushurl');
  r = push(work, pub, 'main');
  assert.notEqual(r.code, 0, r.output);
  r = push(work, '--mirror', pub);
  assert.notEqual(r.code, 0, r.output);
  assert.ok(!onServer(pub, secret));
});

test('gate-adversary2: tracking refs fetched from the URL pushed to are trusted, and said so', (t) => {
  const dir = tempDir(t);
  const { work } = clone(dir);
  installHook(work);
  writeFileSync(path.join(work, 'a.txt'), 'clean\n');
  git(work, 'add', 'a.txt');
  git(work, 'commit', '-qm', 'clean');
  assert.equal(push(work, 'origin', 'main').code, 0);
  git(work, 'fetch', '-q', 'origin');
  git(work, 'checkout', '-q', '-b', 'feature');
  writeFileSync(path.join(work, 'b.txt'), 'clean too\n');
  git(work, 'add', 'b.txt');
  git(work, 'commit', '-qm', 'more');
  const r = cli(work, ['pre-push', '--no-record', '--format', 'json', '--', 'origin', git(work, 'remote', 'get-url', 'origin').trim()], `refs/heads/feature ${git(work, 'rev-parse', 'HEAD').trim()} refs/heads/feature ${'0'.repeat(40)}\n`);
  assert.equal(r.code, 0, r.output);
  const result = JSON.parse(r.stdout) as { commits: number; assumedOnRemote?: string };
  assert.equal(result.commits, 1);
  assert.match(result.assumedOnRemote ?? '', /origin\/main .*taken as already on the remote/);
});

// 6. A malformed baseline file: the error names the file and position, never JSON.parse's excerpt.
test('gate-adversary2: a malformed baseline error never quotes the file\'s text', (t) => {
  const dir = tempDir(t);
  for (let i = 0; i < 20; i++) {
    const secret = fakeSecret() as string;
    const layouts = [`{"version": 1, "entries": [], "note": ${secret}}\n`, `${secret}`, `{"version": 1,\n "entries": [${secret}]}`, `{"a": "${secret}" "b": 1}`, `{"a": "${secret}`];
    const text = layouts[i % layouts.length] as string;
    writeFileSync(path.join(dir, '.keysentry-baseline.json'), text);
    const r = cli(dir, ['scan', '--baseline', '.keysentry-baseline.json', '.']);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /not valid JSON/);
    for (let k = 0; k + 6 <= secret.length; k++) assert.ok(!r.output.includes(secret.slice(k, k + 6)), `${JSON.stringify(text)} -> ${r.output}`);
  }
});

// 5. Suppression markers count only in a comment; an unterminated block disable hides nothing.
test('gate-adversary2: markers in prose, strings and minified code hide nothing; in comments they still work', async () => {
  const { scanText } = await import('../../src/core/detect/engine');
  const kinds = async (text: string): Promise<number> => (await scanText(text, 'f')).length;
  for (let i = 0; i < 10; i++) {
    const l = leak();
    const pair = `aws_access_key_id = ${l.keyId}\naws_secret_access_key = ${l.secret}\n`;
    // Not comments: every key is found.
    assert.ok((await kinds(`# Security\n\nFalse positives can be silenced with a secretlint-disable comment.\n\n    ${pair.replace('\n', '\n    ')}`)) >= 2);
    assert.ok((await kinds(`var help="append gitleaks:allow to a line";var cfg={accessKeyId:"${l.keyId}",secretAccessKey:"${l.secret}"};\n`)) >= 2);
    assert.ok((await kinds(`url = "https://example.invalid/gitleaks:allow"; key = "${l.keyId}"; secret = "${l.secret}"\n`)) >= 1);
    // An unterminated block disable (even in a comment) hides nothing.
    assert.ok((await kinds(`# secretlint-disable\n${pair}`)) >= 2);
    // Comments: suppressed as before.
    assert.equal(await kinds(`# secretlint-disable\n${pair}# secretlint-enable\n`), 0);
    assert.equal(await kinds(`/* secretlint-disable */\n${pair}/* secretlint-enable */\n`), 0);
    assert.equal(await kinds(`<!-- secretlint-disable -->\n${pair}<!-- secretlint-enable -->\n`), 0);
    assert.equal(await kinds(pair.replace(/\n/g, ' # gitleaks:allow\n')), 0);
    assert.equal(await kinds(`const id = "${l.keyId}"; // keysentry:ignore\nconst s = "${l.secret}";// keysentry:ignore\n`), 0);
    assert.equal(await kinds(`/**\n * secretlint-disable-next-line\n */\n`), 0);
  }
});

// 4. .secretlintignore: never silent; the gate does not honour one the pushed commits add or change.
test('gate-adversary2: files .secretlintignore skips are listed and fail --fail-on-skip; a pushed ignore file is not honoured', (t) => {
  const dir = tempDir(t);
  const { server, work } = clone(dir);
  installHook(work);
  writeFileSync(path.join(work, 'README'), 'hello\n');
  git(work, 'add', 'README');
  git(work, 'commit', '-qm', 'readme');
  assert.equal(push(work, 'origin', 'main').code, 0);
  for (const pattern of ['*.env', '*']) {
    writeFileSync(path.join(work, '.secretlintignore'), `# test fixtures\n${pattern}\n`);
    const l = leak();
    writeFileSync(path.join(work, 'prod.env'), l.text);
    const text = cli(work, ['scan', '--fail-on-skip', '.']);
    assert.equal(text.code, 3, text.output);
    assert.match(text.output, /Ignored by \.secretlintignore: \d+ file\(s\):[\s\S]*prod\.env/);
    const json = cli(work, ['scan', '--format', 'json', '.']);
    const stats = (JSON.parse(json.stdout) as { stats: { skipped: Array<{ file: string; reason: string }> } }).stats;
    assert.ok(stats.skipped.some((k) => k.file === 'prod.env' && k.reason === 'ignored'), json.stdout);
    git(work, 'add', '-A');
    git(work, 'commit', '-qm', `config ${pattern}`);
    const r = push(work, 'origin', 'main');
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, /\.secretlintignore not honoured for this push/);
    assert.ok(!onServer(server, l.secret));
    assert.ok(!r.output.includes(l.secret));
    git(work, 'reset', '-q', '--hard', 'HEAD~1');
  }
});

test('gate-adversary2: an ignore file already on the remote is honoured, and what it skips is listed', (t) => {
  const dir = tempDir(t);
  const { work } = clone(dir);
  installHook(work);
  writeFileSync(path.join(work, '.secretlintignore'), 'fixtures/\n');
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'ignore fixtures');
  assert.equal(push(work, 'origin', 'main').code, 0);
  mkdirSync(path.join(work, 'fixtures'));
  writeFileSync(path.join(work, 'fixtures', 'fake.env'), leak().text);
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'fixture');
  const r = push(work, 'origin', 'main');
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /ignored by \.secretlintignore: 1 file: fixtures\/fake\.env/);
});

// 7. xz, bzip2, zstd and 7z: recognised by their magic bytes and reported as partially scanned.
test('gate-adversary2: xz / bzip2 / zstd / 7z files are reported as partially scanned, and a fail-closed push stops', async (t) => {
  const { scanBytes } = await import('../../src/core/detect/scanFiles');
  const heads: Record<string, number[]> = {
    'c.xz': [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
    'c.bz2': [0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59],
    'c.zst': [0x28, 0xb5, 0x2f, 0xfd],
    'c.7z': [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c],
  };
  for (const [name, head] of Object.entries(heads)) {
    const notes: string[] = [];
    const bytes = Buffer.concat([Buffer.from(head), Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 37) & 0xff))]);
    await scanBytes(bytes, name, { onIncomplete: (why) => notes.push(why) });
    assert.ok(notes.some((n) => /compressed format not opened/.test(n)), `${name}: ${notes.join('; ')}`);
  }
  // Plain text that starts with "BZh" is text.
  const notes: string[] = [];
  await scanBytes(Buffer.from('BZh9 is how bzip2 files start\n'), 'notes.txt', { onIncomplete: (why) => notes.push(why) });
  assert.deepEqual(notes, []);
  // A real xz file through the gate (when xz is installed).
  if (spawnSync('xz', ['--version']).status !== 0) return;
  const dir = tempDir(t);
  const { server, work } = clone(dir);
  installHook(work);
  const l = leak();
  writeFileSync(path.join(work, 'creds.ini'), l.text);
  execFileSync('xz', ['creds.ini'], { cwd: work });
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'backup');
  const scan = cli(work, ['scan', '--fail-on-skip', '.']);
  assert.equal(scan.code, 3, scan.output);
  const r = push(work, 'origin', 'main');
  assert.notEqual(r.code, 0, r.output);
  assert.match(r.output, /compressed format not opened/);
  assert.ok(!onServer(server, 'creds.ini.xz'));
});

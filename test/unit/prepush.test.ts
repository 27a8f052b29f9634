// The pre-push gate against real git: temporary repositories, a local bare remote, the hook
// installed by `keysentry install-hook`, and real `git push` runs calling the built CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assertNoSecret, runCli, tempDir } from './helpers';
import { parseRawLog, parsePushInput } from '../../src/core/push/prepush';
import { planInstall, planRemove, hookBlock } from '../../src/core/push/hookBlock';
// @ts-expect-error plain ESM helper
import { fakeKeyId, fakeSecret, fakePrivateKey } from '../fixtures/fake-keys.mjs';

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
const secrets: string[] = [];

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `git push` with the hook; returns its exit status and everything it printed. */
function push(cwd: string, ...args: string[]): { code: number; output: string } {
  const r = spawnSync('git', ['push', ...args], { cwd, env: ENV, encoding: 'utf8' });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

function leak(): { text: string; keyId: string; secret: string } {
  const keyId = fakeKeyId();
  const secret = fakeSecret();
  secrets.push(secret);
  return { keyId, secret, text: `AWS_ACCESS_KEY_ID=${keyId}\nAWS_SECRET_ACCESS_KEY=${secret}\n` };
}

function commit(cwd: string, file: string, content: string, message: string): string {
  mkdirSync(path.dirname(path.join(cwd, file)), { recursive: true });
  writeFileSync(path.join(cwd, file), content);
  git(cwd, 'add', '-A');
  git(cwd, 'commit', '-q', '-m', message);
  return git(cwd, 'rev-parse', 'HEAD').trim();
}

/** A work repository with one clean commit on main, a bare `origin`, and the hook installed. */
function setup(t: { after: (fn: () => void) => void }, opts: { install?: boolean } = {}): { dir: string; work: string; remote: string } {
  assert.ok(existsSync(CLI), 'dist/cli.js is built (npm run build)');
  const dir = tempDir(t, 'keysentry-push-');
  const remote = path.join(dir, 'remote.git');
  const work = path.join(dir, 'work');
  git(dir, 'init', '-q', '--bare', '-b', 'main', remote);
  git(dir, 'init', '-q', '-b', 'main', work);
  git(work, 'remote', 'add', 'origin', remote);
  commit(work, 'README.md', '# app\n', 'Initial commit');
  if (opts.install !== false) install(work);
  return { dir, work, remote };
}

function install(cwd: string, ...extra: string[]): string {
  const r = spawnSync(process.execPath, [CLI, 'install-hook', '--cli', CLI, ...extra], { cwd, env: ENV, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const remoteRefs = (remote: string): string => git(remote, 'for-each-ref', '--format=%(refname) %(objectname)');
const lastPush = (work: string): { blocked: boolean; result?: { commits: number; findings: Array<{ file: string; kind: string; subject: string; line: number }> }; error?: string } =>
  JSON.parse(readFileSync(git(work, 'rev-parse', '--path-format=absolute', '--git-path', 'keysentry/last-push.json').trim(), 'utf8'));

test('parsePushInput reads every line and rejects malformed ones', () => {
  const a = 'a'.repeat(40);
  const z = '0'.repeat(40);
  const refs = parsePushInput(`refs/heads/main ${a} refs/heads/main ${z}\n\nrefs/tags/v1 ${a} refs/tags/v1 ${z}\n`);
  assert.equal(refs.length, 2);
  assert.equal(refs[1]?.localRef, 'refs/tags/v1');
  assert.throws(() => parsePushInput('refs/heads/main abc refs/heads/main def'), /line 1 is not/);
});

test('parseRawLog: paths with spaces and newlines, renames, merges, submodules', () => {
  const h = (c: string): string => c.repeat(40);
  const log = [
    `\x01KS\0${h('c')}\0${h('p')}\0Add things\n\nbody\n\0\n`,
    `:000000 100644 ${h('0')} ${h('1')} A\0sp ace\nname.txt\0`,
    `:100644 100644 ${h('2')} ${h('3')} R087\0old.env\0new.env\0`,
    `:000000 160000 ${h('0')} ${h('4')} A\0vendor/lib\0`,
    `\0\x01KS\0${h('m')}\0${h('p')} ${h('q')}\0Merge\n\0\0`,
    `::100644 100644 100644 ${h('5')} ${h('6')} ${h('7')} MM\0conf.ini\0\0`,
  ].join('');
  const [c, m] = parseRawLog(log);
  assert.ok(c && m);
  assert.equal(c.message, 'Add things\n\nbody');
  assert.deepEqual(c.files.map((f) => [f.path, f.newBlob[0], f.oldBlobs.map((b) => b[0]), f.submodule]), [
    ['sp ace\nname.txt', '1', ['0'], false],
    ['new.env', '3', ['2'], false],
    ['vendor/lib', '4', ['0'], true],
  ]);
  assert.deepEqual(m.parents.length, 2);
  assert.deepEqual(m.files.map((f) => [f.path, f.newBlob[0], f.oldBlobs.map((b) => b[0])]), [['conf.ini', '7', ['5', '6']]]);
});

test('hook block: insert after the shebang, replace in place, remove byte for byte', () => {
  const block = hookBlock({ node: "/opt/it's node", cli: '/x/cli.js', failOpen: false });
  const theirs = '#!/usr/bin/env bash\nset -e\necho theirs\n';
  const ins = planInstall(theirs, block);
  assert.equal(ins.kind, 'insert');
  assert.ok(ins.content.startsWith('#!/usr/bin/env bash\n# >>> keysentry'));
  assert.equal(planInstall(ins.content, block).content, ins.content, 'idempotent');
  const rm = planRemove(ins.content);
  assert.equal(rm.kind, 'rewrite');
  assert.equal(rm.kind === 'rewrite' && rm.content, theirs);
  assert.equal(planInstall('#!/usr/bin/env python3\nprint(1)\n', block).kind, 'chain');
  assert.equal(planRemove(planInstall(undefined, block).content).kind, 'delete');
  assert.equal(planRemove('#!/bin/sh\n').kind, 'absent');
  // An empty hook of the user's own comes back empty, not deleted.
  const empty = planInstall('', block);
  assert.deepEqual(planRemove(empty.content), { kind: 'rewrite', content: '' });
});

test('clean push passes; a push carrying a key is blocked with a masked report and a findings file', (t) => {
  const { work, remote } = setup(t);
  const clean = push(work, 'origin', 'main');
  assert.equal(clean.code, 0, clean.output);
  assert.match(clean.output, /1 outgoing commit to origin \(main\) scanned in \d+ ms: no credentials/);
  assert.equal(lastPush(work).blocked, false);
  const before = remoteRefs(remote);

  const l = leak();
  commit(work, 'config/.env', `# settings\nREGION=eu-west-1\n${l.text}`, 'Add deploy settings');
  const blocked = push(work, 'origin', 'main');
  assert.equal(blocked.code, 1, blocked.output);
  assert.match(blocked.output, /keysentry: push blocked: 2 credentials in 1 outgoing commit to origin \(main\)/);
  assert.match(blocked.output, /Add deploy settings/);
  assert.match(blocked.output, /config\/\.env:3:\d+ {2}AWS access key id/);
  assert.match(blocked.output, /config\/\.env:4:\d+ {2}AWS secret access key/);
  assert.match(blocked.output, /(?:keysentry|cli\.js'?) rotate AKIA/);
  // `keysentry` when it is on PATH, else the CLI's own command line (see gate-ci.test.ts).
  assert.match(blocked.output, /(?:keysentry|cli\.js'?) allowlist --last-push/);
  assert.equal(remoteRefs(remote), before, 'nothing reached the remote');
  const file = lastPush(work);
  assert.equal(file.blocked, true);
  assert.deepEqual(file.result?.findings.map((f) => [f.file, f.line, f.kind]), [
    ['config/.env', 3, 'aws-access-key-id'],
    ['config/.env', 4, 'aws-secret-access-key'],
  ]);
  assertNoSecret([blocked.output, readFileSync(git(work, 'rev-parse', '--git-path', 'keysentry/last-push.json').trim().replace(/^/, work + '/'), 'utf8')], [l.secret]);
});

test('a key added and deleted again in later outgoing commits still blocks; earlier pushed commits are not rescanned', (t) => {
  const { work } = setup(t);
  assert.equal(push(work, 'origin', 'main').code, 0);
  const l = leak();
  commit(work, 'app/settings.py', `KEY = "${l.keyId}"\nSECRET_KEY = "${l.secret}"\n`, 'Try the upload');
  writeFileSync(path.join(work, 'app/settings.py'), 'import os\nKEY = os.environ["AWS_ACCESS_KEY_ID"]\n');
  git(work, 'commit', '-qam', 'Read the key from the environment');
  commit(work, 'notes.txt', 'done\n', 'Notes');
  const r = push(work, 'origin', 'main');
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /in 1 outgoing commit/);
  assert.match(r.output, /Try the upload/);
  assert.equal(lastPush(work).result?.commits, 3);
  assertNoSecret([r.output], [l.secret]);
});

test('new branch: only commits not on the remote; several refs at once; deletion scans nothing', (t) => {
  const { work, remote } = setup(t);
  commit(work, 'src/a.js', 'export const a = 1;\n', 'Feature a');
  assert.equal(push(work, 'origin', 'main').code, 0);
  git(work, 'checkout', '-q', '-b', 'feature');
  commit(work, 'src/b.js', 'export const b = 2;\n', 'Feature b');
  const ok = push(work, 'origin', 'feature');
  assert.equal(ok.code, 0, ok.output);
  assert.equal(lastPush(work).result?.commits, 1, 'a new branch scans only what the remote lacks');

  // Two refs in one push: main stays clean, topic carries a key.
  git(work, 'checkout', '-q', 'main');
  commit(work, 'src/c.js', 'export const c = 3;\n', 'Main c');
  git(work, 'checkout', '-q', '-b', 'topic');
  const l = leak();
  commit(work, 'deploy/creds', l.text, 'Topic creds');
  const both = push(work, 'origin', 'main', 'topic');
  assert.equal(both.code, 1, both.output);
  assert.match(both.output, /to origin \(main, topic\)/);
  assert.match(both.output, /Topic creds {2}\[topic\]/);
  assert.doesNotMatch(remoteRefs(remote), /refs\/heads\/topic/);

  // A branch already on the remote with a key (pushed past the hook) can be deleted.
  assert.equal(push(work, '--no-verify', 'origin', 'topic').code, 0);
  const del = push(work, 'origin', '--delete', 'topic');
  assert.equal(del.code, 0, del.output);
  assert.match(del.output, /0 outgoing commits/);
  // A new branch at a commit the remote already has: nothing to scan.
  git(work, 'branch', 'again', 'topic');
  assert.equal(push(work, 'origin', 'main').code, 0);
  git(work, 'push', '-q', '--no-verify', 'origin', 'topic');
  const again = push(work, 'origin', 'again');
  assert.equal(again.code, 0, again.output);
  assertNoSecret([both.output, del.output, again.output], [l.secret]);
});

test('tags: a lightweight tag over a key commit and an annotated tag whose message holds a key', (t) => {
  const { work, remote } = setup(t);
  assert.equal(push(work, 'origin', 'main').code, 0);
  const l = leak();
  commit(work, 'release/.env', l.text, 'Release config');
  git(work, 'tag', 'v1.0');
  const r = push(work, 'origin', 'v1.0');
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /to origin \(v1\.0\)/);
  assert.doesNotMatch(remoteRefs(remote), /v1\.0/);

  git(work, 'reset', '-q', '--hard', 'HEAD~1');
  const m = leak();
  git(work, 'tag', '-a', 'v1.1', '-m', `Release notes\n\naws_secret_access_key = ${m.secret}`);
  const r2 = push(work, 'origin', 'v1.1');
  assert.equal(r2.code, 1, r2.output);
  assert.match(r2.output, /\(tag message\) {2}AWS secret access key/);
  assertNoSecret([r.output, r2.output], [l.secret, m.secret]);
});

test('key files, commit messages and private keys in modified files are caught; suppressions and the baseline are honoured', (t) => {
  const { work } = setup(t);
  assert.equal(push(work, 'origin', 'main').code, 0);
  const pem = fakePrivateKey('pkcs8') as string;
  secrets.push(...pem.split('\n').filter((x) => x.length >= 40));
  commit(work, 'deploy/server.key', pem, 'Server key');
  const r = push(work, 'origin', 'main');
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /deploy\/server\.key:1:1 {2}Private key {2}-----BEGIN PRIVATE KEY----- …\(masked\)/);
  git(work, 'reset', '-q', '--hard', 'HEAD~1');

  const l = leak();
  git(work, 'commit', '-q', '--allow-empty', '-m', `Debug\n\nused ${l.keyId} ${l.secret}`);
  const msg = push(work, 'origin', 'main');
  assert.equal(msg.code, 1, msg.output);
  assert.match(msg.output, /\(commit message\) {2}AWS/);
  git(work, 'reset', '-q', '--hard', 'HEAD~1');

  const fixture = leak();
  commit(work, 'test/fixture.env', fixture.text.replace(/\n/g, ' # keysentry:ignore\n'), 'Fixture with markers');
  const marked = push(work, 'origin', 'main');
  assert.equal(marked.code, 0, marked.output);

  const other = leak();
  commit(work, 'test/other.env', other.text, 'Another fixture');
  assert.equal(push(work, 'origin', 'main').code, 1);
  const allow = spawnSync(process.execPath, [CLI, 'allowlist', '--last-push'], { cwd: work, env: ENV, encoding: 'utf8' });
  assert.equal(allow.status, 0, allow.stderr);
  assert.match(allow.stdout, /added 2 finding\(s\) to \.keysentry-baseline\.json/);
  const after = push(work, 'origin', 'main');
  assert.equal(after.code, 0, after.output);
  assert.match(after.output, /\(2 baselined\)/);
  assertNoSecret([r.output, msg.output, marked.output, after.output, allow.stdout], [l.secret, fixture.secret, other.secret, ...secrets]);
});

test('an existing hook keeps running with the same input, and uninstall restores it byte for byte', (t) => {
  const { work } = setup(t, { install: false });
  const hookFile = path.join(work, '.git', 'hooks', 'pre-push');
  const theirs = '#!/bin/sh\n# team hook\nwhile read local_ref local_sha remote_ref remote_sha; do\n  echo "$local_ref $remote_ref" >> "$(git rev-parse --git-dir)/their-hook.log"\ndone\nexit 0\n';
  writeFileSync(hookFile, theirs, { mode: 0o750 });
  assert.match(install(work), /added to the existing hook/);
  assert.match(install(work), /already installed/, 'idempotent');
  assert.ok(readFileSync(hookFile, 'utf8').endsWith(theirs.slice('#!/bin/sh\n'.length)));
  const r = push(work, 'origin', 'main');
  assert.equal(r.code, 0, r.output);
  assert.equal(readFileSync(path.join(work, '.git', 'their-hook.log'), 'utf8'), 'refs/heads/main refs/heads/main\n');
  const l = leak();
  commit(work, '.env', l.text, 'env');
  assert.equal(push(work, 'origin', 'main').code, 1);
  const un = spawnSync(process.execPath, [CLI, 'install-hook', '--uninstall'], { cwd: work, env: ENV, encoding: 'utf8' });
  assert.equal(un.status, 0, un.stderr);
  assert.equal(readFileSync(hookFile, 'utf8'), theirs);
  assert.equal(statSync(hookFile).mode & 0o777, 0o750);

  // A hook in another language is chained, and comes back untouched.
  const py = '#!/usr/bin/env python3\nimport sys\nsys.exit(0)\n';
  writeFileSync(hookFile, py, { mode: 0o755 });
  assert.match(install(work), /existing hook now runs after it/);
  assert.equal(push(work, 'origin', 'main').code, 1);
  spawnSync(process.execPath, [CLI, 'install-hook', '--uninstall'], { cwd: work, env: ENV });
  assert.equal(readFileSync(hookFile, 'utf8'), py);
  assert.equal(existsSync(hookFile + '.keysentry-original'), false);

  // A hook git ignores (not executable) is not silently switched on.
  chmodSync(hookFile, 0o644);
  const refused = spawnSync(process.execPath, [CLI, 'install-hook', '--cli', CLI], { cwd: work, env: ENV, encoding: 'utf8' });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /exists but is not executable/);
  assert.equal(readFileSync(hookFile, 'utf8'), py);
});

test('Husky, core.hooksPath and worktrees', (t) => {
  // Husky: the hook goes into .husky/pre-push, which Husky's wrapper runs.
  const husky = setup(t, { install: false });
  mkdirSync(path.join(husky.work, '.husky', '_'), { recursive: true });
  writeFileSync(path.join(husky.work, '.husky', '_', 'pre-push'), '#!/usr/bin/env sh\nsh -e "$(dirname "$(dirname "$0")")/pre-push" "$@"\n', { mode: 0o755 });
  writeFileSync(path.join(husky.work, '.husky', 'pre-push'), 'echo husky-ran >&2\n');
  git(husky.work, 'config', 'core.hooksPath', '.husky/_');
  assert.match(install(husky.work), /added to the existing hook .*\.husky\/pre-push \(Husky\)/);
  assert.equal(existsSync(path.join(husky.work, '.git', 'hooks', 'pre-push')), false);
  const ok = push(husky.work, 'origin', 'main');
  assert.equal(ok.code, 0, ok.output);
  assert.match(ok.output, /husky-ran/);
  commit(husky.work, 'keys/.env', leak().text, 'keys');
  assert.equal(push(husky.work, 'origin', 'main').code, 1);

  // core.hooksPath elsewhere.
  const custom = setup(t, { install: false });
  git(custom.work, 'config', 'core.hooksPath', 'githooks');
  assert.match(install(custom.work), /installed in new hook .*githooks\/pre-push/);
  commit(custom.work, '.env', leak().text, 'env');
  assert.equal(push(custom.work, 'origin', 'main').code, 1);

  // A linked worktree shares the repository's hooks; its findings file is its own.
  const wt = setup(t, { install: false });
  const tree = path.join(path.dirname(wt.work), 'wt');
  git(wt.work, 'worktree', 'add', '-q', '-b', 'wt-branch', tree);
  assert.match(install(tree), /work\/\.git\/hooks\/pre-push/);
  commit(tree, '.env', leak().text, 'env in worktree');
  const r = push(tree, 'origin', 'wt-branch');
  assert.equal(r.code, 1, r.output);
  assert.equal(lastPush(tree).blocked, true);
});

test('fail-closed stops a push when the scan cannot run; fail-open lets it through with a warning', (t) => {
  const { work } = setup(t);
  const hookFile = path.join(work, '.git', 'hooks', 'pre-push');
  const good = readFileSync(hookFile, 'utf8');
  writeFileSync(hookFile, good.replace(/^keysentry_cli='.*'$/m, "keysentry_cli='/nonexistent/cli.js'"));
  const closed = push(work, 'origin', 'main');
  assert.equal(closed.code, 1);
  assert.match(closed.output, /cannot run the pre-push scan .*Reinstall the hook/);
  assert.match(closed.output, /push stopped \(fail-closed\)/);
  install(work, '--fail-open');
  writeFileSync(hookFile, readFileSync(hookFile, 'utf8').replace(/^keysentry_cli='.*'$/m, "keysentry_cli='/nonexistent/cli.js'"));
  const open = push(work, 'origin', 'main');
  assert.equal(open.code, 0, open.output);
  assert.match(open.output, /pushing unscanned \(fail-open\)/);
});

test('the pre-push command: malformed input and bad baselines fail closed, or open when asked', async (t) => {
  const { work } = setup(t, { install: false });
  const io = (input: string) => async () => input;
  const run = async (args: string[], input: string) => {
    let out = '';
    let err = '';
    const { main } = await import('../../src/cli/main');
    const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s), cwd: work, color: false, version: 't', readStdin: io(input) });
    return { code, out, err };
  };
  const bad = await run(['pre-push', 'origin', 'x'], 'garbage\n');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /scan failed, push stopped \(fail-closed\): pre-push input line 1/);
  assert.equal(lastPush(work).blocked, true);
  const open = await run(['pre-push', '--fail-open', 'origin', 'x'], 'garbage\n');
  assert.equal(open.code, 0);
  writeFileSync(path.join(work, '.keysentry-baseline.json'), '{ not json');
  const head = git(work, 'rev-parse', 'HEAD').trim();
  const z = '0'.repeat(40);
  const base = await run(['pre-push', 'origin', 'x'], `refs/heads/main ${head} refs/heads/main ${z}\n`);
  assert.equal(base.code, 2);
  assert.match(base.err, /\.keysentry-baseline\.json: not valid JSON/);
  assert.equal((await runCli(['pre-push'], work)).code, 2);
});

test('edits next to a key already on the remote pass; a key added while resolving a merge blocks', (t) => {
  const { work } = setup(t);
  const old = leak();
  commit(work, 'legacy/.env', `# old\n${old.text}`, 'Legacy settings');
  assert.equal(push(work, '--no-verify', 'origin', 'main').code, 0);
  writeFileSync(path.join(work, 'legacy/.env'), `# old, do not use\n${old.text}DEBUG=1\n`);
  git(work, 'commit', '-qam', 'Touch legacy settings');
  const edit = push(work, 'origin', 'main');
  assert.equal(edit.code, 0, `a key the remote already has is not new: ${edit.output}`);

  // Two branches change the same line; the resolution brings a key neither side had.
  commit(work, 'app.cfg', 'region = a\n', 'cfg');
  assert.equal(push(work, 'origin', 'main').code, 0);
  git(work, 'checkout', '-q', '-b', 'side');
  commit(work, 'app.cfg', 'region = b\n', 'side cfg');
  git(work, 'checkout', '-q', 'main');
  commit(work, 'app.cfg', 'region = c\n', 'main cfg');
  spawnSync('git', ['merge', '-q', 'side'], { cwd: work, env: ENV });
  const l = leak();
  writeFileSync(path.join(work, 'app.cfg'), `region = c\n${l.text}`);
  git(work, 'commit', '-qam', 'Merge side');
  const merged = push(work, 'origin', 'main');
  assert.equal(merged.code, 1, merged.output);
  assert.match(merged.output, /Merge side/);
  assert.equal(lastPush(work).result?.findings.length, 2);
  assertNoSecret([edit.output, merged.output], [old.secret, l.secret]);
});

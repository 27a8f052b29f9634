// Restricted Mode: nothing a repository configures may run when Keysentry reads it. A repository
// whose .git/config names a program for every hook git offers (fsmonitor, filters, textconv,
// external diff, signature verification, hooks, pager, editor, ssh, askpass, credential helper)
// and whose history holds a signed commit; every program appends its name to a marker file.
// Control runs with plain git prove the marker would appear; Keysentry's paths must leave none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempDir } from './helpers';
import { gitCommittableFiles, gitIgnores, gitTopLevel, gitTracks } from '../../src/git/files';
import { gitPath, gitTopLevelAsync, GitHistory } from '../../src/git/history';
import { hookStatus, locatePrePushHook } from '../../src/git/hooks';
import { scanPush } from '../../src/core/push/pushScan';
import { IgnoreMatcher } from '../../src/core/detect/ignoreFile';
import { main } from '../../src/cli/main';
// @ts-expect-error plain ESM helper
import { fakeKeyId, fakeSecret } from '../fixtures/fake-keys.mjs';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
// In-process commands inherit this environment: no user or system git config of this machine.
Object.assign(process.env, { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' });
const ENV = { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.invalid', NO_COLOR: '1' };
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });

const PROGRAMS = ['fsmonitor', 'clean', 'smudge', 'process', 'textconv', 'extdiff', 'diffcmd', 'gpg', 'gpgssh', 'gpgx509', 'pager', 'editor', 'ssh', 'askpass', 'credential', 'hook'];

interface Hostile {
  work: string;
  marker: string;
  head: string;
  signed: string;
}

/** A repository whose config runs a marker-writing script for everything git can run. */
function hostileRepo(t: { after: (fn: () => void) => void }): Hostile {
  const dir = tempDir(t, 'keysentry-restricted-');
  const marker = path.join(dir, 'MARKER');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  for (const p of PROGRAMS) {
    const script = path.join(bin, p);
    // Records itself and fails at once (reading stdin would deadlock a long-running filter).
    writeFileSync(script, `#!/bin/sh\necho ${p} >> '${marker}'\nexit 1\n`);
    chmodSync(script, 0o755);
  }
  const hooks = path.join(dir, 'hooks');
  mkdirSync(hooks);
  for (const h of ['post-index-change', 'reference-transaction', 'pre-auto-gc', 'post-checkout', 'pre-push']) {
    writeFileSync(path.join(hooks, h), `#!/bin/sh\necho hook-${h} >> '${marker}'\n`);
    chmodSync(path.join(hooks, h), 0o755);
  }
  const work = path.join(dir, 'work');
  git(dir, 'init', '-q', '-b', 'main', work);
  writeFileSync(path.join(work, 'README.md'), '# hostile\n');
  writeFileSync(path.join(work, '.gitattributes'), '* filter=x diff=t\n');
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'init');
  // A commit carrying a signature header: `git log` verifies it when log.showSignature is set.
  const tree = git(work, 'rev-parse', 'HEAD^{tree}').trim();
  const parent = git(work, 'rev-parse', 'HEAD').trim();
  const raw = `tree ${tree}\nparent ${parent}\nauthor T <t@example.invalid> 1700000000 +0000\ncommitter T <t@example.invalid> 1700000000 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nSigned change\n`;
  const signed = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: work, env: ENV, input: raw, encoding: 'utf8' }).trim();
  git(work, 'update-ref', 'refs/heads/main', signed);
  git(work, 'reset', '-q', '--hard');
  // A change on top (so the diff machinery has something to diff) and untracked, modified files.
  writeFileSync(path.join(work, 'app.env'), `AWS_ACCESS_KEY_ID=${fakeKeyId()}\nAWS_SECRET_ACCESS_KEY=${fakeSecret()}\n`);
  git(work, 'add', 'app.env');
  git(work, 'commit', '-qm', 'settings');
  writeFileSync(path.join(work, 'untracked.txt'), 'new\n');
  writeFileSync(path.join(work, 'README.md'), '# hostile, modified\n');
  const config: Array<[string, string]> = [
    ['core.fsmonitor', path.join(bin, 'fsmonitor')],
    ['core.untrackedCache', 'true'],
    ['filter.x.clean', path.join(bin, 'clean')],
    ['filter.x.smudge', path.join(bin, 'smudge')],
    ['filter.x.process', path.join(bin, 'process')],
    ['filter.x.required', 'true'],
    ['diff.t.textconv', path.join(bin, 'textconv')],
    ['diff.t.command', path.join(bin, 'diffcmd')],
    ['diff.external', path.join(bin, 'extdiff')],
    ['log.showSignature', 'true'],
    ['gpg.program', path.join(bin, 'gpg')],
    ['gpg.ssh.program', path.join(bin, 'gpgssh')],
    ['gpg.x509.program', path.join(bin, 'gpgx509')],
    ['core.pager', path.join(bin, 'pager')],
    ['core.editor', path.join(bin, 'editor')],
    ['core.sshCommand', path.join(bin, 'ssh')],
    ['core.askPass', path.join(bin, 'askpass')],
    ['credential.helper', `!${path.join(bin, 'credential')}`],
    ['core.hooksPath', hooks],
    ['gc.auto', '1'],
  ];
  for (const [k, v] of config) git(work, 'config', k, v);
  const head = git(work, 'rev-parse', 'HEAD').trim();
  rmSync(marker, { force: true });
  return { work, marker, head, signed };
}

const ran = (h: Hostile): string => (existsSync(h.marker) ? readFileSync(h.marker, 'utf8').trim().split('\n').join(', ') : '');

test('control: plain git runs the repository-configured programs (so the checks below mean something)', (t) => {
  const h = hostileRepo(t);
  spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: h.work, env: ENV });
  assert.match(ran(h), /fsmonitor/, 'ls-files runs core.fsmonitor');
  rmSync(h.marker, { force: true });
  spawnSync('git', ['check-ignore', '-q', '--', 'README.md'], { cwd: h.work, env: ENV });
  assert.match(ran(h), /fsmonitor/, 'check-ignore runs core.fsmonitor');
  rmSync(h.marker, { force: true });
  spawnSync('git', ['log', '--no-walk=unsorted', '--stdin', '--raw', '-z', '--format=%H'], { cwd: h.work, env: ENV, input: `${h.signed}\n` });
  assert.match(ran(h), /gpg/, 'log of a signed commit runs gpg.program');
  rmSync(h.marker, { force: true });
  spawnSync('git', ['diff'], { cwd: h.work, env: ENV });
  assert.match(ran(h), /extdiff|process|clean/, 'diff runs diff.external or the filter');
  rmSync(h.marker, { force: true });
  spawnSync('git', ['status', '--porcelain'], { cwd: h.work, env: ENV });
  assert.match(ran(h), /process|clean/, 'status runs the clean filter of a modified file');
});

test('Restricted Mode: scan, pre-push, rotate and the editor paths run nothing the repository configures', async (t) => {
  assert.ok(existsSync(CLI), 'dist/cli.js is built');
  const h = hostileRepo(t);
  const step = (what: string): void => assert.equal(ran(h), '', `${what} ran a repository-configured program`);

  // The CLI scan, in process and as the editor runs it (a child process with --progress).
  const scan = await runCli(['scan', '--format', 'json'], h.work);
  assert.equal(scan.code, 1, scan.err);
  step('keysentry scan');
  const child = spawnSync(process.execPath, [CLI, 'scan', '--format', 'json', '--progress'], { cwd: h.work, env: ENV, encoding: 'utf8' });
  assert.equal(child.status, 1, child.stderr);
  step('keysentry scan (child process)');

  // The pre-push scan: a new branch carrying the signed commit and the key.
  const z = '0'.repeat(40);
  const input = `refs/heads/main ${h.head} refs/heads/main ${z}\n`;
  const hook = spawnSync(process.execPath, [CLI, 'pre-push', '--fail-closed', '--', 'origin', 'origin'], { cwd: h.work, env: ENV, input, encoding: 'utf8' });
  assert.equal(hook.status, 1, hook.stderr);
  assert.match(hook.stderr, /push blocked/);
  step('keysentry pre-push');
  let err = '';
  const code = await main(['pre-push', '--format', 'json', '--no-record', '--', 'origin', 'origin'], { out: () => {}, err: (s) => (err += s), cwd: h.work, color: false, version: 't', readStdin: async () => input });
  assert.equal(code, 1, err);
  const direct = await scanPush(new GitHistory(h.work), { remote: 'origin', input, baseline: new Set(), ignore: new IgnoreMatcher() });
  assert.ok(direct.commits >= 3);
  step('scanPush');

  // Rotation's "is this file tracked?" check.
  assert.equal(gitTracks('app.env', h.work), true);
  assert.equal(gitTracks('untracked.txt', h.work), false);
  step('gitTracks (rotate)');

  // The editor: workspace root, the committable files, check-ignore per opened document, hook status.
  assert.equal(gitTopLevel(h.work), h.work);
  assert.ok(gitCommittableFiles(h.work).files.includes('untracked.txt'));
  assert.equal(await gitIgnores(path.join(h.work, 'README.md'), h.work), false);
  assert.equal(await gitTopLevelAsync(h.work), h.work);
  assert.match(await gitPath(h.work, 'keysentry/last-push.json'), /\.git\/keysentry\/last-push\.json$/);
  // Reading where hooks live honours core.hooksPath without running anything there.
  assert.equal((await locatePrePushHook(h.work)).file, path.join(path.dirname(h.work), 'hooks', 'pre-push'));
  assert.equal((await hookStatus(h.work)).installed, false);
  step('editor git paths');
});

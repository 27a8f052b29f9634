// Batched git questions the editor asks (check-ignore, ls-files), with hostile file names and at scale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { CheckIgnoreBatcher, gitIgnoredAmong, gitTrackedAmong } from '../../src/git/checkIgnore';
import { tempDir } from './helpers';

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', ...args], { cwd, stdio: 'pipe' });

test('check-ignore: one batch answers for every path, hostile names included (a leading ":" is not pathspec magic)', async (t) => {
  const dir = tempDir(t);
  git(dir, 'init', '-q');
  writeFileSync(path.join(dir, '.gitignore'), '*.log\nbuild/\n');
  const names = fc.sample(fc.stringMatching(/^[a-z0-9 #?*[\]:!'"\\\-\t\n\u00e9\u4e2d]{1,12}$/), { numRuns: 200, seed: 7 }).filter((n) => n.trim() && !n.includes('/'));
  const paths = [...new Set(names)].flatMap((n) => [n, `${n}.log`, `build/${n}`, `src/${n}.ts`]);
  const ignored = await gitIgnoredAmong(dir, paths);
  for (const p of paths) {
    const expect = p.endsWith('.log') || p.startsWith('build/');
    assert.equal(ignored.has(p), expect, JSON.stringify(p));
  }
});

test('check-ignore: the batcher coalesces concurrent questions and answers each; outside git nothing is ignored', async (t) => {
  const dir = tempDir(t);
  git(dir, 'init', '-q');
  writeFileSync(path.join(dir, '.gitignore'), 'secret.env\n');
  const b = new CheckIgnoreBatcher(10);
  const answers = await Promise.all(Array.from({ length: 500 }, (_, i) => b.ignores(dir, i % 2 ? 'secret.env' : `f${i}.txt`)));
  answers.forEach((a, i) => assert.equal(a, i % 2 === 1));
  const outside = tempDir(t);
  assert.equal(await b.ignores(outside, 'secret.env'), false);
  b.dispose();
});

test('ls-files: tracked vs untracked names, pathspec magic and leading dashes taken literally', async (t) => {
  const dir = tempDir(t);
  git(dir, 'init', '-q');
  mkdirSync(path.join(dir, 'sub'));
  for (const f of ['a.env', '-rf', '*', 'sub/b.env', 'untracked.env']) writeFileSync(path.join(dir, f), 'x');
  git(dir, 'add', '--', 'a.env', '-rf', 'sub/b.env');
  git(dir, 'commit', '-qm', 'x');
  const tracked = await gitTrackedAmong(dir, ['a.env', '-rf', '*', 'sub/b.env', 'untracked.env', ':(glob)*']);
  assert.deepEqual([...(tracked ?? [])].sort(), ['-rf', 'a.env', 'sub/b.env']);
  // From a folder below the top level, names stay relative to that folder.
  assert.deepEqual([...((await gitTrackedAmong(path.join(dir, 'sub'), ['b.env', 'a.env'])) ?? [])], ['b.env']);
  assert.equal(await gitTrackedAmong(tempDir(t), ['a.env']), undefined);
});

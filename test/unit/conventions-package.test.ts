// The CLI as CI installs it: the packed @keysentry/cli tarball, installed with npm into an empty
// project (offline: it has no dependencies), run through node_modules/.bin/keysentry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assertNoSecret, tempDir } from './helpers';
// @ts-expect-error plain ESM fixture helper
import { fakeKeyId, fakeSecret } from '../fixtures/fake-keys.mjs';

const ROOT = path.resolve(__dirname, '..', '..');

test('package: @keysentry/cli packs, installs with npm and runs as `keysentry` (scan -, version in JSON)', { skip: !existsSync(path.join(ROOT, 'dist', 'cli.js')) && 'build first (node esbuild.config.mjs)' }, (t) => {
  const out = tempDir(t);
  const tgz = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'pack-cli.mjs'), out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').at(-1) as string;
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'packages', 'cli', 'package.json'), 'utf8'));
  assert.equal(manifest.private, undefined);
  assert.equal(manifest.version, JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  const project = tempDir(t);
  writeFileSync(path.join(project, 'package.json'), '{"name":"ci","private":true}');
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-save', tgz], { cwd: project, stdio: 'ignore' });
  const bin = path.join(project, 'node_modules', '.bin', 'keysentry');
  const shipped = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  assert.deepEqual(shipped, ['package/LICENSE', 'package/README.md', 'package/THIRD_PARTY_NOTICES.txt', 'package/dist/cli.js', 'package/package.json']);
  const secret = fakeSecret();
  const r = spawnSync(bin, ['scan', '-', '--format', 'json'], { cwd: project, input: `AWS_ACCESS_KEY_ID=${fakeKeyId()}\nAWS_SECRET_ACCESS_KEY=${secret}\n`, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.version, manifest.version);
  assert.ok(j.findings.length > 0);
  assertNoSecret([r.stdout, r.stderr], [secret]);
});

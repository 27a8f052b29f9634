// Second adversarial round on incidents (repros in /work/wt/repro-inc): every test here failed
// before its fix.
// B1: exports, reports and stored investigations are never written (or read) through a symlink
//     under $KEYSENTRY_HOME (file or folder), and stay 0600 in 0700 folders.
// B2/B3: a secret split by invisible (Unicode Cf) characters or a line break is still masked.
// B4: revoke-sessions is refused against the signing identity (moto through the real SDK).
// B5: an idempotent change from an unknown IP does not make the owner's resource the attacker's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writePrivateFile } from '../../src/core/privateFile';
import { investigationFile, loadInvestigation, saveInvestigation } from '../../src/core/investigate/store';
import { tempDir } from './helpers';

const INV = { version: 1, summary: {}, resources: [], timeline: [], exposure: {} } as never;

test('B1: writePrivateFile refuses a symlinked file, a symlinked folder below the home, and keeps 0600/0700', (t) => {
  const home = tempDir(t);
  const outside = tempDir(t);
  // the file itself a link (export default path)
  const exp = path.join(home, 'exports', 'keysentry-incidents.json');
  mkdirSync(path.dirname(exp), { recursive: true });
  writeFileSync(path.join(outside, 'public.json'), '{}\n');
  symlinkSync(path.join(outside, 'public.json'), exp);
  assert.throws(() => writePrivateFile(exp, '{"keysentry":1}', home), /symbolic link/);
  assert.equal(readFileSync(path.join(outside, 'public.json'), 'utf8'), '{}\n');
  // a dangling link too
  const dangling = path.join(home, 'exports', 'dangling.json');
  symlinkSync(path.join(outside, 'new.json'), dangling);
  assert.throws(() => writePrivateFile(dangling, 'x', home), /symbolic link/);
  assert.equal(existsSync(path.join(outside, 'new.json')), false);
  // the reports folder a link
  symlinkSync(outside, path.join(home, 'reports'));
  assert.throws(() => writePrivateFile(path.join(home, 'reports', 'r.md'), '# r', home), /symbolic link/);
  assert.equal(existsSync(path.join(outside, 'r.md')), false);
  // a deeper folder a link
  mkdirSync(path.join(home, 'a'));
  symlinkSync(outside, path.join(home, 'a', 'b'));
  assert.throws(() => writePrivateFile(path.join(home, 'a', 'b', 'c', 'f.md'), 'x', home), /symbolic link/);
  assert.equal(existsSync(path.join(outside, 'c')), false);
  // the happy path: 0700 folders, 0600 file, replaced atomically
  const ok = path.join(home, 'new', 'deeper', 'ok.md');
  writePrivateFile(ok, 'one', home);
  writePrivateFile(ok, 'two', home);
  assert.equal(readFileSync(ok, 'utf8'), 'two');
  assert.equal(statSync(ok).mode & 0o777, 0o600);
  assert.equal(statSync(path.join(home, 'new')).mode & 0o777, 0o700);
  assert.equal(statSync(path.join(home, 'new', 'deeper')).mode & 0o777, 0o700);
  // outside the home (a file the user chose): folders made, the file still never a link
  const chosen = path.join(outside, 'x', 'chosen.json');
  writePrivateFile(chosen, 'c', home);
  assert.equal(statSync(chosen).mode & 0o777, 0o600);
  symlinkSync(ok, path.join(outside, 'x', 'link.json'));
  assert.throws(() => writePrivateFile(path.join(outside, 'x', 'link.json'), 'c', home), /symbolic link/);
  assert.equal(readFileSync(ok, 'utf8'), 'two');
});

test('B1: investigations are neither saved nor loaded through a symlink (file or folder)', (t) => {
  const home = tempDir(t);
  const outside = tempDir(t);
  const id = 'key:AKIAIOSFODNN7EXAMPLE';
  const file = investigationFile(id, home);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(path.join(outside, 'inv.json'), '');
  symlinkSync(path.join(outside, 'inv.json'), file);
  assert.throws(() => saveInvestigation(id, INV, home), /symbolic link/);
  assert.equal(readFileSync(path.join(outside, 'inv.json'), 'utf8'), '');
  // a planted link to a valid investigation is not read
  writeFileSync(path.join(outside, 'inv.json'), JSON.stringify({ incident: id, investigation: INV }));
  assert.equal(loadInvestigation(id, home), undefined);
  // a symlinked investigations/ folder
  const home2 = tempDir(t);
  symlinkSync(outside, path.join(home2, 'investigations'));
  assert.throws(() => saveInvestigation(id, INV, home2), /symbolic link/);
  assert.equal(existsSync(path.join(outside, path.basename(file))), false);
  writeFileSync(path.join(outside, path.basename(file)), JSON.stringify({ incident: id, investigation: INV }));
  assert.equal(loadInvestigation(id, home2), undefined);
  // a real one round-trips, 0600 in 0700
  const home3 = tempDir(t);
  saveInvestigation(id, INV, home3);
  assert.ok(loadInvestigation(id, home3));
  const f3 = investigationFile(id, home3);
  assert.equal(lstatSync(f3).mode & 0o777, 0o600);
  assert.equal(lstatSync(path.dirname(f3)).mode & 0o777, 0o700);
});

// The inter-process lock (src/core/fileLock.ts) under contention and kills: concurrent processes
// never hold it at once, no increment is lost, a holder killed at a random instant (SIGKILL, also
// mid-way through taking or breaking the lock) never blocks the others for good, and a lock held
// from another host is never broken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { LockHeld, lockOrThrow, tryLock, withLock } from '../../src/core/fileLock';
import { tempDir } from './helpers';

const WORKER = path.join(__dirname, 'workers', 'lockWorker.ts');
const run = (lock: string, dir: string, rounds: number) => spawn(process.execPath, ['--import', 'tsx', WORKER, lock, dir, String(rounds)], { stdio: ['ignore', 'ignore', 'pipe'] });
const exited = (c: ReturnType<typeof run>): Promise<number | null> => new Promise((r) => (c.exitCode !== null || c.signalCode ? r(c.exitCode) : c.on('exit', (code) => r(code))));

test('lock: four processes, 50 rounds each: never two inside, no increment lost', async (t) => {
  const dir = tempDir(t);
  const lock = path.join(dir, 'x.lock');
  const kids = Array.from({ length: 4 }, () => run(lock, dir, 50));
  const codes = await Promise.all(kids.map(exited));
  assert.deepEqual(codes, [0, 0, 0, 0]);
  assert.equal(readFileSync(path.join(dir, 'counter'), 'utf8'), '200');
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('violation')), []);
  assert.equal(existsSync(lock), false, 'released at the end');
});

test('lock: eight processes racing for a lock that is free most of the time: never two inside (a released lock is never judged stale)', async (t) => {
  // Regression: a process that found the lock file gone judged it stale, and its breaker could
  // unlink the lock another process had just created, letting a third in beside it.
  const dir = tempDir(t);
  const lock = path.join(dir, 'x.lock');
  // Workers end at different times: each one that ends leaves owners that others read as dead.
  const rounds = [5, 10, 20, 30, 40, 60, 80, 100];
  const kids = rounds.map((n) => run(lock, dir, n));
  const codes = await Promise.all(kids.map(exited));
  assert.deepEqual(codes, rounds.map(() => 0));
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('violation')), []);
  assert.equal(readFileSync(path.join(dir, 'counter'), 'utf8'), String(rounds.reduce((a, b) => a + b)));
});

test('lock: holders killed at random instants never block the rest or let two in (fixed seed)', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 2, maxLength: 4 }), async (killAfterMs) => {
      const dir = tempDir(t);
      const lock = path.join(dir, 'x.lock');
      const victims = killAfterMs.map(() => run(lock, dir, 1000));
      const survivor = run(lock, dir, 30);
      await Promise.all(
        victims.map(async (v, i) => {
          await new Promise((r) => setTimeout(r, killAfterMs[i]));
          v.kill('SIGKILL');
          await exited(v);
        }),
      );
      assert.equal(await exited(survivor), 0);
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('violation')), []);
      // A survivor that finished leaves the lock free, or held by nobody alive.
      const { lock: again } = tryLock(lock, 'after');
      assert.ok(again, 'the lock can be taken once every holder is gone');
      again.release();
    }),
    { seed: 11, numRuns: 4 },
  );
});

test('lock: a stale lock (dead pid, this host) is broken; another host\'s is not', (t) => {
  const dir = tempDir(t);
  const lock = path.join(dir, 'x.lock');
  writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 17, host: hostname(), since: 'then', purpose: 'old' }));
  const l = lockOrThrow(lock, 'now');
  assert.match(readFileSync(lock, 'utf8'), new RegExp(`"pid":${process.pid}`));
  l.release();
  l.release();
  assert.equal(existsSync(lock), false);
  writeFileSync(lock, JSON.stringify({ pid: 1, host: 'elsewhere.example', since: 'then', purpose: 'a rotation of AKIA…' }));
  assert.throws(() => lockOrThrow(lock, 'now'), (e: unknown) => e instanceof LockHeld && /elsewhere\.example/.test(e.message) && e.message.includes(lock));
  assert.throws(() => withLock(lock, 'now', () => 1, 50), LockHeld);
});

test('lock: a live holder in this process is respected; release only removes our own lock', (t) => {
  const dir = tempDir(t);
  const lock = path.join(dir, 'x.lock');
  const a = lockOrThrow(lock, 'first');
  assert.throws(() => lockOrThrow(lock, 'second'), LockHeld);
  a.release();
  const b = lockOrThrow(lock, 'second');
  a.release(); // stale handle: must not remove b's lock
  assert.ok(existsSync(lock));
  b.release();
});

test('lock: a missing folder is created (0700); temporaries of killed processes are swept', (t) => {
  const dir = tempDir(t);
  const lock = path.join(dir, 'a', 'b', 'x.lock');
  const dead = path.join(path.dirname(lock), `.x.lock.${2 ** 22 + 19}.abcd1234.tmp`);
  const l = lockOrThrow(lock, 'nested');
  assert.equal(statSync(path.dirname(lock)).mode & 0o777, 0o700);
  l.release();
  writeFileSync(dead, '{}');
  const again = lockOrThrow(lock, 'sweep');
  assert.equal(existsSync(dead), false, 'a dead process\'s temporary is removed');
  again.release();
});

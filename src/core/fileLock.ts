import { existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { KeysentryError } from './types';

/**
 * An exclusive lock between processes on one machine (two windows, the editor and a terminal, a
 * double click), as a lock file beside what it protects.
 *
 * The lock file is created whole or not at all: its content (pid, host, time, purpose) is written
 * to a private temporary file first, then hard-linked to the lock's name, which fails when the name
 * exists. A lock whose owner is a process of this host that no longer runs is stale and is broken;
 * breaking is itself serialised by a second lock (`<lock>.break`), so two processes that find the
 * same stale lock cannot both take it. A lock held from another host (a shared home folder) is
 * never broken automatically: the error names the host, pid and file to remove.
 */
export interface LockOwner {
  pid: number;
  host: string;
  since: string;
  purpose: string;
  /** Tells apart two locks one process took in the same millisecond. */
  nonce?: string;
}

export class LockHeld extends KeysentryError {
  constructor(
    readonly lockFile: string,
    readonly owner: LockOwner | undefined,
  ) {
    super(
      owner
        ? `${owner.purpose || 'another Keysentry process'} holds ${lockFile} (pid ${owner.pid} on ${owner.host}, since ${owner.since})` +
          (owner.host === hostname() ? '' : `; if that process no longer runs, delete ${lockFile}`)
        : `${lockFile} is held by another Keysentry process`,
    );
    this.name = 'LockHeld';
  }
}

export interface Lock {
  readonly file: string;
  /** Removes the lock if it is still ours; safe to call twice. */
  release(): void;
}

function readOwner(file: string): LockOwner | undefined {
  try {
    // A lock file is written whole by createExclusive; anything else there (a FIFO, a device) is not read.
    const st = lstatSync(file);
    if (!st.isFile() || st.size > 4096) return undefined;
    const o = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.host === 'string') {
      return { pid: o.pid, host: o.host, since: String(o.since ?? ''), purpose: String(o.purpose ?? ''), ...(typeof o.nonce === 'string' ? { nonce: o.nonce } : {}) };
    }
  } catch {
    // unreadable or being replaced
  }
  return undefined;
}

/** True when `pid` is a running process of this machine (EPERM: it runs, as another user). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sameOwner = (a: LockOwner | undefined, b: LockOwner | undefined): boolean => !!a && !!b && a.pid === b.pid && a.host === b.host && a.since === b.since && a.nonce === b.nonce;

/** A lock with no readable owner is stale once it is this old (a writer never leaves it empty, so only a torn copy could). */
const UNREADABLE_STALE_MS = 10_000;

function isStale(file: string, owner: LockOwner | undefined): boolean {
  if (!owner) {
    try {
      return Date.now() - statSync(file).mtimeMs > UNREADABLE_STALE_MS;
    } catch {
      // Gone (its holder released it): nothing to break. Judging it stale here let a breaker
      // unlink the lock another process created between this check and the unlink.
      return false;
    }
  }
  return owner.host === hostname() && !isAlive(owner.pid);
}

/** Creates `file` with `content` only if it does not exist, atomically and whole. */
function createExclusive(file: string, content: string): boolean {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Removes a stale lock, serialised so that only one breaker acts on what it saw. */
function breakStale(file: string, seen: LockOwner | undefined): void {
  const breaker = `${file}.break`;
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), purpose: 'breaking a stale lock' };
  if (!createExclusive(breaker, JSON.stringify(me))) {
    // Another process is breaking it; a breaker that died mid-way is stale after a moment.
    const other = readOwner(breaker);
    if (isStale(breaker, other)) {
      const aside = `${breaker}.${process.pid}.${randomBytes(4).toString('hex')}`;
      try {
        renameSync(breaker, aside);
        if (!sameOwner(readOwner(aside), other)) renameSync(aside, breaker); // not the one we judged
        else rmSync(aside, { force: true });
      } catch {
        // someone else cleaned it up
      }
    }
    return;
  }
  try {
    const now = readOwner(file);
    if ((seen ? sameOwner(now, seen) : !now) && isStale(file, now)) unlinkSync(file);
  } catch {
    // already gone
  } finally {
    rmSync(breaker, { force: true });
  }
}

/** Takes the lock at once, or returns undefined with the live owner when another process holds it. */
export function tryLock(file: string, purpose: string): { lock?: Lock; owner?: LockOwner } {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  sweepStaleTemps(file);
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), purpose, nonce: randomBytes(6).toString('hex') };
  const content = JSON.stringify(me) + '\n';
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(file, content)) {
      let released = false;
      return {
        lock: {
          file,
          release: () => {
            if (released) return;
            released = true;
            if (sameOwner(readOwner(file), me)) rmSync(file, { force: true });
          },
        },
      };
    }
    const owner = readOwner(file);
    if (!isStale(file, owner)) {
      if (owner || existsSync(file)) return { owner };
      continue; // released between the attempt and the read: try again
    }
    breakStale(file, owner);
  }
  return { owner: readOwner(file) };
}

/** Takes the lock or throws LockHeld at once. */
export function lockOrThrow(file: string, purpose: string): Lock {
  const { lock, owner } = tryLock(file, purpose);
  if (!lock) throw new LockHeld(file, owner);
  return lock;
}

const pause = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/**
 * Takes the lock, waiting up to `waitMs` for a live holder to finish (for short critical
 * sections such as a read-merge-write of a state file). Throws LockHeld when the wait runs out.
 */
export function lockWaiting(file: string, purpose: string, waitMs = 5000): Lock {
  const deadline = Date.now() + waitMs;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    const { lock, owner } = tryLock(file, purpose);
    if (lock) return lock;
    if (Date.now() >= deadline) throw new LockHeld(file, owner);
    pause(delay + Math.floor(Math.random() * delay));
  }
}

/** Runs `fn` under the lock (waiting as lockWaiting does) and releases it however `fn` ends. */
export function withLock<T>(file: string, purpose: string, fn: () => T, waitMs?: number): T {
  const lock = lockWaiting(file, purpose, waitMs);
  try {
    return fn();
  } finally {
    lock.release();
  }
}

/**
 * Removes the temporary files a killed process left beside `file` (a SIGKILL between creating the
 * temporary file and the rename leaves it; it may hold what was being written): only those of
 * processes of this machine that no longer run. Lock files' own temporaries
 * (`.NAME.lock.PID.HEX.tmp`, src/core/fileLock.ts) are swept the same way.
 */
export function sweepStaleTemps(file: string): void {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(`.${base}.`) || !name.endsWith('.tmp')) continue;
    const m = /^(?:keysentry-|break\.)?(\d+)[.-][0-9a-f]+\.tmp$/.exec(name.slice(base.length + 2));
    if (m && !isAlive(Number(m[1]))) rmSync(path.join(dir, name), { force: true });
  }
}

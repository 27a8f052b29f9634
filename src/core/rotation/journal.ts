import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { sweepStaleTemps, writeFileAtomic } from '../atomicFile';
import { LockHeld, lockOrThrow, tryLock, type Lock } from '../fileLock';
import { keysentryHome } from '../home';
import { KeysentryError } from '../types';
import type { FileRecord, Journal, StepName } from './types';

/**
 * Journals live outside every repository (they name files and key ids, never secrets), in
 * `$KEYSENTRY_HOME/rotations` (default `~/.keysentry/rotations`), 0700. Beside each journal:
 * - `KEY.lock` while a process rotates, resumes or rolls back that key, and
 *   `user-ACCOUNT-NAME.lock` while it acts on that IAM user's keys (src/core/fileLock.ts);
 * - `KEY.undo` while the rotation is unfinished: the old secret XOR a random pad kept in the
 *   journal, so a rollback can put the old secret back where it was; neither file alone holds it.
 */
export function rotationsDir(): string {
  return path.join(keysentryHome(), 'rotations');
}

export const journalPath = (keyId: string): string => path.join(rotationsDir(), `${keyId}.json`);
const undoPath = (keyId: string): string => path.join(rotationsDir(), `${keyId}.undo`);

function ensureDir(): void {
  mkdirSync(rotationsDir(), { recursive: true, mode: 0o700 });
}

export function saveJournal(j: Journal): void {
  ensureDir();
  j.updatedAt = new Date().toISOString();
  writeFileAtomic(journalPath(j.keyId), JSON.stringify(j, null, 2) + '\n', 0o600);
}

export function loadJournal(keyId: string): Journal | undefined {
  const p = journalPath(keyId);
  if (!existsSync(p)) return undefined;
  try {
    const j = JSON.parse(readFileSync(p, 'utf8')) as Journal;
    if (j.version !== 2 || j.keyId !== keyId) throw new Error(j.version === (1 as number) ? 'written by an earlier Keysentry' : 'unexpected shape');
    return j;
  } catch (e) {
    throw new KeysentryError(`the rotation journal ${p} is unreadable (${(e as Error).message}); move it away to start over`);
  }
}

/** Every readable journal (any status). */
export function allJournals(): Journal[] {
  const dir = rotationsDir();
  if (!existsSync(dir)) return [];
  const out: Journal[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    try {
      const j = loadJournal(name.slice(0, -5));
      if (j) out.push(j);
    } catch {
      // an unreadable journal is reported when that key is rotated again
    }
  }
  return out;
}

/** Rotations that started and neither finished nor were rolled back. */
export function unfinishedJournals(): Journal[] {
  return allJournals().filter((j) => j.status === 'running');
}

export const stepState = (j: Journal, name: StepName): 'started' | 'done' | undefined => j.steps.find((s) => s.name === name)?.state;

export function markStep(j: Journal, name: StepName, state: 'started' | 'done', detail?: string): void {
  const existing = j.steps.find((s) => s.name === name);
  const entry = { name, state, at: new Date().toISOString(), ...(detail ? { detail } : {}) };
  if (existing) Object.assign(existing, entry);
  else j.steps.push(entry);
  saveJournal(j);
}

/** The lock of one key's rotation (rotate, resume, rollback): a second process gets LockHeld at once. */
export function lockKey(keyId: string, purpose: string): Lock {
  ensureDir();
  const file = path.join(rotationsDir(), `${keyId}.lock`);
  const lock = lockOrThrow(file, purpose);
  for (const f of [file, journalPath(keyId), undoPath(keyId)]) sweepStaleTemps(f);
  return lock;
}

/** Throws LockHeld when another process holds the key now; takes nothing (for a plan). */
export function probeKeyLock(keyId: string, purpose: string): void {
  ensureDir();
  const file = path.join(rotationsDir(), `${keyId}.lock`);
  const { lock, owner } = tryLock(file, purpose);
  if (!lock) throw new LockHeld(file, owner);
  lock.release();
}

/** The lock of one IAM user's keys: two rotations of different keys of one user never interleave. */
export function lockUser(account: string, userName: string, purpose: string): Lock {
  ensureDir();
  const safe = `${account}-${userName}`.replace(/[^A-Za-z0-9_.@=,+-]/g, '_');
  const file = path.join(rotationsDir(), `user-${safe}.lock`);
  const lock = lockOrThrow(file, purpose);
  sweepStaleTemps(file);
  return lock;
}

type UndoStore = Record<string, string>;

function readUndo(keyId: string): UndoStore {
  try {
    return JSON.parse(readFileSync(undoPath(keyId), 'utf8')) as UndoStore;
  } catch {
    return {};
  }
}

const xor = (a: Buffer, b: Buffer): Buffer => Buffer.from(a.map((x, i) => x ^ (b[i] ?? 0)));

/** Keeps the old secret of `rec`'s file for a rollback: a pad in the journal record, the secret XOR pad in KEY.undo. Journal it after. */
export function keepOldSecret(j: Journal, rec: FileRecord, secret: string): void {
  ensureDir();
  const plain = Buffer.from(secret, 'utf8');
  const pad = randomBytes(plain.length);
  const store = readUndo(j.keyId);
  store[rec.target] = xor(plain, pad).toString('base64');
  writeFileAtomic(undoPath(j.keyId), JSON.stringify(store) + '\n', 0o600);
  rec.undoPad = pad.toString('base64');
}

/** The old secret of `rec`'s file, if both halves are still there. */
export function oldSecretOf(j: Journal, rec: FileRecord): string | undefined {
  const half = readUndo(j.keyId)[rec.target];
  if (!half || !rec.undoPad) return undefined;
  return xor(Buffer.from(half, 'base64'), Buffer.from(rec.undoPad, 'base64')).toString('utf8');
}

/** Forgets the old secrets: the rotation ended (done or rolled back). Journal it after. */
export function dropUndo(j: Journal): void {
  rmSync(undoPath(j.keyId), { force: true });
  for (const f of j.files) delete f.undoPad;
}

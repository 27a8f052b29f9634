import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomicFile';
import { keysentryHome } from '../home';
import { KeysentryError } from '../types';
import type { Journal, StepName } from './types';

/**
 * Journals live outside every repository (they name files and key ids, never secrets), in
 * `$KEYSENTRY_HOME/rotations` (default `~/.keysentry/rotations`), with file backups beside them.
 */
export function rotationsDir(): string {
  return path.join(keysentryHome(), 'rotations');
}

export const journalPath = (keyId: string): string => path.join(rotationsDir(), `${keyId}.json`);

export function saveJournal(j: Journal): void {
  mkdirSync(rotationsDir(), { recursive: true, mode: 0o700 });
  j.updatedAt = new Date().toISOString();
  writeFileAtomic(journalPath(j.keyId), JSON.stringify(j, null, 2) + '\n', 0o600);
}

export function loadJournal(keyId: string): Journal | undefined {
  const p = journalPath(keyId);
  if (!existsSync(p)) return undefined;
  try {
    const j = JSON.parse(readFileSync(p, 'utf8')) as Journal;
    if (j.version !== 1 || j.keyId !== keyId) throw new Error('unexpected shape');
    return j;
  } catch (e) {
    throw new KeysentryError(`the rotation journal ${p} is unreadable (${(e as Error).message}); move it away to start over`);
  }
}

/** Rotations that started and neither finished nor were rolled back. */
export function unfinishedJournals(): Journal[] {
  const dir = rotationsDir();
  if (!existsSync(dir)) return [];
  const out: Journal[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    try {
      const j = loadJournal(name.slice(0, -5));
      if (j?.status === 'running') out.push(j);
    } catch {
      // an unreadable journal is reported when that key is rotated again
    }
  }
  return out;
}

export const stepState = (j: Journal, name: StepName): 'started' | 'done' | undefined => j.steps.find((s) => s.name === name)?.state;

export function markStep(j: Journal, name: StepName, state: 'started' | 'done', detail?: string): void {
  const existing = j.steps.find((s) => s.name === name);
  const entry = { name, state, at: new Date().toISOString(), ...(detail ? { detail } : {}) };
  if (existing) Object.assign(existing, entry);
  else j.steps.push(entry);
  saveJournal(j);
}

/** Copies a file into the journal's backup folder (0600) before it is rewritten. */
export function backupFile(j: Journal, file: string): string {
  const dir = path.join(rotationsDir(), `${j.keyId}.backups`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const backup = path.join(dir, `${j.files.length}-${path.basename(file)}`);
  copyFileSync(file, backup);
  chmodSync(backup, 0o600);
  return backup;
}

export const fileMode = (file: string): number => statSync(file).mode & 0o7777;

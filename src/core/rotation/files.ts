import { readFileSync, realpathSync, statSync } from 'node:fs';
import { readConfigFile } from '../detect/configFiles';
import { writeProblem, writeTarget } from '../atomicFile';
import { locatePairs, MAX_FILE_BYTES } from './locate';
import type { FileCheck } from './types';

/** The text of a file to rewrite, or why it cannot be read as one (too large, not UTF-8, not a regular file). */
export function readTextFile(file: string): { text?: string; problem?: string } {
  let st;
  try {
    st = statSync(file);
  } catch {
    return { problem: `${file} does not exist` };
  }
  if (!st.isFile()) return { problem: `${file} is not a regular file` };
  if (st.size > MAX_FILE_BYTES) return { problem: `${file} is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB` };
  const buf = readFileSync(file);
  const text = buf.toString('utf8');
  // Only text that encodes back to the same bytes can be rewritten without changing other bytes.
  if (!Buffer.from(text, 'utf8').equals(buf)) return { problem: `${file} is not UTF-8 text` };
  return { text };
}

/**
 * Which of the listed files can take the new key, decided before anything changes: each must be
 * a writable regular file (through its symlink) whose owner, group and mode a rewrite keeps, and
 * must hold the old id paired by structure with its secret.
 */
export function inspectFiles(keyId: string, files: string[]): FileCheck[] {
  const out: FileCheck[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    let target: string;
    try {
      target = writeTarget(file);
    } catch (e) {
      out.push({ path: file, target: file, ok: false, reason: (e as Error).message, places: [] });
      continue;
    }
    if (seen.has(target)) continue; // the same file twice (a symlink and its target)
    seen.add(target);
    const problem = writeProblem(file);
    if (problem) {
      out.push({ path: file, target, ok: false, reason: problem, places: [] });
      continue;
    }
    const { text, problem: unreadable } = readTextFile(target);
    if (text === undefined) {
      out.push({ path: file, target, ok: false, reason: unreadable, places: [] });
      continue;
    }
    const { pairs, problems } = locatePairs(text, keyId, target);
    // The same test write-files applies: a file the writer would refuse must not pass the plan.
    if (!pairs.length) out.push({ path: file, target, ok: false, reason: `no secret is paired with ${keyId} in it: ${problems.join('; ')}`, places: [] });
    else if (new Set(pairs.map((p) => p.secretValue)).size !== 1) out.push({ path: file, target, ok: false, reason: `${keyId} has different secrets beside it in different places`, places: [] });
    else out.push({ path: file, target, ok: true, places: pairs.map((p) => p.place) });
  }
  return out;
}

/**
 * Whether the shared credentials file mentions `keyId`: read through its symlink (dotfile
 * managers link it) but only when the target is a regular file of at most 1 MB, so a FIFO or a
 * device there can never hang a rotation.
 */
export function sharedCredentialsHold(file: string, keyId: string): boolean {
  let target: string;
  try {
    target = realpathSync(file);
  } catch {
    return false;
  }
  const read = readConfigFile(target);
  return read.status === 'ok' && read.text.includes(keyId);
}

/**
 * Investigations kept beside the incidents (one 0600 file per incident under
 * `$KEYSENTRY_HOME/investigations/`, written atomically): the incident's Investigation section
 * and its report read them. Everything stored passes through redactDeep (no secret), and a file
 * read back is bounded, must be a regular file, and is checked before use.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { keysentryHome } from '../home';
import { readPrivateFile, writePrivateFile } from '../privateFile';
import { redactDeep } from '../incidents/book';
import type { Investigation } from './investigation';

const MAX_BYTES = 16 * 1024 * 1024;

export const investigationFile = (incidentId: string, home = keysentryHome()): string =>
  path.join(home, 'investigations', `${createHash('sha256').update(incidentId).digest('hex').slice(0, 32)}.json`);

/** Written 0600 under a 0700 folder, never through a symbolic link (core/privateFile). */
export function saveInvestigation(incidentId: string, inv: Investigation, home = keysentryHome()): void {
  writePrivateFile(investigationFile(incidentId, home), JSON.stringify({ incident: incidentId, investigation: redactDeep(inv) }) + '\n', home);
}

/** The stored investigation of an incident, or undefined (none, unreadable, or not one). */
export function loadInvestigation(incidentId: string, home = keysentryHome()): Investigation | undefined {
  const file = investigationFile(incidentId, home);
  try {
    const text = readPrivateFile(file, MAX_BYTES, home); // no symlink (file or folder), regular, bounded
    if (text === undefined) return undefined;
    const data = JSON.parse(text) as { incident?: unknown; investigation?: Partial<Investigation> };
    const inv = data.investigation;
    if (data.incident !== incidentId || !inv || inv.version !== 1 || !inv.summary || !Array.isArray(inv.resources) || !Array.isArray(inv.timeline) || !inv.exposure) return undefined;
    return inv as Investigation;
  } catch {
    return undefined;
  }
}

import { KeysentryError, type Finding } from '../types';

/**
 * `.keysentry-baseline.json`: findings the team has accepted, keyed by the secret's fingerprint.
 * No line numbers, so edits around a baselined secret do not churn the file.
 */
export interface BaselineEntry {
  fingerprint: string;
  kind: string;
  /** Where it was first seen: informational only, never used to match. */
  file?: string;
  reason?: string;
  added?: string;
}

export interface Baseline {
  version: 1;
  entries: BaselineEntry[];
}

export const BASELINE_FILE = '.keysentry-baseline.json';

export function parseBaseline(text: string, fileName: string): Baseline {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    // JSON.parse's message quotes the text around the error (a secret, pasted by mistake): only
    // the position is taken from it, never the excerpt.
    const at = /position (\d+)/.exec((e as Error).message ?? '');
    let where = '';
    if (at) {
      const pos = Number(at[1]);
      const before = text.slice(0, pos);
      const line = before.split('\n').length;
      where = ` at line ${line}, column ${pos - before.lastIndexOf('\n')}`;
    }
    throw new KeysentryError(`${fileName}: not valid JSON${where}. Fix it or delete it to start a new baseline.`, fileName);
  }
  const entries = (data as { entries?: unknown })?.entries;
  if (typeof data !== 'object' || data === null || (data as { version?: unknown }).version !== 1 || !Array.isArray(entries)) {
    throw new KeysentryError(`${fileName}: expected {"version": 1, "entries": [...]}.`, fileName);
  }
  entries.forEach((entry: unknown, i: number) => {
    const fp = (entry as { fingerprint?: unknown })?.fingerprint;
    if (typeof fp !== 'string' || !/^[0-9a-f]{64}$/.test(fp)) {
      throw new KeysentryError(`${fileName}: entry ${i + 1} has no valid "fingerprint" (64 hex characters).`, fileName);
    }
  });
  return { version: 1, entries: entries as BaselineEntry[] };
}

export function baselineFingerprints(baseline: Baseline | undefined): Set<string> {
  return new Set(baseline?.entries.map((e) => e.fingerprint) ?? []);
}

/** Adds findings to a baseline (idempotent) and returns the new file text, stable-sorted. */
export function addToBaseline(baseline: Baseline | undefined, findings: Finding[], reason?: string): string {
  const entries = new Map((baseline?.entries ?? []).map((e) => [e.fingerprint, e]));
  for (const f of findings) {
    if (!entries.has(f.fingerprint)) {
      entries.set(f.fingerprint, { fingerprint: f.fingerprint, kind: f.kind, file: f.file, ...(reason ? { reason } : {}), added: new Date().toISOString().slice(0, 10) });
    }
  }
  const sorted = [...entries.values()].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint));
  return JSON.stringify({ version: 1, entries: sorted }, null, 2) + '\n';
}

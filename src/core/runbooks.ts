import { KeysentryError } from './types';

export interface RunbookStep {
  id: string;
  what: string;
  why: string;
}
export interface Runbook {
  title: string;
  summary: string;
  phases: Array<{ name: string; steps: RunbookStep[] }>;
}

/** Reads the runbook data file, following `sameAs` links, and checks its shape. */
export function parseRunbooks(text: string): Record<string, Runbook> {
  const data = JSON.parse(text) as { version?: number; runbooks?: Record<string, Runbook | { sameAs: string }> };
  if (data.version !== 1 || !data.runbooks) throw new KeysentryError('runbook data: expected {"version": 1, "runbooks": {...}}');
  const out: Record<string, Runbook> = {};
  for (const [id, value] of Object.entries(data.runbooks)) {
    const rb = 'sameAs' in value ? data.runbooks[value.sameAs] : value;
    if (!rb || 'sameAs' in rb || !Array.isArray(rb.phases)) throw new KeysentryError(`runbook data: "${id}" is incomplete`);
    out[id] = rb;
  }
  return out;
}

import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomicFile';
import { redact } from '../mask';
import { KeysentryError } from '../types';
import { INCIDENT_TYPES, SEVERITIES, STATUSES, type CallRecord, type Incident, type IncidentDraft, type IncidentStatus, type TimelineEntry } from './types';

const FORMAT = 'keysentry-incidents';

/** Checks one incident read from a file someone may have edited; returns a reason when unusable. */
function invalid(x: unknown): string | undefined {
  const o = x as Partial<Incident> | null;
  if (!o || typeof o !== 'object') return 'not an object';
  if (typeof o.id !== 'string' || !o.id || o.id.length > 300) return 'id';
  if (!INCIDENT_TYPES.includes(o.type as never)) return `type "${String(o.type)}"`;
  if (!SEVERITIES.includes(o.severity as never)) return `severity "${String(o.severity)}"`;
  if (!STATUSES.includes(o.status as never)) return `status "${String(o.status)}"`;
  if (typeof o.title !== 'string' || typeof o.summary !== 'string') return 'title/summary';
  if (!Array.isArray(o.resources) || !o.resources.every((r) => r && typeof r.id === 'string' && typeof r.kind === 'string')) return 'resources';
  if (!Array.isArray(o.facts) || !o.facts.every((f) => Array.isArray(f) && f.length === 2 && f.every((v) => typeof v === 'string'))) return 'facts';
  if (!Array.isArray(o.timeline) || !o.timeline.every((t) => t && typeof t.at === 'string' && typeof t.text === 'string' && typeof t.kind === 'string')) return 'timeline';
  if (!o.steps || typeof o.steps !== 'object') return 'steps';
  if (typeof o.createdAt !== 'string' || typeof o.updatedAt !== 'string') return 'dates';
  return undefined;
}

/** Parses an export (or the store file); throws a KeysentryError that says what is wrong. */
export function parseIncidents(text: string, what = 'the incidents file'): Incident[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new KeysentryError(`${what} is not valid JSON (${(e as Error).message})`);
  }
  const d = data as { format?: string; version?: number; incidents?: unknown[] };
  if (d?.format !== FORMAT || d.version !== 1 || !Array.isArray(d.incidents)) throw new KeysentryError(`${what} is not a Keysentry incidents export (expected {"format": "${FORMAT}", "version": 1, "incidents": [...]})`);
  return d.incidents.map((x, i) => {
    const why = invalid(x);
    if (why) throw new KeysentryError(`${what}: incident ${i + 1} has an invalid ${why}; nothing was imported`);
    return x as Incident;
  });
}

export const serializeIncidents = (incidents: Incident[]): string => JSON.stringify({ format: FORMAT, version: 1, incidents }, null, 2) + '\n';

const entryKey = (t: TimelineEntry): string => `${t.at}\u0000${t.kind}\u0000${t.text}`;

/**
 * Every incident, with its checklist and timeline, in one JSON file written atomically after
 * each change. Audits merge into it by incident id, so a problem found again keeps its history.
 */
export class IncidentBook {
  private list: Incident[] = [];
  /** Set when the file on disk could not be read and was moved aside. */
  readonly loadProblem: string | undefined;

  constructor(private file?: string) {
    if (!file || !existsSync(file)) return;
    try {
      this.list = parseIncidents(readFileSync(file, 'utf8'), file);
    } catch (e) {
      // Never overwrite what we cannot read: keep it beside the new file, or, when it cannot be
      // moved either, keep this session's incidents in memory only.
      const aside = `${file}.unreadable-${Date.now()}`;
      try {
        renameSync(file, aside);
        this.loadProblem = `${(e as Error).message}. It was kept as ${aside}; starting with no incidents.`;
      } catch (moveError) {
        this.file = undefined;
        this.loadProblem = `${(e as Error).message}, and it could not be moved aside (${(moveError as Error).message}). Incidents of this session are not saved until it is fixed or removed.`;
      }
    }
  }

  get incidents(): readonly Incident[] {
    return this.list;
  }

  get(id: string): Incident | undefined {
    return this.list.find((i) => i.id === id);
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    writeFileAtomic(this.file, serializeIncidents(this.list), 0o600);
  }

  private touch(i: Incident, entry: Omit<TimelineEntry, 'at'> & { at?: string }): void {
    const at = entry.at ?? new Date().toISOString();
    i.timeline.push({ ...entry, at, text: redact(entry.text) });
    i.updatedAt = at;
  }

  /**
   * Folds an audit into the book: new problems open incidents, known ones are refreshed (and
   * reopened when they had been resolved), and open ones the audit covered but no longer
   * finds are resolved, each with a timeline entry. Returns the ids of new incidents.
   */
  mergeAudit(drafts: IncidentDraft[], meta: { account: string; profile?: string; actor: string; covers: (i: Incident) => boolean }): string[] {
    const now = new Date().toISOString();
    const added: string[] = [];
    const seen = new Set<string>();
    for (const d of drafts) {
      seen.add(d.id);
      const existing = this.get(d.id);
      if (existing) {
        Object.assign(existing, { severity: d.severity, title: d.title, summary: d.summary, resources: d.resources, facts: d.facts, profile: meta.profile ?? existing.profile });
        if (existing.status === 'resolved') {
          existing.status = 'open';
          this.touch(existing, { at: now, actor: meta.actor, kind: 'detected', text: 'Found again by an audit: reopened.' });
        }
        continue;
      }
      const inc: Incident = { ...d, source: 'audit', account: meta.account, profile: meta.profile, status: 'open', createdAt: now, updatedAt: now, steps: {}, timeline: [] };
      this.touch(inc, { at: now, actor: meta.actor, kind: 'detected', text: `Detected by an audit of account ${meta.account}: ${d.title}` });
      this.list.push(inc);
      added.push(d.id);
    }
    for (const i of this.list) {
      if (i.source !== 'audit' || i.account !== meta.account || seen.has(i.id) || i.status === 'resolved' || !meta.covers(i)) continue;
      i.status = 'resolved';
      this.touch(i, { at: now, actor: meta.actor, kind: 'status', text: 'No longer found by an audit: marked resolved.' });
    }
    this.save();
    return added;
  }

  /** Adds an incident that did not come from an audit (a notice, or opened by hand). */
  add(incident: Omit<Incident, 'status' | 'createdAt' | 'updatedAt' | 'steps' | 'timeline'>, actor: string, text: string): Incident {
    const existing = this.get(incident.id);
    if (existing) return existing;
    const now = new Date().toISOString();
    const inc: Incident = { ...incident, status: 'open', createdAt: now, updatedAt: now, steps: {}, timeline: [] };
    this.touch(inc, { at: now, actor, kind: incident.source === 'notice' ? 'imported' : 'note', text });
    this.list.push(inc);
    this.save();
    return inc;
  }

  private must(id: string): Incident {
    const i = this.get(id);
    if (!i) throw new KeysentryError(`no incident "${id}"`);
    return i;
  }

  setStatus(id: string, status: IncidentStatus, actor: string, why?: string): Incident {
    const i = this.must(id);
    if (i.status === status) return i;
    const was = i.status;
    i.status = status;
    this.touch(i, { actor, kind: 'status', text: `Status ${was} → ${status}${why ? `: ${why}` : ''}` });
    this.save();
    return i;
  }

  /**
   * Ticks or unticks a checklist step. When every step of the Contain phase (`containKeys`) is
   * done, an open incident becomes contained.
   */
  setStep(id: string, key: string, done: boolean, actor: string, containKeys: string[] = [], label = key): Incident {
    const i = this.must(id);
    const at = new Date().toISOString();
    if ((i.steps[key]?.done ?? false) === done) return i;
    i.steps[key] = { done, at, by: actor };
    this.touch(i, { at, actor, kind: 'step', text: `${done ? 'Done' : 'Not done'}: ${label}` });
    if (done && i.status === 'open' && containKeys.length && containKeys.every((k) => i.steps[k]?.done)) {
      i.status = 'contained';
      this.touch(i, { at, actor, kind: 'status', text: 'Status open → contained: every Contain step is done.' });
    }
    this.save();
    return i;
  }

  record(id: string, entry: Omit<TimelineEntry, 'at'>): Incident {
    const i = this.must(id);
    this.touch(i, entry);
    this.save();
    return i;
  }

  /**
   * Records a containment action's outcome: every call it made goes to the timeline; on
   * success the step it belongs to is ticked. A failure changes no step.
   */
  recordAction(id: string, title: string, result: { ok: boolean; calls: CallRecord[]; error?: string }, actor: string, step?: { key: string; label: string; containKeys: string[] }): Incident {
    const i = this.must(id);
    this.touch(i, result.ok ? { actor, kind: 'action', text: `${title}: done`, calls: result.calls } : { actor, kind: 'error', text: `${title}: ${result.error ?? 'failed'}`, calls: result.calls });
    this.save();
    return result.ok && step ? this.setStep(id, step.key, true, actor, step.containKeys, step.label) : i;
  }

  remove(id: string): void {
    this.list = this.list.filter((i) => i.id !== id);
    this.save();
  }

  export(ids?: string[]): string {
    return serializeIncidents(ids ? this.list.filter((i) => ids.includes(i.id)) : this.list);
  }

  /**
   * Imports an export. Nothing is overwritten: timelines are merged entry by entry, each step
   * keeps its latest state and the most recently updated side decides the status.
   */
  import(text: string, actor: string): { added: number; merged: number } {
    const incoming = parseIncidents(text, 'the file');
    let added = 0;
    let merged = 0;
    for (const inc of incoming) {
      const mine = this.get(inc.id);
      if (!mine) {
        const copy: Incident = JSON.parse(JSON.stringify(inc));
        this.touch(copy, { actor, kind: 'imported', text: 'Imported from an export.' });
        this.list.push(copy);
        added++;
        continue;
      }
      const keys = new Set(mine.timeline.map(entryKey));
      for (const t of inc.timeline) if (!keys.has(entryKey(t))) mine.timeline.push(t);
      mine.timeline.sort((a, b) => a.at.localeCompare(b.at));
      for (const [k, s] of Object.entries(inc.steps)) if (!mine.steps[k] || mine.steps[k].at < s.at) mine.steps[k] = s;
      if (inc.updatedAt > mine.updatedAt) {
        mine.status = inc.status;
        mine.updatedAt = inc.updatedAt;
      }
      merged++;
    }
    this.save();
    return { added, merged };
  }
}

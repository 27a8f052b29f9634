import { mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomicFile';
import { withLock } from '../fileLock';
import { redact } from '../mask';
import { KeysentryError } from '../types';
import { INCIDENT_TYPES, SEVERITIES, type Severity, STATUSES, type CallRecord, type Incident, type IncidentDraft, type IncidentStatus, type TimelineEntry } from './types';

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

/** The more severe of two severities. */
export const worse = (a: Severity, b: Severity): Severity => (SEVERITIES.indexOf(a) <= SEVERITIES.indexOf(b) ? a : b);

const entryKey = (t: TimelineEntry): string => `${t.at}\u0000${t.kind}\u0000${t.text}`;

/** Every string in `x` (an incident, a draft) passed through redact(): nothing stored holds a secret. */
export function redactDeep<T>(x: T): T {
  if (typeof x === 'string') return redact(x) as T;
  if (Array.isArray(x)) return x.map(redactDeep) as T;
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, redactDeep(v)])) as T;
  return x;
}

/** How long a write waits for another Keysentry process (a window, the CLI) to finish its own. */
const LOCK_WAIT_MS = 15_000;

/**
 * Every incident, with its checklist and timeline, in one JSON file written atomically after
 * each change. Audits merge into it by incident id, so a problem found again keeps its history.
 *
 * Several processes write the file (two windows, the editor and the CLI). Each change is a
 * transaction: under an exclusive lock (core/fileLock) the file is read again, the change is
 * applied to what is on disk now, and the result is written atomically (0600). So nothing
 * another process acknowledged is lost: its timeline entries, checklist ticks and status are
 * in what we read, deletions stay deleted (we never write back a list read before them), and
 * each tick or status keeps its latest change. This replays the operation on the latest
 * version rather than merging two copies after the fact, which is the three-way merge with
 * the base always equal to the latest version.
 */
export class IncidentBook {
  private list: Incident[] = [];
  /** Set when the file on disk could not be read and was moved aside. */
  loadProblem: string | undefined;

  constructor(private file?: string) {
    this.load();
  }

  /** Reads the file again (another process may have changed it); false when it was unreadable. */
  reload(): boolean {
    return this.load();
  }

  private load(): boolean {
    if (!this.file) return true;
    let text: string;
    try {
      // A FIFO or a device there would block or never end: only a regular file (through a symlink) is read.
      const st = statSync(this.file);
      if (!st.isFile()) throw new Error('not a regular file');
      if (st.size > 64 * 1024 * 1024) throw new Error(`${st.size} bytes is too large`);
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.list = [];
        return true;
      }
      this.loadProblem = `${this.file} cannot be read (${(e as Error).message})`;
      return false;
    }
    try {
      this.list = parseIncidents(text, this.file);
      return true;
    } catch (e) {
      // Never overwrite what we cannot read: keep it beside the new file, or, when it cannot be
      // moved either, keep this session's incidents in memory only.
      const aside = `${this.file}.unreadable-${Date.now()}`;
      try {
        renameSync(this.file, aside);
        this.loadProblem = `${(e as Error).message}. It was kept as ${aside}; ${this.list.length ? 'continuing with the incidents this window had read' : 'starting with no incidents'}.`;
      } catch (moveError) {
        this.file = undefined;
        this.loadProblem = `${(e as Error).message}, and it could not be moved aside (${(moveError as Error).message}). Incidents of this session are not saved until it is fixed or removed.`;
      }
      return false;
    }
  }

  get incidents(): readonly Incident[] {
    return this.list;
  }

  get(id: string): Incident | undefined {
    return this.list.find((i) => i.id === id);
  }

  /** Runs one change as a transaction on the latest version of the file (see the class comment). */
  private mutate<T>(change: () => T): T {
    const file = this.file;
    if (!file) return change();
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    return withLock(
      `${file}.lock`,
      'updating the incidents file',
      () => {
        this.load();
        const out = change();
        if (this.file) writeFileAtomic(this.file, serializeIncidents(this.list), 0o600);
        return out;
      },
      LOCK_WAIT_MS,
    );
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
   *
   * A draft whose severity depends on a fact the audit could not read (`uncertain`) keeps the
   * incident's last known severity (never lower than what was read); a new one takes the worst
   * case. `covers` says which incidents the audit could see at all: an incident whose facts it
   * could not read is never resolved by it.
   */
  mergeAudit(drafts: IncidentDraft[], meta: { account: string; profile?: string; actor: string; covers: (i: Incident) => boolean }): string[] {
    return this.mutate(() => {
      const now = new Date().toISOString();
      const added: string[] = [];
      const seen = new Set<string>();
      for (const raw of drafts) {
        const { uncertain, ...d } = redactDeep(raw);
        seen.add(d.id);
        const existing = this.get(d.id);
        if (existing) {
          const severity = uncertain ? worse(d.severity, existing.severity) : d.severity;
          Object.assign(existing, { severity, title: d.title, summary: d.summary, resources: d.resources, facts: d.facts, profile: meta.profile ?? existing.profile });
          if (existing.status === 'resolved') {
            existing.status = 'open';
            this.touch(existing, { at: now, actor: meta.actor, kind: 'detected', text: 'Found again by an audit: reopened.' });
          }
          continue;
        }
        const inc: Incident = { ...d, severity: uncertain ? worse(d.severity, uncertain.worst) : d.severity, source: 'audit', account: meta.account, profile: meta.profile, status: 'open', createdAt: now, updatedAt: now, steps: {}, timeline: [] };
        this.touch(inc, { at: now, actor: meta.actor, kind: 'detected', text: `Detected by an audit of account ${meta.account}: ${d.title}` });
        this.list.push(inc);
        added.push(d.id);
      }
      for (const i of this.list) {
        if (i.source !== 'audit' || i.account !== meta.account || seen.has(i.id) || i.status === 'resolved' || !meta.covers(i)) continue;
        i.status = 'resolved';
        this.touch(i, { at: now, actor: meta.actor, kind: 'status', text: 'No longer found by an audit: marked resolved.' });
      }
      return added;
    });
  }

  /** Adds an incident that did not come from an audit (a notice, or opened by hand). */
  add(incident: Omit<Incident, 'status' | 'createdAt' | 'updatedAt' | 'steps' | 'timeline'>, actor: string, text: string): Incident {
    return this.mutate(() => {
      const existing = this.get(incident.id);
      if (existing) return existing;
      const now = new Date().toISOString();
      const inc: Incident = { ...redactDeep(incident), status: 'open', createdAt: now, updatedAt: now, steps: {}, timeline: [] };
      this.touch(inc, { at: now, actor, kind: incident.source === 'notice' ? 'imported' : 'note', text });
      this.list.push(inc);
      return inc;
    });
  }

  private must(id: string): Incident {
    const i = this.get(id);
    if (!i) throw new KeysentryError(`no incident "${id}" (another window may have deleted it)`);
    return i;
  }

  setStatus(id: string, status: IncidentStatus, actor: string, why?: string): Incident {
    return this.mutate(() => {
      const i = this.must(id);
      if (i.status === status) return i;
      const was = i.status;
      i.status = status;
      this.touch(i, { actor, kind: 'status', text: `Status ${was} → ${status}${why ? `: ${why}` : ''}` });
      return i;
    });
  }

  /**
   * Ticks or unticks a checklist step. When every step of the Contain phase (`containKeys`) is
   * done, an open incident becomes contained.
   */
  setStep(id: string, key: string, done: boolean, actor: string, containKeys: string[] = [], label = key): Incident {
    return this.mutate(() => this.applyStep(id, key, done, actor, containKeys, label));
  }

  private applyStep(id: string, key: string, done: boolean, actor: string, containKeys: string[], label: string): Incident {
    const i = this.must(id);
    const at = new Date().toISOString();
    if ((i.steps[key]?.done ?? false) === done) return i;
    i.steps[key] = { done, at, by: actor };
    this.touch(i, { at, actor, kind: 'step', text: `${done ? 'Done' : 'Not done'}: ${label}` });
    if (done && i.status === 'open' && containKeys.length && containKeys.every((k) => i.steps[k]?.done)) {
      i.status = 'contained';
      this.touch(i, { at, actor, kind: 'status', text: 'Status open → contained: every Contain step is done.' });
    }
    return i;
  }

  record(id: string, entry: Omit<TimelineEntry, 'at'>): Incident {
    return this.mutate(() => {
      const i = this.must(id);
      this.touch(i, entry);
      return i;
    });
  }

  /**
   * Records a containment action's outcome: every call it made goes to the timeline; on
   * success the step it belongs to is ticked. A failure changes no step. One transaction.
   */
  recordAction(id: string, title: string, result: { ok: boolean; calls: CallRecord[]; error?: string }, actor: string, step?: { key: string; label: string; containKeys: string[] }): Incident {
    return this.mutate(() => {
      const i = this.must(id);
      const calls = redactDeep(result.calls);
      this.touch(i, result.ok ? { actor, kind: 'action', text: `${title}: done`, calls } : { actor, kind: 'error', text: `${title}: ${result.error ?? 'failed'}`, calls });
      return result.ok && step ? this.applyStep(id, step.key, true, actor, step.containKeys, step.label) : i;
    });
  }

  remove(id: string): void {
    this.mutate(() => {
      this.list = this.list.filter((i) => i.id !== id);
    });
  }

  export(ids?: string[]): string {
    return serializeIncidents(ids ? this.list.filter((i) => ids.includes(i.id)) : this.list);
  }

  /**
   * Imports an export. Nothing is overwritten: timelines are merged entry by entry, each step
   * keeps its latest state and the most recently updated side decides the status.
   */
  import(text: string, actor: string): { added: number; merged: number } {
    const incoming = redactDeep(parseIncidents(text, 'the file'));
    return this.mutate(() => this.importParsed(incoming, actor));
  }

  private importParsed(incoming: Incident[], actor: string): { added: number; merged: number } {
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
    return { added, merged };
  }
}

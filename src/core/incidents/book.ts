import { closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { withLock } from '../fileLock';
import { redact } from '../mask';
import { KeysentryError } from '../types';
import { INCIDENT_TYPES, SEVERITIES, type Severity, STATUSES, type CallRecord, type Evidence, type EvidenceSource, type Incident, type IncidentDraft, type IncidentStatus, type IncidentType, type ResourceRef, type TimelineEntry } from './types';

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
  if (o.aliases !== undefined && (!Array.isArray(o.aliases) || !o.aliases.every((a) => typeof a === 'string' && a.length <= 300))) return 'aliases';
  if (
    o.evidence !== undefined &&
    (!Array.isArray(o.evidence) ||
      !o.evidence.every(
        (e) =>
          e &&
          typeof e.id === 'string' &&
          typeof e.label === 'string' &&
          SEVERITIES.includes(e.severity) &&
          Array.isArray(e.resources) &&
          e.resources.every((r) => r && typeof r.id === 'string' && typeof r.kind === 'string') &&
          Array.isArray(e.facts) &&
          e.facts.every((f) => Array.isArray(f) && f.length === 2 && f.every((v) => typeof v === 'string')) &&
          typeof e.current === 'boolean',
      ))
  )
    return 'evidence';
  return undefined;
}

/** Parses an export (or the store file); throws a KeysentryError that says what is wrong. */
export function parseIncidents(text: string, what = 'the incidents file'): Incident[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    // Only the position: V8's message quotes the text around it, which may be a secret.
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    const line = at === undefined ? undefined : text.slice(0, Number(at)).split('\n').length;
    throw new KeysentryError(`${what} is not valid JSON${line === undefined ? '' : ` (line ${line})`}`);
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

// ------------------------------------------------------------------------------- evidence

/** Which incident type wins when evidence of several types is merged: the one whose runbook fits best. */
const TYPE_RANK: IncidentType[] = ['exposed-key', 'compromised-instance', 'root-key', 'unknown-resources', 'data-transfer', 'open-ingress', 'key-pair', 'stale-key', 'no-mfa'];
const refKey = (r: ResourceRef): string => `${r.kind}\u0000${r.region ?? ''}\u0000${r.id}`;
const isUnknown = (v: string): boolean => /^unknown\b/i.test(v);
const LAST_KNOWN = / \(last known; [^]*\)$/;

/** `newer` first, then what only `older` had; a resource in both takes `newer`'s label and owner. */
export function unionResources(older: ResourceRef[], newer: ResourceRef[]): ResourceRef[] {
  const seen = new Set(newer.map(refKey));
  return [...newer, ...older.filter((r) => !seen.has(refKey(r)))];
}

/**
 * The facts of a look that could not read everything: a fact it reports as unknown keeps its last
 * known value, marked as such with the reason; a fact it does not report at all is kept as it was.
 */
export function keepKnownFacts(older: Array<[string, string]>, newer: Array<[string, string]>): Array<[string, string]> {
  const known = new Map<string, string[]>();
  for (const [k, v] of older) if (!isUnknown(v)) known.set(k, [...(known.get(k) ?? []), v.replace(LAST_KNOWN, '')]);
  const labels = new Set(newer.map(([k]) => k));
  const done = new Set<string>();
  const out: Array<[string, string]> = [];
  for (const [k, v] of newer) {
    const last = known.get(k);
    if (!isUnknown(v) || !last) out.push([k, v]);
    else if (!done.has(k)) {
      // Every value the label had (a label may repeat: one "Open rule" per rule), each marked.
      done.add(k);
      for (const pv of last) out.push([k, `${pv} (last known; now ${v})`]);
    }
  }
  for (const [k, v] of older) if (!labels.has(k)) out.push([k, v]);
  return out;
}

/** The facts a draft says it could not read: `missing`, `uncertain.missing`, or facts whose value is "unknown: …". */
export function draftMissing(d: Pick<IncidentDraft, 'facts' | 'uncertain' | 'missing'>): string[] {
  const out = [...(d.missing ?? []), ...(d.uncertain?.missing ?? [])];
  for (const [k, v] of d.facts) if (isUnknown(v) && !out.some((m) => m.startsWith(k.toLowerCase()))) out.push(`${k.toLowerCase()}: ${v.replace(/^unknown:?\s*/i, '') || 'not read'}`);
  return [...new Set(out)];
}

/** The evidence of an incident written before evidence existed: what it held, as one source's. */
function legacyEvidence(i: Incident): Evidence {
  return {
    id: `${i.source}:${i.id}`,
    source: i.source,
    label: i.source === 'audit' ? `audit: ${i.title}` : i.source === 'notice' ? `notice: ${i.title}` : 'opened by hand',
    severity: i.severity,
    firstSeen: i.createdAt,
    lastSeen: i.updatedAt,
    resources: i.resources,
    facts: i.facts,
    current: i.status !== 'resolved',
    type: i.type,
    title: i.title,
    summary: i.summary,
  };
}

type FullEvidence = Evidence;

function evidenceOf(i: Incident): FullEvidence[] {
  i.evidence ??= [legacyEvidence(i)];
  return i.evidence as FullEvidence[];
}

const rankOf = (t: IncidentType | undefined): number => (t ? TYPE_RANK.indexOf(t) : TYPE_RANK.length);

/**
 * Recomputes what the incident shows from its evidence: resources and facts are the union of every
 * source's (current ones first), the severity the worst of the current evidence (unchanged when
 * none is current: a resolved incident keeps what it was), the type and wording those of the
 * evidence whose runbook fits best. A key found by several sources gets a title that says so.
 */
function derive(i: Incident): void {
  const ev = evidenceOf(i);
  const order = [...ev].sort((a, b) => Number(b.current) - Number(a.current) || rankOf(a.type) - rankOf(b.type) || SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
  const resources: ResourceRef[] = [];
  const have = new Set<string>();
  for (const e of order)
    for (const r of e.resources) {
      if (have.has(refKey(r))) continue;
      have.add(refKey(r));
      resources.push({ ...r });
    }
  // An access key's owner, when one source knows it, is the owner everywhere.
  for (const r of resources) if (r.kind === 'access-key' && !r.user) r.user = order.flatMap((e) => e.resources).find((x) => x.kind === 'access-key' && x.id === r.id && x.user)?.user;
  const facts: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const e of order) {
    for (const f of e.facts) {
      const k = `${f[0]}\u0000${f[1]}`;
      if (!seen.has(k)) {
        seen.add(k);
        facts.push([f[0], f[1]]);
      }
    }
    if (e.missing?.length) {
      const m = `Not read by the last look (${e.label})`;
      facts.push([m, e.missing.join('; ')]);
    }
  }
  if (ev.length > 1) facts.unshift(['Found by', order.map((e) => `${e.label}${e.current ? '' : ' (no longer found)'}`).join('; ')]);
  i.resources = resources;
  i.facts = facts;
  const current = ev.filter((e) => e.current);
  if (current.length) i.severity = current.map((e) => e.severity).reduce(worse);
  const best = order[0];
  if (best?.type && rankOf(best.type) < rankOf(i.type)) i.type = best.type;
  if (ev.length === 1 && best) {
    if (best.title) i.title = best.title;
    if (best.summary) i.summary = best.summary;
  } else if (i.id.startsWith('key:')) {
    const key = resources.find((r) => r.kind === 'access-key' && `key:${r.id}` === i.id);
    const sources = [...new Set(current.map((e) => e.source))];
    i.title = `Access key ${i.id.slice(4)}${key?.user ? ` of ${key.user}` : ''}: ${i.type === 'exposed-key' ? 'exposed' : 'flagged'} (found by ${sources.join(', ') || 'no current source'})`;
    const s = order.find((e) => e.type === i.type && e.summary)?.summary;
    if (s) i.summary = s;
  } else if (best) {
    if (best.title) i.title = best.title;
    if (best.summary) i.summary = best.summary;
  }
}

/**
 * The one incident id of an access key, whatever found it: `key:<KEY ID>`. Audit checks about one
 * key (an old key, the quarantine policy when the user has one key), notices naming one key, the
 * workspace and the gate all use it, so their evidence meets in one incident.
 */
export const keyIncidentId = (keyId: string): string => `key:${keyId}`;

/** The id an audit draft's evidence goes under: its key's incident for a check about exactly one access key. */
export function canonicalId(d: Pick<IncidentDraft, 'id' | 'type' | 'resources'>): string {
  if (d.type === 'exposed-key' || d.type === 'stale-key') {
    const keys = [...new Set(d.resources.filter((r) => r.kind === 'access-key').map((r) => r.id))];
    if (keys.length === 1) return keyIncidentId(keys[0] as string);
  }
  return d.id;
}

const KEY_TYPES = new Set<IncidentType>(['exposed-key', 'stale-key']);
const INSTANCE_TYPES = new Set<IncidentType>(['compromised-instance', 'unknown-resources', 'open-ingress', 'data-transfer']);

/** A draft opened or refreshed by a source other than an audit (a notice, the workspace, the gate). */
export type SourceDraft = Omit<IncidentDraft, 'uncertain'> & { source: EvidenceSource; account?: string; evidenceId: string; label: string };

// ------------------------------------------------------------------------ the file, no symlinks

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

/**
 * Refuses a path of the book (the file, its lock, the lock's breaker) that is a symlink or not a
 * regular file: a link planted there would redirect our writes (or reads) to another file.
 */
function refuseLink(file: string, what: string): void {
  let st;
  try {
    st = lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (st.isSymbolicLink()) throw new KeysentryError(`${file} (${what}) is a symbolic link; Keysentry never follows one there, so that nothing is written elsewhere. Remove the link (and move the file it points to there, if it is yours)`);
  if (!st.isFile()) throw new KeysentryError(`${file} (${what}) is not a regular file`);
}

/** Reads the book without following a symlink (O_NOFOLLOW) and without blocking on a FIFO (O_NONBLOCK, then a regular-file check). */
function readBookFile(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'EMLINK') throw new Error('it is a symbolic link; Keysentry never follows one there (remove the link)');
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > 64 * 1024 * 1024) throw new Error(`${st.size} bytes is too large`);
    const buf = Buffer.alloc(st.size);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, n);
      if (!r) break;
      n += r;
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the book atomically without following any link: the temporary file is created with
 * O_EXCL | O_NOFOLLOW (0600) beside the book, and rename() replaces the directory entry itself, so a
 * symlink swapped in at the book's name after our check is replaced, never written through.
 */
function writeBookFile(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.keysentry-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o600);
    const data = Buffer.from(text, 'utf8');
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    refuseLink(file, 'the incidents file');
    renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
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
    let text: string | undefined;
    try {
      // Never through a symlink (it would redirect what we read and then write), never a FIFO or device.
      text = readBookFile(this.file);
    } catch (e) {
      this.loadProblem = `${this.file} cannot be read (${(e as Error).message})`;
      return false;
    }
    if (text === undefined) {
      this.list = [];
      return true;
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

  /** The incident with this id, or the one it was merged into (an audit check's id, a notice's evidence id). */
  get(id: string): Incident | undefined {
    return this.list.find((i) => i.id === id) ?? this.list.find((i) => i.aliases?.includes(id) || i.evidence?.some((e) => e.id === id));
  }

  /**
   * Runs one change as a transaction on the latest version of the file (see the class comment).
   * The file, its lock and the lock's breaker are never symlinks: one planted there would
   * redirect the write, so the change is refused with the reason.
   */
  private mutate<T>(change: () => T): T {
    const file = this.file;
    if (!file) return change();
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const lock = `${file}.lock`;
    refuseLink(file, 'the incidents file');
    refuseLink(lock, 'the lock of the incidents file');
    refuseLink(`${lock}.break`, 'the lock of the incidents file');
    return withLock(
      lock,
      'updating the incidents file',
      () => {
        refuseLink(file, 'the incidents file');
        if (!this.load() && this.file === file && this.loadProblem && !/kept as|could not be moved/.test(this.loadProblem)) throw new KeysentryError(this.loadProblem);
        const out = change();
        if (this.file) writeBookFile(this.file, serializeIncidents(this.list));
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
   * Each draft is this audit's evidence in its incident: a check about one access key goes to
   * that key's incident (`key:<id>`, shared with the workspace, the gate and notices), a check
   * naming an instance a notice reported goes to the notice's incident; other evidence is kept.
   *
   * A draft whose severity depends on a fact the audit could not read (`uncertain`) keeps the
   * evidence's last known severity (never lower than what was read); a new one takes the worst
   * case. A draft built while a fact could not be read (`missing`, `uncertain`, or a fact
   * "unknown: …") never removes or replaces known resources and facts: the last known ones stay,
   * and the incident says which fact is missing. `covers` says which incidents the audit could
   * see at all: an incident whose facts it could not read is never resolved by it.
   */
  mergeAudit(drafts: IncidentDraft[], meta: { account: string; profile?: string; actor: string; covers: (i: Incident) => boolean }): string[] {
    return this.mutate(() => {
      const now = new Date().toISOString();
      const added: string[] = [];
      const seen = new Set<string>();
      for (const raw of drafts) {
        const { uncertain, missing: _m, ...d } = redactDeep(raw);
        seen.add(d.id);
        const missing = draftMissing(redactDeep(raw));
        const evId = `audit:${d.id}`;
        const existing = this.get(d.id) ?? this.get(canonicalId(d)) ?? this.sharing(d, (i) => i.source !== 'audit' || !!i.evidence?.some((e) => e.source !== 'audit'));
        const prev = existing && evidenceOf(existing).find((e) => e.id === evId);
        const partial = missing.length > 0 && !!prev;
        const ev: FullEvidence = {
          id: evId,
          source: 'audit',
          label: `audit of ${meta.account}: ${d.title}`,
          // Unknown is never read as "fine": a partial look keeps the last known severity when it was worse.
          severity: partial ? worse(d.severity, prev.severity) : uncertain ? worse(d.severity, prev ? prev.severity : uncertain.worst) : d.severity,
          firstSeen: prev?.firstSeen ?? now,
          lastSeen: now,
          resources: partial ? unionResources(prev.resources, d.resources) : d.resources,
          facts: partial ? keepKnownFacts(prev.facts, d.facts) : d.facts,
          ...(missing.length ? { missing } : {}),
          current: true,
          type: d.type,
          title: d.title,
          summary: d.summary,
        };
        if (existing) {
          const list = evidenceOf(existing);
          const at = list.findIndex((e) => e.id === evId);
          if (at >= 0) list[at] = ev;
          else {
            list.push(ev);
            this.touch(existing, { at: now, actor: meta.actor, kind: 'detected', text: `Also found by an audit of account ${meta.account}: ${d.title}` });
          }
          if (existing.id !== d.id && !(existing.aliases ?? []).includes(d.id)) existing.aliases = [...(existing.aliases ?? []), d.id];
          existing.profile = meta.profile ?? existing.profile;
          existing.account ??= meta.account;
          derive(existing);
          if (missing.length && prev && JSON.stringify(prev.missing ?? []) !== JSON.stringify(missing)) this.touch(existing, { at: now, actor: meta.actor, kind: 'note', text: `The audit could not read ${missing.join('; ')}: the last known resources and facts are kept.` });
          if (existing.status === 'resolved') {
            existing.status = 'open';
            this.touch(existing, { at: now, actor: meta.actor, kind: 'detected', text: 'Found again by an audit: reopened.' });
          }
          continue;
        }
        const id = canonicalId(d);
        const inc: Incident = { ...d, id, ...(id !== d.id ? { aliases: [d.id] } : {}), severity: ev.severity, source: 'audit', account: meta.account, profile: meta.profile, status: 'open', createdAt: now, updatedAt: now, steps: {}, timeline: [], evidence: [ev] };
        derive(inc);
        this.touch(inc, { at: now, actor: meta.actor, kind: 'detected', text: `Detected by an audit of account ${meta.account}: ${d.title}` });
        this.list.push(inc);
        added.push(id);
      }
      for (const i of this.list) {
        if (i.account !== meta.account || i.status === 'resolved') continue;
        if (i.source !== 'audit' && !i.evidence?.some((e) => e.source === 'audit')) continue;
        let gone = false;
        for (const e of evidenceOf(i)) {
          if (e.source !== 'audit' || !e.current) continue;
          const checkId = e.id.replace(/^audit:/, '');
          if (seen.has(checkId) || !meta.covers({ ...i, id: checkId, type: e.type ?? i.type, resources: e.resources })) continue;
          e.current = false;
          e.lastSeen = now;
          gone = true;
        }
        if (!gone) continue;
        const still = evidenceOf(i).filter((e) => e.current);
        derive(i);
        if (still.length) {
          this.touch(i, { at: now, actor: meta.actor, kind: 'note', text: `No longer found by an audit; still open: ${still.map((e) => e.label).join('; ')}.` });
          continue;
        }
        i.status = 'resolved';
        this.touch(i, { at: now, actor: meta.actor, kind: 'status', text: 'No longer found by an audit: marked resolved.' });
      }
      return added;
    });
  }

  /**
   * An incident about the same key or instance as `d`, for evidence from another source: one that
   * lists the same access key (for key incidents) or the same instance (for instance incidents).
   * Open incidents first.
   */
  private sharing(d: Pick<IncidentDraft, 'type' | 'resources'>, accept: (i: Incident) => boolean = () => true): Incident | undefined {
    const keys = new Set(d.resources.filter((r) => r.kind === 'access-key').map((r) => r.id));
    const instances = new Set(d.resources.filter((r) => r.kind === 'instance').map((r) => r.id));
    const match = (i: Incident): boolean =>
      accept(i) &&
      ((KEY_TYPES.has(d.type) && KEY_TYPES.has(i.type) && i.resources.some((r) => r.kind === 'access-key' && keys.has(r.id))) ||
        (INSTANCE_TYPES.has(d.type) && INSTANCE_TYPES.has(i.type) && i.resources.some((r) => r.kind === 'instance' && instances.has(r.id))));
    return this.list.find((i) => i.status !== 'resolved' && match(i)) ?? this.list.find(match);
  }

  /**
   * Evidence from a notice, the workspace or the gate: opens the incident of its key or instance,
   * or adds to it (the same key found by an audit, a notice and a file is one incident with one
   * checklist and timeline). Evidence with the same id replaces its earlier version; a resolved
   * incident found again is reopened. Returns the incident and whether it is new.
   */
  upsert(d: SourceDraft, actor: string, text: string): { incident: Incident; isNew: boolean; newEvidence: boolean } {
    return this.mutate(() => {
      const clean = redactDeep(d);
      const now = new Date().toISOString();
      const ev: FullEvidence = {
        id: clean.evidenceId,
        source: clean.source,
        label: clean.label,
        severity: clean.severity,
        firstSeen: now,
        lastSeen: now,
        resources: clean.resources,
        facts: clean.facts,
        ...(clean.missing?.length ? { missing: clean.missing } : {}),
        current: true,
        type: clean.type,
        title: clean.title,
        summary: clean.summary,
      };
      const existing = this.get(clean.id) ?? this.get(clean.evidenceId) ?? this.sharing(clean);
      const kind = clean.source === 'notice' ? 'imported' : 'detected';
      if (existing) {
        const list = evidenceOf(existing);
        const at = list.findIndex((e) => e.id === ev.id);
        const newEvidence = at < 0;
        if (at >= 0) list[at] = { ...ev, firstSeen: (list[at] as FullEvidence).firstSeen };
        else list.push(ev);
        if (existing.id !== clean.id && !(existing.aliases ?? []).includes(clean.id)) existing.aliases = [...(existing.aliases ?? []), clean.id];
        existing.account ??= clean.account;
        derive(existing);
        if (newEvidence) this.touch(existing, { at: now, actor, kind, text });
        else existing.updatedAt = now;
        if (existing.status === 'resolved' && newEvidence) {
          existing.status = 'open';
          this.touch(existing, { at: now, actor, kind: 'status', text: `Status resolved → open: found again (${clean.label}).` });
        }
        return { incident: existing, isNew: false, newEvidence };
      }
      const { evidenceId: _e, label: _l, missing: _m, ...rest } = clean;
      const inc: Incident = { ...rest, status: 'open', createdAt: now, updatedAt: now, steps: {}, timeline: [], evidence: [ev] };
      derive(inc);
      this.touch(inc, { at: now, actor, kind, text });
      this.list.push(inc);
      return { incident: inc, isNew: true, newEvidence: true };
    });
  }

  /**
   * Marks the evidence a source no longer sees (the key was removed from a file): it stays in the
   * record, marked "no longer found"; the incident stays as it is (removing a key from a file
   * does not make it safe: it was exposed).
   */
  markGone(evidenceIds: string[], actor: string): void {
    if (!evidenceIds.length) return;
    const ids = new Set(evidenceIds);
    if (!this.list.some((i) => i.evidence?.some((e) => ids.has(e.id) && e.current))) return;
    this.mutate(() => {
      const now = new Date().toISOString();
      for (const i of this.list) {
        const gone = (i.evidence ?? []).filter((e) => ids.has(e.id) && e.current);
        if (!gone.length) continue;
        for (const e of gone) {
          e.current = false;
          e.lastSeen = now;
        }
        derive(i);
        this.touch(i, { at: now, actor, kind: 'note', text: `No longer found: ${gone.map((e) => e.label).join('; ')}.` });
      }
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
      const mine = this.get(inc.id) ?? (inc.aliases ?? []).map((a) => this.get(a)).find(Boolean);
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
      // Evidence and aliases: the union, each piece of evidence in its latest version.
      const aliases = new Set([...(mine.aliases ?? []), ...(inc.aliases ?? []), ...(inc.id !== mine.id ? [inc.id] : [])]);
      aliases.delete(mine.id);
      if (aliases.size) mine.aliases = [...aliases];
      if (inc.evidence?.length) {
        const list = evidenceOf(mine);
        for (const e of inc.evidence) {
          const at = list.findIndex((x) => x.id === e.id);
          if (at < 0) list.push(e);
          else if ((list[at] as Evidence).lastSeen < e.lastSeen) list[at] = e;
        }
        derive(mine);
      }
      if (inc.updatedAt > mine.updatedAt) {
        mine.status = inc.status;
        mine.updatedAt = inc.updatedAt;
      }
      merged++;
    }
    return { added, merged };
  }
}

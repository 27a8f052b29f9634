/**
 * One investigation of a leaked key (or an IAM user): its CloudTrail history over the exposure
 * window, the summary, what it left behind, then the same for every access key the attacker
 * created with it (and with those, up to a bound). Pure orchestration: the lookup is injected
 * (src/aws/cloudtrail.ts lookupEvents through the real SDK, or a test double).
 */
import { attackerKeys, findPersistence, type PersistenceItem } from './persistence';
import { byTime, ownerJudge, summarise, type TrailEvent, type TrailSummary } from './trail';

export interface RegionFailure {
  region: string;
  message: string;
  denied: boolean;
  /** Set for a key the attacker created (followed), not the one investigated. */
  key?: string;
}

export type LookupFn = (attribute: { key: 'AccessKeyId' | 'Username'; value: string }, window: { from: Date; to: Date }) => Promise<{ events: TrailEvent[]; failures: RegionFailure[] }>;

/** Where the start of the exposure came from. */
export interface Exposure {
  since: string;
  source: 'flag' | 'git' | 'notice' | 'default';
  /** e.g. "commit 1a2b3c4 (2026-11-20T10:00:00Z) added it". */
  detail: string;
}

export interface FollowedKey {
  keyId: string;
  user?: string;
  /** The key that created it. */
  createdBy: string | null;
  events: number;
  verdict: string[];
}

export interface Investigation {
  version: 1;
  subject: { accessKeyId?: string; user?: string };
  at: string;
  window: { from: string; to: string };
  exposure: Exposure;
  regions: string[];
  failures: RegionFailure[];
  /** Said when the signer cannot (or should not) read CloudTrail: AWS's quarantine policy. */
  signerNote?: string;
  summary: TrailSummary;
  followed: FollowedKey[];
  /** The attacker's calls (not the owner's), oldest first, at most MAX_TIMELINE. */
  timeline: TrailEvent[];
  timelineTruncated: number;
  resources: PersistenceItem[];
}

/** Keys followed beyond the leaked one (each is one more LookupEvents per region). */
export const MAX_FOLLOWED = 20;
export const MAX_TIMELINE = 500;

export interface InvestigateInput {
  subject: { accessKeyId?: string; user?: string };
  regions: string[];
  /** The 30 days before the exposure (within CloudTrail's 90) are the owner's baseline. */
  from: Date;
  to: Date;
  exposure: Exposure;
  signerNote?: string;
  isCancelled?: () => boolean;
  onFollow?: (keyId: string) => void;
}

export async function investigate(lookup: LookupFn, input: InvestigateInput): Promise<{ investigation: Investigation; events: TrailEvent[] }> {
  const window = { from: input.from, to: input.to };
  const attr = input.subject.accessKeyId ? ({ key: 'AccessKeyId', value: input.subject.accessKeyId } as const) : ({ key: 'Username', value: input.subject.user ?? '' } as const);
  const primary = await lookup(attr, window);
  const since = input.exposure.since;
  const baseline = primary.events.filter((e) => e.time < since);
  const ownerOf = ownerJudge(baseline);
  const summary = summarise(primary.events, { from: window.from.toISOString(), to: window.to.toISOString(), exposedSince: since });
  const failures = [...primary.failures];
  const all = [...primary.events];
  const followedIds = new Set<string>();
  const followed: FollowedKey[] = [];
  const seenIds = new Set(all.map((e) => e.id));
  const isOwner = (e: TrailEvent): boolean => !(e.accessKeyId && followedIds.has(e.accessKeyId)) && ownerOf(e);
  // Breadth first: the leaked key's creations, then what those keys created, up to MAX_FOLLOWED keys.
  let queue = attackerKeys(findPersistence(all, since, isOwner));
  while (queue.length && followedIds.size < MAX_FOLLOWED && !input.isCancelled?.()) {
    const next: typeof queue = [];
    for (const k of queue) {
      if (followedIds.has(k.id) || k.id === input.subject.accessKeyId || followedIds.size >= MAX_FOLLOWED || input.isCancelled?.()) continue;
      followedIds.add(k.id);
      input.onFollow?.(k.id);
      const r = await lookup({ key: 'AccessKeyId', value: k.id }, window);
      for (const f of r.failures) failures.push({ ...f, key: k.id, message: `${k.id}: ${f.message}` });
      const fresh = r.events.filter((e) => !seenIds.has(e.id));
      for (const e of fresh) seenIds.add(e.id);
      all.push(...fresh);
      const s = summarise(r.events, { from: since, to: window.to.toISOString() });
      const creator = all.find((e) => e.created.some((c) => c.type === 'access-key' && c.id === k.id));
      followed.push({ keyId: k.id, ...(k.user ? { user: k.user } : {}), createdBy: creator?.accessKeyId ?? null, events: s.events, verdict: s.verdict });
      next.push(...attackerKeys(findPersistence(fresh, since, () => false)));
    }
    queue = next;
  }
  const resources = findPersistence(all, since, isOwner);
  const attackerCalls = all.filter((e) => e.time >= since && !isOwner(e)).sort(byTime);
  return {
    events: all,
    investigation: {
      version: 1,
      subject: input.subject,
      at: new Date().toISOString(),
      window: { from: window.from.toISOString(), to: window.to.toISOString() },
      exposure: input.exposure,
      regions: input.regions,
      failures,
      ...(input.signerNote ? { signerNote: input.signerNote } : {}),
      summary,
      followed,
      timeline: attackerCalls.slice(0, MAX_TIMELINE),
      timelineTruncated: Math.max(0, attackerCalls.length - MAX_TIMELINE),
      resources,
    },
  };
}

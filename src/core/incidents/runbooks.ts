import { ACTION_KINDS, type ActionKind } from './actions';
import type { Incident, ResourceRef } from './types';
import { KeysentryError } from '../types';
import { shellQuote } from './escape';

export interface RunbookStep {
  id: string;
  /** Short checklist line; `what` when absent. */
  title?: string;
  what: string;
  why: string;
  /** A containment action Keysentry can run for this step (planned, then confirmed). */
  action?: ActionKind;
  /** Where to do it by hand in the AWS console. */
  console?: string;
  /** The AWS CLI command, with {instance}, {region}, {key}, {user}, {group}, {keypair} filled in from the incident. */
  cli?: string;
}
export interface Runbook {
  title: string;
  summary: string;
  phases: Array<{ name: string; steps: RunbookStep[] }>;
}

export const PHASES = ['Contain', 'Investigate', 'Eradicate', 'Recover & harden', 'Respond to AWS'] as const;

function checkRunbook(id: string, rb: Runbook): void {
  const where = `runbook data: "${id}"`;
  if (typeof rb.title !== 'string' || typeof rb.summary !== 'string' || !Array.isArray(rb.phases)) throw new KeysentryError(`${where} is incomplete`);
  const ids = new Set<string>();
  for (const p of rb.phases) {
    if (!Array.isArray(p.steps) || typeof p.name !== 'string') throw new KeysentryError(`${where}: a phase has no name or steps`);
    for (const s of p.steps) {
      if (typeof s.id !== 'string' || typeof s.what !== 'string' || typeof s.why !== 'string') throw new KeysentryError(`${where}: a step of ${p.name} lacks id, what or why`);
      if (ids.has(`${p.name}/${s.id}`)) throw new KeysentryError(`${where}: step ${p.name}/${s.id} appears twice`);
      ids.add(`${p.name}/${s.id}`);
      if (s.action !== undefined && !ACTION_KINDS.includes(s.action)) throw new KeysentryError(`${where}: unknown action "${String(s.action)}" in ${p.name}/${s.id}`);
    }
  }
}

/** Reads a runbook data file, following `sameAs` links, and checks its shape. */
export function parseRunbooks(text: string): Record<string, Runbook> {
  const data = JSON.parse(text) as { version?: number; runbooks?: Record<string, Runbook | { sameAs: string }> };
  if (data.version !== 1 || !data.runbooks) throw new KeysentryError('runbook data: expected {"version": 1, "runbooks": {...}}');
  const out: Record<string, Runbook> = {};
  for (const [id, value] of Object.entries(data.runbooks)) {
    const rb = 'sameAs' in value ? data.runbooks[value.sameAs] : value;
    if (!rb || 'sameAs' in rb || !Array.isArray(rb.phases)) throw new KeysentryError(`runbook data: "${id}" is incomplete`);
    checkRunbook(id, rb);
    out[id] = rb;
  }
  return out;
}

/** Checklist keys ("Phase/stepId") of the Contain phase: all done → the incident is contained. */
export const containKeys = (rb: Runbook | undefined): string[] => rb?.phases.find((p) => p.name === 'Contain')?.steps.map((s) => `Contain/${s.id}`) ?? [];

/** A checklist step by its key ("Phase/stepId"), with the line the timeline names it by. */
export function findStep(rb: Runbook | undefined, key: string): { key: string; label: string } | undefined {
  for (const p of rb?.phases ?? []) for (const s of p.steps) if (`${p.name}/${s.id}` === key) return { key, label: s.title ?? s.what };
  return undefined;
}

const PLACEHOLDER: Record<string, ResourceRef['kind'] | 'region'> = {
  instance: 'instance',
  key: 'access-key',
  user: 'user',
  group: 'security-group',
  keypair: 'key-pair',
  region: 'region',
};

/**
 * Fills {instance}, {region}… with the incident's resources; unknown ones become INSTANCE_ID-style
 * words. `quote` is applied to every value taken from the incident (see fillCli).
 */
export function fillPlaceholders(text: string, incident: Pick<Incident, 'resources'>, quote: (value: string) => string = (v) => v): string {
  return text.replace(/\{(instance|key|user|group|keypair|region)\}/g, (_m, name: string) => {
    const kind = PLACEHOLDER[name];
    if (kind === 'region') {
      const regions = [...new Set(incident.resources.map((r) => r.region).filter(Boolean))];
      return regions.length === 1 ? quote(regions[0] as string) : 'REGION';
    }
    const r = incident.resources.find((x) => x.kind === kind);
    if (r) return quote(r.id);
    if (name === 'user') {
      const owner = incident.resources.find((x) => x.kind === 'access-key' && x.user)?.user;
      if (owner) return quote(owner);
    }
    return { instance: 'INSTANCE_ID', key: 'ACCESS_KEY_ID', user: 'USER_NAME', group: 'GROUP_ID', keypair: 'KEY_PAIR_NAME' }[name] ?? name.toUpperCase();
  });
}

/**
 * A runbook's CLI line with the incident's values filled in, each one a single POSIX shell word
 * (key pair names may hold `;|$`, quotes and newlines; the Copy button puts the line on the
 * clipboard, to be pasted into a terminal). Placeholders are meant to stand as whole words or
 * after `NAME=` in the data files, never inside quotes.
 */
export const fillCli = (cli: string, incident: Pick<Incident, 'resources'>): string => fillPlaceholders(cli, incident, shellQuote);

import { ACTION_KINDS, type ActionKind } from './actions';
import type { Incident, ResourceRef } from './types';
import { KeysentryError } from '../types';
import { isCliSafe } from './escape';

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

const WORDS: Record<string, string> = { instance: 'INSTANCE_ID', key: 'ACCESS_KEY_ID', user: 'USER_NAME', group: 'GROUP_ID', keypair: 'KEY_PAIR_NAME', region: 'REGION' };

/** The incident's value for a placeholder name (instance, key, user, group, keypair, region), if it has one. */
function placeholderValue(name: string, incident: Pick<Incident, 'resources'>): string | undefined {
  const kind = PLACEHOLDER[name];
  if (kind === 'region') {
    const regions = [...new Set(incident.resources.map((r) => r.region).filter(Boolean))];
    return regions.length === 1 ? (regions[0] as string) : undefined;
  }
  const r = incident.resources.find((x) => x.kind === kind);
  if (r) return r.id;
  if (name === 'user') return incident.resources.find((x) => x.kind === 'access-key' && x.user)?.user;
  return undefined;
}

const PLACEHOLDERS = /\{(instance|key|user|group|keypair|region)\}/g;

/**
 * Fills {instance}, {region}… with the incident's resources; unknown ones become INSTANCE_ID-style
 * words. For text shown on the page (console paths); CLI lines go through fillCliChecked.
 */
export function fillPlaceholders(text: string, incident: Pick<Incident, 'resources'>): string {
  return text.replace(PLACEHOLDERS, (_m, name: string) => placeholderValue(name, incident) ?? WORDS[name] ?? name.toUpperCase());
}

/** A value the CLI line does not show, and why (see isCliSafe). */
export interface WithheldValue {
  /** The placeholder left in the line, e.g. KEY_PAIR_NAME. */
  placeholder: string;
  /** The value, as plain text for the page (never for a shell). */
  value: string;
  reason: string;
}

/**
 * A runbook's CLI line with the incident's values filled in, safe to paste into bash, PowerShell
 * or cmd.exe: a value is filled in only when every one of those shells reads it as plain text
 * (isCliSafe). Otherwise its placeholder stays and `withheld` says which value it stands for and
 * why, to be shown beside the line (EC2 key pair names may hold `;|$&"'%!`; a name tag or a
 * notice can carry anything). The line is never quoted for one shell: a quoted line is safe in
 * that shell only.
 */
export function fillCliChecked(cli: string, incident: Pick<Incident, 'resources'>): { line: string; withheld: WithheldValue[] } {
  const withheld: WithheldValue[] = [];
  const line = cli.replace(PLACEHOLDERS, (_m, name: string) => {
    const placeholder = WORDS[name] ?? name.toUpperCase();
    const value = placeholderValue(name, incident);
    if (value === undefined) return placeholder;
    if (isCliSafe(value)) return value;
    if (!withheld.some((w) => w.placeholder === placeholder)) withheld.push({ placeholder, value, reason: withheldReason(value) });
    return placeholder;
  });
  return { line, withheld };
}

function withheldReason(value: string): string {
  if (!value) return 'it is empty';
  if (value.length > 256) return `it is ${value.length} characters long`;
  const bad = [...new Set([...value].filter((c) => !/[A-Za-z0-9._:/+=@-]/.test(c)))];
  if (!bad.length) return `it starts with "${value[0]}", which a shell or the AWS CLI reads as an option or an expansion`;
  const shown = bad.slice(0, 8).map((c) => (/[\x21-\x7e]/.test(c) ? c : `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`));
  return `it contains ${shown.join(' ')}${bad.length > 8 ? ' and more' : ''}, which a shell (bash, PowerShell or cmd.exe) could run or expand; type it in with your shell's quoting`;
}

/** The line only (see fillCliChecked); withheld values stay placeholders. */
export const fillCli = (cli: string, incident: Pick<Incident, 'resources'>): string => fillCliChecked(cli, incident).line;

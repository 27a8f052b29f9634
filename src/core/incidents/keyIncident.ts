import { keyIncidentId, type SourceDraft } from './book';
import type { ResourceRef, Severity } from './types';

// A leaked access key is one incident, whatever found it. This turns what the workspace scan and
// the pre-push gate saw (a file and line, a commit) into evidence for the key's incident
// (`key:<id>`, see book.ts), with what the liveness lookup said about the key when it was asked.

/** Where a key was seen: a file of the workspace, or an outgoing commit the gate blocked. */
export interface KeySighting {
  keyId: string;
  source: 'workspace' | 'push';
  /** Workspace-relative path (or the commit's path), `/` separators. */
  file: string;
  line: number;
  /** Decoded offline from the id. */
  accountId?: string;
  commit?: string;
  subject?: string;
  ref?: string;
  /** Whether the commit is known to be on a remote already; undefined when unknown. */
  pushed?: boolean;
}

/** What the liveness lookup (core/investigate/liveness) said, when the key was checked. */
export interface KeyOwnerFacts {
  status: 'active' | 'inactive' | 'deleted' | 'other-account' | 'unknown';
  user: string | null;
  accountId: string | null;
  /** One sentence (describeLiveness). */
  sentence: string;
}

const SEVERITY: Record<KeyOwnerFacts['status'], Severity> = { active: 'critical', unknown: 'high', 'other-account': 'high', inactive: 'medium', deleted: 'low' };

/** The evidence a sighting adds to its key's incident. */
export function sightingDraft(s: KeySighting, live?: KeyOwnerFacts): SourceDraft {
  const user = live?.user ?? undefined;
  const account = live?.accountId ?? s.accountId;
  const key: ResourceRef = { kind: 'access-key', id: s.keyId, ...(user ? { user } : {}), label: live ? live.status : 'found in the workspace' };
  const where = s.source === 'workspace' ? `${s.file} line ${s.line}` : `${s.file} line ${s.line} in commit ${(s.commit ?? '').slice(0, 10)}`;
  const facts: Array<[string, string]> = [['Access key', s.keyId]];
  if (user) facts.push(['IAM user', user]);
  if (account) facts.push(['Account', account]);
  facts.push([s.source === 'workspace' ? 'Found in' : 'In commit', where]);
  if (s.source === 'push') facts.push(['Pushed', s.pushed === undefined ? 'unknown' : s.pushed ? 'yes: the commit is on a remote' : `no: the pre-push gate blocks it${s.ref ? ` (${s.ref})` : ''}`]);
  if (s.subject) facts.push(['Commit subject', s.subject]);
  if (live) facts.push(['In AWS', live.sentence]);
  const severity = live ? SEVERITY[live.status] : 'high';
  return {
    id: keyIncidentId(s.keyId),
    source: s.source,
    evidenceId: s.source === 'workspace' ? `workspace:${s.file}:${s.keyId}` : `push:${s.commit ?? ''}:${s.file}:${s.keyId}`,
    label: s.source === 'workspace' ? `workspace: ${where}` : `outgoing commit ${(s.commit ?? '').slice(0, 8)}: ${s.file} line ${s.line}`,
    type: 'exposed-key',
    severity,
    title: `Access key ${s.keyId}${user ? ` of ${user}` : ''} found in ${s.source === 'workspace' ? s.file : `an outgoing commit (${s.file})`}`,
    summary: `The secret of access key ${s.keyId} is written in ${s.source === 'workspace' ? 'a file of this workspace' : 'a commit about to be pushed'}. ${live?.status === 'active' ? 'It is active: deactivate or rotate it now, then see what it did.' : 'Find out whether it is live, rotate it, and keep it out of git.'}`,
    resources: [key, ...(user ? [{ kind: 'user', id: user } as ResourceRef] : [])],
    facts,
    ...(account ? { account } : {}),
  };
}

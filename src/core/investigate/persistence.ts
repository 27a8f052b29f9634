/**
 * What the key's calls left behind, and how to remove each thing. Pure: from the events of the
 * leaked key (and of the access keys the attacker created with it, followed by investigation.ts).
 *
 * A resource is the owner's when every call that created or changed it was the owner's: made
 * before the exposure, or from an IP address and tool seen before it (trail.ts ownerJudge).
 * The owner's resources are listed and marked, and get no removal by default.
 *
 * Some calls only change what may have existed before the window CloudTrail keeps (90 days):
 * UpdateLoginProfile, UpdateAssumeRolePolicy, and AttachUserPolicy / PutUserPolicy, which are
 * idempotent (re-attaching a policy the owner attached long ago succeeds and looks the same as a
 * first attach). Such a change by someone else makes the resource "changed by the attacker;
 * existed before?" (attacker-changed), never the attacker's creation, unless its creation is
 * in the events (the user it belongs to was created in the window, and no earlier attach of it
 * was the owner's). It gets a note, and no removal button: removing it could take away the
 * owner's own permissions (even the signer's: see planRemoval, which refuses those).
 */
import type { ActionKind } from '../incidents/actions';
import type { ResourceRef } from '../incidents/types';
import { byTime, type CreatedResource, type TrailEvent } from './trail';

export type Ownership = 'attacker' | 'attacker-changed' | 'owner-before-exposure' | 'owner-tools';

export interface PersistenceItem extends CreatedResource {
  /** The access key whose call created it (the leaked key, or one the attacker created). */
  by: string | null;
  ip: string | null;
  /** Every event name that created or changed it, first first (bounded). */
  changes: string[];
  ownership: Ownership;
  /** The action that removes it (none for the owner's resources, or where Keysentry has none). */
  removal?: { kind: ActionKind; resource: ResourceRef; label: string };
  /** What to do by hand when there is no removal action. */
  note?: string;
}

const shortPolicy = (p: string): string => p.replace(/^arn:aws:iam::aws:policy\//, '');

/** The removal action of a created resource, or a note saying how to remove it by hand. */
export function removalOf(c: CreatedResource): Pick<PersistenceItem, 'removal' | 'note'> {
  const rm = (kind: ActionKind, resource: ResourceRef, label: string): Pick<PersistenceItem, 'removal'> => ({ removal: { kind, resource, label } });
  const after = (id: string): string => id.slice(id.indexOf(':') + 1);
  switch (c.type) {
    case 'iam-user':
      return rm('delete-user', { kind: 'user', id: c.id }, `Delete user ${c.id} (keys, password, MFA, certificates, SSH keys, policies, groups, then the user)`);
    case 'access-key':
      return rm('delete-access-key', { kind: 'access-key', id: c.id, ...(c.user ? { user: c.user } : {}) }, `Deactivate and delete key ${c.id}${c.user ? ` of ${c.user}` : ''}`);
    case 'login-profile':
      return rm('delete-login-profile', { kind: 'login-profile', id: c.id }, `Delete the console password of ${c.id}`);
    case 'attached-policy':
      return rm('detach-policy', { kind: 'policy', id: c.id }, `Detach ${shortPolicy(after(c.id))} from ${c.user ?? c.id.split(':')[0]}`);
    case 'user-policy':
      return rm('delete-user-policy', { kind: 'policy', id: c.id }, `Delete inline policy ${after(c.id)} of ${c.user ?? c.id.split(':')[0]}`);
    case 'instance':
      return rm('terminate-instance', { kind: 'instance', id: c.id, region: c.region }, `Terminate ${c.id} (${c.region}; snapshots first)`);
    case 'spot-request':
      return rm('cancel-spot-request', { kind: 'spot-request', id: c.id, region: c.region }, `Cancel spot request ${c.id} (${c.region})`);
    case 'key-pair':
      return rm('delete-key-pair', { kind: 'key-pair', id: c.id, region: c.region }, `Delete key pair ${c.id} (${c.region})`);
    case 'security-group-rule':
      return c.id.includes(':')
        ? rm('revoke-rule', { kind: 'sg-rule', id: c.id, region: c.region }, `Revoke rule ${after(c.id)} of ${c.id.split(':')[0]} (${c.region})`)
        : { note: `The call did not return rule ids: review the rules of ${c.id} in ${c.region} (EC2 → Security Groups) and revoke the ones you did not add.` };
    case 'role':
      return { note: `Review role ${c.id}: detach its policies, remove it from instance profiles, then delete it (IAM → Roles).` };
    case 'role-trust':
      return { note: `The trust policy of role ${c.id} was changed: review who can assume it (IAM → Roles → Trust relationships).` };
    case 'lambda-function':
      return { note: `Delete Lambda function ${c.id} in ${c.region} (aws lambda delete-function --function-name NAME --region ${c.region}).` };
  }
}

/**
 * Every resource the events created or changed, one entry per resource, with who made it and
 * how to remove it. `isOwner` says which calls are the owner's own (trail.ts ownerJudge);
 * events before `since` are the owner's by definition. Linear in the number of events.
 */
export function findPersistence(events: TrailEvent[], since: string, isOwner: (e: TrailEvent) => boolean): PersistenceItem[] {
  const byKey = new Map<string, PersistenceItem>();
  /** IAM users whose creation is in the events (so every attachment to them is too). */
  const usersCreated = new Set<string>();
  for (const e of [...events].sort(byTime)) {
    if (e.errorCode || !e.created.length) continue;
    const ownership: Ownership = e.time < since ? 'owner-before-exposure' : isOwner(e) ? 'owner-tools' : 'attacker';
    for (const c of e.created) {
      if (c.type === 'iam-user' && c.eventName === 'CreateUser') usersCreated.add(c.id);
      const k = `${c.type}\u0000${c.region}\u0000${c.id}`;
      const seen = byKey.get(k);
      if (seen) {
        if (seen.changes.length < 20) seen.changes.push(c.eventName);
        // A later call from anyone else changed what the owner made (or re-attached it): the
        // attacker touched it, but it is not the attacker's creation.
        if (ownership === 'attacker' && seen.ownership !== 'attacker' && seen.ownership !== 'attacker-changed') Object.assign(seen, { ownership: 'attacker-changed', by: e.accessKeyId, ip: e.ip, eventName: c.eventName, eventTime: c.eventTime });
        continue;
      }
      const created = createsIt(c, usersCreated);
      byKey.set(k, { ...c, by: e.accessKeyId, ip: e.ip, changes: [c.eventName], ownership: ownership === 'attacker' && !created ? 'attacker-changed' : ownership });
    }
  }
  const items = [...byKey.values()];
  for (const it of items) {
    const how = removalOf(it);
    if (it.ownership === 'attacker') Object.assign(it, how);
    else if (it.ownership === 'attacker-changed')
      it.note =
        `Changed by the attacker (${it.eventName}${it.ip ? ` from ${it.ip}` : ''}); it may have existed before (its creation is not in the events), so no removal is offered. ` +
        `Check it: if it is not yours, ${how.removal ? `${how.removal.label[0]?.toLowerCase()}${how.removal.label.slice(1)} by hand` : (how.note ?? 'remove it by hand')}.`;
    else it.note = it.ownership === 'owner-before-exposure' ? 'Created before the exposure: yours.' : 'Created from your own IP address and tool: looks like yours.';
  }
  return items;
}

/**
 * Whether the call that first shows `c` created it (rather than changing, or re-applying
 * idempotently, something that may have existed before the events begin).
 */
function createsIt(c: CreatedResource, usersCreated: Set<string>): boolean {
  switch (c.eventName) {
    case 'UpdateLoginProfile':
    case 'UpdateAssumeRolePolicy':
      return false;
    case 'AttachUserPolicy':
    case 'PutUserPolicy':
      return !!c.user && usersCreated.has(c.user);
    default:
      return true;
  }
}

/** Access keys the attacker created: their activity is the attacker's too, and is followed. */
export const attackerKeys = (items: PersistenceItem[]): Array<{ id: string; user?: string }> =>
  items.filter((i) => i.type === 'access-key' && i.ownership === 'attacker').map((i) => ({ id: i.id, ...(i.user ? { user: i.user } : {}) }));

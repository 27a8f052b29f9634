import { KeysentryError } from '../types';
import type { FileCheck, KeyFacts, PlannedStep, RotationOptions, RotationPlan } from './types';

export const QUARANTINE_PREFIX = 'AWSCompromisedKeyQuarantine';

/** A rotation Keysentry will not run, with what to do instead. */
export class RotationRefused extends KeysentryError {
  constructor(
    message: string,
    readonly reason: 'temporary' | 'root' | 'other-account' | 'not-found' | 'signer-is-leaked-key' | 'quarantined-signer' | 'key-limit' | 'not-an-access-key' | 'no-usable-file' | 'locked' | 'unfinished' | 'tracked-file',
  ) {
    super(message);
    this.name = 'RotationRefused';
  }
}

/** True when `arn` names the IAM user `user` (any path): `arn:aws:iam::123456789012:user/team/dev`. */
export function isUserArn(arn: string, user: string): boolean {
  return new RegExp(`:user/(?:.*/)?${user.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`).test(arn);
}

/** Refusals that need no AWS call: the shape of the id says it all. */
export function checkKeyId(keyId: string): void {
  if (/^ASIA[A-Z2-7]{16}$/.test(keyId)) {
    throw new RotationRefused(
      `${keyId} is a temporary key (ASIA…) from STS: there is nothing to rotate. Revoke the sessions instead: in the IAM console open the role that issued it, ` +
        `"Revoke active sessions" (it adds a policy denying sessions issued before now), then find where the session credentials were copied from.`,
      'temporary',
    );
  }
  if (!/^(?:AKIA|ABIA|ACCA)[A-Z2-7]{16}$/.test(keyId)) {
    throw new RotationRefused(`${keyId} is not a long-term access key id (AKIA…)`, 'not-an-access-key');
  }
}

/** Refuses when no listed file can take the new key: the old key must never go while the new one is nowhere. */
export function checkFilesUsable(keyId: string, checks: FileCheck[]): void {
  if (checks.some((c) => c.ok)) return;
  const why = checks.map((c) => `  ${c.path}: ${c.reason}`).join('\n');
  throw new RotationRefused(
    `no listed file can take the new key, so the old key ${keyId} would be deleted while the new one is stored nowhere.\n${why || '  (no file was listed)'}\n` +
      'Fix the file (or name another with --update FILE: a .env, a credentials profile, a config with the id and secret under names such as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), then rotate again.',
    'no-usable-file',
  );
}

/**
 * Decides whether and how to rotate, from what AWS said and (when given) what the listed files
 * can take. Throws RotationRefused with guidance.
 */
export function planRotation(facts: KeyFacts, options: RotationOptions, checks?: FileCheck[]): RotationPlan {
  const { keyId } = facts;
  checkKeyId(keyId);
  if (facts.caller.accessKeyId === keyId) {
    throw new RotationRefused(
      `the credentials Keysentry would sign with are the leaked key ${keyId} itself. Choose another profile (an administrator, or SSO) with --profile or the "keysentry.aws.profile" setting, ` +
        `or rotate it in the IAM console while signed in another way.`,
      'signer-is-leaked-key',
    );
  }
  if (facts.keyAccount && facts.keyAccount !== facts.caller.account) {
    throw new RotationRefused(
      `${keyId} belongs to account ${facts.keyAccount}, but the profile signs as account ${facts.caller.account}. Choose a profile of account ${facts.keyAccount}.`,
      'other-account',
    );
  }
  if (facts.userName === 'root' || /:root$/.test(facts.userName ?? '')) {
    throw new RotationRefused(
      `${keyId} is an access key of the account's root user. Root keys should not exist: delete it (do not rotate it) while signed in as root ` +
        `(console: account menu → Security credentials → Access keys → Delete), make sure root has MFA, and use IAM users or roles instead.`,
      'root',
    );
  }
  if (!facts.userName) {
    throw new RotationRefused(`no IAM user in account ${facts.caller.account} owns ${keyId}: it may be deleted already, or belong to the root user or another account.`, 'not-found');
  }
  const user = facts.userName;
  const notes: string[] = [];
  const quarantine = facts.attachedPolicies.filter((p) => p.startsWith(QUARANTINE_PREFIX));
  if (quarantine.length) {
    const signerIsUser = isUserArn(facts.caller.arn, user);
    const explain =
      `AWS attached ${quarantine.join(', ')} to ${user}: AWS detected the key as exposed. The policy denies that user's own credentials the actions an attacker wants ` +
      `(creating keys and users, changing policies, launching instances…), including managing its own access keys in V3.`;
    if (signerIsUser) throw new RotationRefused(`${explain} Sign with another principal (an administrator profile or SSO role) to rotate its key.`, 'quarantined-signer');
    notes.push(`${explain} Keysentry signs as ${facts.caller.arn}, which it does not restrict. Remove the policy yourself after the rotation, once you have checked CloudTrail for what the key did.`);
  }
  const old = facts.keys.find((k) => k.id === keyId);
  if (!old) throw new RotationRefused(`${keyId} is not among ${user}'s access keys any more.`, 'not-found');
  const others = facts.keys.filter((k) => k.id !== keyId);
  let inactiveToDelete: string | undefined;
  if (facts.keys.length >= 2) {
    const inactive = others.find((k) => k.status === 'Inactive');
    if (!inactive) {
      throw new RotationRefused(
        `${user} already has two active access keys (${keyId} and ${others.map((k) => k.id).join(', ')}), the most IAM allows, and Keysentry never deletes another active key. ` +
          `Deactivate or delete the other key yourself if it is unused, then rotate again.`,
        'key-limit',
      );
    }
    if (!options.deleteInactive) {
      throw new RotationRefused(
        `${user} already has two access keys, the most IAM allows. The other one, ${inactive.id}, is inactive: allow Keysentry to delete it to make room (--delete-inactive, or confirm in the editor).`,
        'key-limit',
      );
    }
    inactiveToDelete = inactive.id;
  }
  if (checks) checkFilesUsable(keyId, checks);
  const usable = checks ? checks.filter((c) => c.ok).map((c) => c.path) : options.files;
  for (const c of checks ?? []) if (!c.ok) notes.push(`${c.path} will not be updated: ${c.reason}`);
  if (facts.lastUsed?.date) notes.push(`${keyId} was last used ${facts.lastUsed.date}${facts.lastUsed.service ? ` (${facts.lastUsed.service}${facts.lastUsed.region ? `, ${facts.lastUsed.region}` : ''})` : ''}.`);
  else notes.push(`${keyId} has no recorded use.`);
  if (old.status === 'Inactive') notes.push(`${keyId} is already inactive.`);

  const steps: PlannedStep[] = [];
  if (inactiveToDelete) steps.push({ name: 'delete-inactive', describe: `iam:DeleteAccessKey ${inactiveToDelete} (inactive) to make room under the 2-key limit` });
  steps.push({ name: 'create', describe: `iam:CreateAccessKey for ${user}` });
  steps.push({ name: 'write-files', describe: usable.length ? `write the new key into ${usable.length} file(s) (only the id and secret change): ${usable.join(', ')}` : 'no file to update (you will put the new key where it is needed)' });
  steps.push({ name: 'verify', describe: 'read the new key back from the file(s) and sts:GetCallerIdentity signed with it (retried while IAM propagates it); the old key stays until this works' });
  // An exposed key stops the moment the new pair is on disk and works, before anything else; never
  // earlier, so the user is not left without a working key if the rotation stops half-way.
  if (options.exposed && old.status === 'Active') steps.push({ name: 'deactivate-exposed', describe: `iam:UpdateAccessKey ${keyId} → Inactive as soon as the new key works (the key is exposed: it stops before anything else)` });
  steps.push({ name: 'check-last-used', describe: `iam:GetAccessKeyLastUsed ${keyId}` });
  if (!(options.exposed && old.status === 'Active') && old.status === 'Active') steps.push({ name: 'deactivate-old', describe: `iam:UpdateAccessKey ${keyId} → Inactive` });
  if (!options.keepOldInactive) steps.push({ name: 'delete-old', describe: `iam:DeleteAccessKey ${keyId}` });
  return { keyId, userName: user, account: facts.caller.account, steps, inactiveToDelete, notes, ...(checks ? { files: checks } : {}) };
}

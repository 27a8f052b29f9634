import { existsSync, readFileSync, rmSync } from 'node:fs';
import { KeysentryError } from '../types';
import { writeFileAtomic } from '../atomicFile';
import { isUserArn } from './plan';
import { backupFile, fileMode, markStep, saveJournal, stepState } from './journal';
import { replaceKey, secretFor } from './rewrite';
import type { AccessKeyMeta, Journal, KeyFacts, KeyStatus, RotationOptions, RotationPlan, StepName } from './types';

/** The IAM and STS calls a rotation makes; src/aws/iamOps.ts makes them with the AWS SDK. */
export interface AwsOps {
  callerIdentity(): Promise<{ account: string; arn: string; accessKeyId?: string }>;
  /** STS GetAccessKeyInfo; undefined when STS cannot say. */
  keyAccount(keyId: string): Promise<string | undefined>;
  /** IAM GetAccessKeyLastUsed (owner and last use); userName undefined when IAM does not know the key. */
  keyOwner(keyId: string): Promise<{ userName?: string; lastUsed?: KeyFacts['lastUsed'] }>;
  listKeys(userName: string): Promise<AccessKeyMeta[]>;
  attachedPolicies(userName: string): Promise<string[]>;
  setStatus(userName: string, keyId: string, status: KeyStatus): Promise<void>;
  createKey(userName: string): Promise<{ id: string; secret: string }>;
  /** Succeeds when the key is already gone. */
  deleteKey(userName: string, keyId: string): Promise<void>;
  /** STS GetCallerIdentity signed with these credentials: the caller's ARN. */
  identityOf(keyId: string, secret: string): Promise<string>;
}

export async function gatherFacts(ops: AwsOps, keyId: string): Promise<KeyFacts> {
  const caller = await ops.callerIdentity();
  const keyAccount = await ops.keyAccount(keyId);
  const owner = await ops.keyOwner(keyId);
  const facts: KeyFacts = { keyId, keyAccount, caller, userName: owner.userName, keys: [], attachedPolicies: [], lastUsed: owner.lastUsed };
  if (owner.userName && owner.userName !== 'root') {
    facts.keys = await ops.listKeys(owner.userName);
    facts.attachedPolicies = await ops.attachedPolicies(owner.userName);
  }
  return facts;
}

export function newJournal(plan: RotationPlan, options: RotationOptions, facts: KeyFacts, meta: { profile?: string; region: string; endpoint?: string }): Journal {
  const now = new Date().toISOString();
  const j: Journal = { version: 1, keyId: plan.keyId, status: 'running', startedAt: now, updatedAt: now, ...meta, plan, options, beforeKeys: facts.keys, files: [], steps: [] };
  saveJournal(j);
  return j;
}

export interface RunHooks {
  onStep?: (step: StepName, phase: 'start' | 'done', message: string) => void;
  isCancelled?: () => boolean;
  /** Called after each step is journaled as done (the tests' crash point). */
  afterStep?: (step: StepName) => void;
  verifyTimeoutMs?: number;
  verifyIntervalMs?: number;
}

export interface RotationOutcome {
  status: 'done' | 'rolled-back';
  keyId: string;
  newKeyId?: string;
  userName: string;
  filesUpdated: string[];
  filesSkipped: Array<{ path: string; reason: string }>;
  /** What Keysentry could not update itself: a checklist for the user. */
  checklist: string[];
  notes: string[];
}

export class RotationCancelled extends KeysentryError {
  constructor() {
    super('the rotation was cancelled');
    this.name = 'RotationCancelled';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The new key's secret, read back from a file written before a crash (it is never journaled). */
async function recoverSecret(j: Journal): Promise<string | undefined> {
  if (!j.newKeyId) return undefined;
  for (const f of [...j.files.map((r) => r.path), ...j.options.files]) {
    if (!existsSync(f)) continue;
    const s = await secretFor(readFileSync(f, 'utf8'), j.newKeyId);
    if (s) return s;
  }
  return undefined;
}

/** Keys the user has now that were not there before the rotation: ours, if any. */
async function strayKeys(ops: AwsOps, j: Journal): Promise<AccessKeyMeta[]> {
  const before = new Set([...j.beforeKeys.map((k) => k.id), j.keyId]);
  return (await ops.listKeys(j.plan.userName)).filter((k) => !before.has(k.id));
}

/** Runs (or resumes) a journaled rotation to the end. Each step is journaled before and after it runs. */
export async function runRotation(ops: AwsOps, j: Journal, hooks: RunHooks = {}): Promise<RotationOutcome> {
  const user = j.plan.userName;
  let secret: string | undefined;
  const notes = [...j.plan.notes];
  const skipped: RotationOutcome['filesSkipped'] = [];
  const updated = new Set(j.files.map((f) => f.path));

  // Resuming after the key was created but before its secret reached a file: the secret is
  // gone with the crashed process, so that key is useless. Delete it and create another.
  if (stepState(j, 'create') === 'done' && stepState(j, 'write-files') !== 'done') {
    secret = await recoverSecret(j);
    if (!secret && j.newKeyId) {
      await ops.deleteKey(user, j.newKeyId);
      notes.push(`deleted ${j.newKeyId}, created before the interruption: its secret was never saved`);
      j.newKeyId = undefined;
      j.steps = j.steps.filter((s) => s.name !== 'create' && s.name !== 'write-files');
      saveJournal(j);
    }
  }

  for (const step of j.plan.steps) {
    if (stepState(j, step.name) === 'done') continue;
    if (hooks.isCancelled?.()) throw new RotationCancelled();
    hooks.onStep?.(step.name, 'start', step.describe);
    markStep(j, step.name, 'started');
    let detail: string | undefined;
    switch (step.name) {
      case 'deactivate-exposed':
      case 'deactivate-old':
        await ops.setStatus(user, j.keyId, 'Inactive');
        break;
      case 'delete-inactive':
        if (j.plan.inactiveToDelete) await ops.deleteKey(user, j.plan.inactiveToDelete);
        break;
      case 'create': {
        // An interrupted CreateAccessKey may have succeeded: such a key has no known secret.
        for (const k of await strayKeys(ops, j)) {
          await ops.deleteKey(user, k.id);
          notes.push(`deleted ${k.id}, left by an interrupted attempt`);
        }
        const created = await ops.createKey(user);
        j.newKeyId = created.id;
        secret = created.secret;
        detail = created.id;
        break;
      }
      case 'write-files': {
        secret ??= await recoverSecret(j);
        if (!secret || !j.newKeyId) throw new KeysentryError('the new key is not available to write; roll back and rotate again');
        for (const file of j.options.files) {
          if (!existsSync(file)) {
            skipped.push({ path: file, reason: 'no longer exists' });
            continue;
          }
          const text = readFileSync(file, 'utf8');
          if (text.includes(j.newKeyId)) {
            updated.add(file);
            continue;
          }
          const next = await replaceKey(text, j.keyId, j.newKeyId, secret, file);
          if (next === undefined) {
            skipped.push({ path: file, reason: text.includes(j.keyId) ? 'the key id is there without its secret beside it' : 'the old key is not in it any more' });
            continue;
          }
          const backup = backupFile(j, file);
          j.files.push({ path: file, backup });
          saveJournal(j);
          writeFileAtomic(file, next, fileMode(file));
          updated.add(file);
        }
        detail = `${updated.size} file(s)`;
        break;
      }
      case 'verify': {
        secret ??= await recoverSecret(j);
        if (!secret || !j.newKeyId) throw new KeysentryError('the new key cannot be verified: its secret is in no file Keysentry wrote');
        const deadline = Date.now() + (hooks.verifyTimeoutMs ?? 20_000);
        let last = '';
        for (;;) {
          try {
            last = await ops.identityOf(j.newKeyId, secret);
            if (isUserArn(last, user)) break;
            last = `it signs as ${last}, not as ${user}`;
          } catch (e) {
            last = (e as Error).message;
          }
          if (Date.now() > deadline) throw new KeysentryError(`the new key ${j.newKeyId} does not work yet (${last}). IAM may still be propagating it: resume in a minute, or roll back.`);
          await sleep(hooks.verifyIntervalMs ?? 2000);
        }
        detail = last;
        break;
      }
      case 'check-last-used': {
        const { lastUsed } = await ops.keyOwner(j.keyId);
        if (lastUsed?.date && lastUsed.date > j.startedAt) notes.push(`${j.keyId} was used at ${lastUsed.date} (${lastUsed.service ?? 'unknown service'}), after the rotation began: something still uses it.`);
        detail = lastUsed?.date ?? 'never used';
        break;
      }
      case 'delete-old':
        await ops.deleteKey(user, j.keyId);
        break;
    }
    markStep(j, step.name, 'done', detail);
    hooks.onStep?.(step.name, 'done', step.describe);
    hooks.afterStep?.(step.name);
  }
  j.status = 'done';
  j.error = undefined;
  saveJournal(j);
  // The backups hold the old secret; once that key is deleted they are only clutter.
  if (!j.options.keepOldInactive) for (const f of j.files) if (f.backup) rmSync(f.backup, { force: true });
  return {
    status: 'done',
    keyId: j.keyId,
    newKeyId: j.newKeyId,
    userName: user,
    filesUpdated: [...updated],
    filesSkipped: skipped,
    checklist: consumerChecklist(j, skipped),
    notes,
  };
}

function consumerChecklist(j: Journal, skipped: RotationOutcome['filesSkipped']): string[] {
  const list = skipped.map((s) => `Update ${s.path} by hand (${s.reason}).`);
  list.push(
    `Replace ${j.keyId} with ${j.newKeyId ?? 'the new key'} wherever else it is used: CI/CD secrets, servers and containers, other machines, teammates' profiles.`,
    `Search CloudTrail for what ${j.keyId} did while exposed (Event history → filter "AWS access key" = ${j.keyId}).`,
    'Remove the key from git history too (git filter-repo or BFG), and ask collaborators to re-clone; rotating is what protects you, rewriting history only tidies up.',
  );
  if (j.plan.notes.some((n) => n.includes('AWSCompromisedKeyQuarantine'))) list.push(`After checking CloudTrail, detach the AWSCompromisedKeyQuarantine policy from ${j.plan.userName} (IAM → Users → ${j.plan.userName} → Permissions).`);
  if (j.options.keepOldInactive) list.push(`${j.keyId} is kept inactive: delete it once nothing breaks.`);
  return list;
}

/** Undoes a rotation that has not deleted the old key: the new key deleted, files restored, the old key active again. */
export async function rollbackRotation(ops: AwsOps, j: Journal): Promise<RotationOutcome> {
  const user = j.plan.userName;
  if (stepState(j, 'delete-old') === 'done' || j.status === 'done') {
    throw new KeysentryError(`the rotation of ${j.keyId} is complete (the old key is deleted); there is nothing to roll back`);
  }
  const notes: string[] = [];
  const stray = new Set((await strayKeys(ops, j)).map((k) => k.id));
  if (j.newKeyId) stray.add(j.newKeyId);
  for (const id of stray) {
    await ops.deleteKey(user, id);
    notes.push(`deleted the new key ${id}`);
  }
  const restored: string[] = [];
  for (const f of [...j.files].reverse()) {
    if (!f.backup || !existsSync(f.backup)) continue;
    writeFileAtomic(f.path, readFileSync(f.backup), existsSync(f.path) ? fileMode(f.path) : undefined);
    restored.push(f.path);
  }
  const deactivated = ['deactivate-exposed', 'deactivate-old'].some((s) => stepState(j, s as StepName) !== undefined);
  const wasActive = j.beforeKeys.find((k) => k.id === j.keyId)?.status !== 'Inactive';
  if (deactivated && wasActive) {
    await ops.setStatus(user, j.keyId, 'Active');
    notes.push(`reactivated ${j.keyId} so you keep a working key; it is still exposed, so rotate it again soon`);
  }
  if (stepState(j, 'delete-inactive') === 'done') notes.push(`the inactive key ${j.plan.inactiveToDelete} deleted to make room cannot be restored`);
  j.status = 'rolled-back';
  saveJournal(j);
  return { status: 'rolled-back', keyId: j.keyId, userName: user, filesUpdated: restored, filesSkipped: [], checklist: [], notes };
}

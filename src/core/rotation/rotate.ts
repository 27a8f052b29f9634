import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { KeysentryError } from '../types';
import { sweepStaleTemps, writeFileAtomic, writeTarget } from '../atomicFile';
import { maskSecret } from '../mask';
import { isUserArn } from './plan';
import { allJournals, dropUndo, keepOldSecret, markStep, oldSecretOf, saveJournal, stepState } from './journal';
import { readTextFile } from './files';
import { describePlaces, locatePairs, substitute } from './locate';
import { addProfilePair, profileKeyId, removeProfilePair } from './profile';
import type { AccessKeyMeta, FileRecord, Journal, KeyFacts, KeyStatus, RotationOptions, RotationPlan, StepName } from './types';

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
  /** IAM's time (ISO) of its latest answer, from the response's Date header; never this machine's clock. */
  serverTime?(): string | undefined;
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
  const j: Journal = { version: 2, keyId: plan.keyId, status: 'running', startedAt: now, updatedAt: now, ...meta, plan, options, beforeKeys: facts.keys, files: [], steps: [] };
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
  /**
   * Asked right before the new secret is written, with the files about to take it: why they must
   * not (one git tracks now, though it did not when the rotation was planned), or undefined.
   */
  refuseWrite?: (files: Array<{ path: string; target: string }>) => Promise<string | undefined>;
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
  /** Where the new key went instead of (or besides) the files: the user's choice for git-tracked files. */
  destination?: { toProfile?: string; untracked?: string[] };
}

/** No listed file took the new pair: its secret exists nowhere but in this process, so the rotation is undone at once. */
export class NothingWritten extends KeysentryError {
  constructor(message: string) {
    super(message);
    this.name = 'NothingWritten';
  }
}

export class RotationCancelled extends KeysentryError {
  constructor() {
    super('the rotation was cancelled');
    this.name = 'RotationCancelled';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const maskValue = (s: string): string => maskSecret('aws-secret-access-key', s);

/** The files the plan found able to take the new key (journals of earlier versions: every listed file). */
const plannedFiles = (j: Journal): Array<{ path: string; target: string; places: string[]; profile?: string; add?: boolean }> =>
  j.plan.files
    ? j.plan.files.filter((c) => c.ok).map((c) => ({ path: c.path, target: c.target, places: c.places, ...(c.profile ? { profile: c.profile } : {}), ...(c.add ? { add: true } : {}) }))
    : j.options.files.map((f) => ({ path: f, target: f, places: [] }));

/**
 * Why a listed path no longer leads to the file the plan chose (a symlink re-pointed or replaced
 * since, e.g. by a dotfile manager), or undefined. Resolved again at write and verify time: a file
 * the path does not name now is one the SDK would not read, so it is never written or reported updated.
 */
function moved(p: { path: string; target: string }): string | undefined {
  let now: string;
  try {
    now = writeTarget(p.path);
  } catch (e) {
    return `${(e as Error).message} now (it led to ${p.target} when the rotation was planned)`;
  }
  return now === p.target ? undefined : `${p.path} now leads to ${now}, not to ${p.target} as when the rotation was planned; rotate again for it`;
}

/** The new pair read back from a file: its secret when the new id is there, paired by structure, with the secret Keysentry wrote. */
function newPairIn(j: Journal, target: string): { secret?: string; problem?: string } {
  if (!j.newKeyId) return { problem: 'no new key yet' };
  const { text, problem } = readTextFile(target);
  if (text === undefined) return { problem };
  const { pairs } = locatePairs(text, j.newKeyId, target);
  if (!pairs.length) return { problem: `${j.newKeyId} is not in it with its secret beside it` };
  const secrets = new Set(pairs.map((p) => p.secretValue));
  const [secret] = secrets;
  if (secrets.size > 1 || (j.newSecretSha256 && sha256(secret!) !== j.newSecretSha256)) return { problem: `the secret beside ${j.newKeyId} is not the one Keysentry wrote (now ${[...secrets].map(maskValue).join(', ')})` };
  return { secret };
}

/** The new key's secret, read back from a file written before a crash (it is never journaled). */
function recoverSecret(j: Journal): string | undefined {
  for (const f of j.files) {
    if (f.state === 'skipped' || f.state === 'restored') continue;
    const { secret } = newPairIn(j, f.target);
    if (secret) return secret;
  }
  return undefined;
}

/** Key ids other journals of the same user created or rotate: never this rotation's to delete. */
function ownedElsewhere(j: Journal): Set<string> {
  const out = new Set<string>();
  for (const o of allJournals()) {
    if (o.keyId === j.keyId || o.plan.userName !== j.plan.userName || o.plan.account !== j.plan.account) continue;
    out.add(o.keyId);
    if (o.newKeyId) out.add(o.newKeyId);
  }
  return out;
}

/** A CreateAccessKey answers within seconds; a key IAM dates later than this after the listing before it is not that call's. */
const CREATE_WINDOW_MS = 10 * 60_000;
/** IAM's Date header and its CreateDate may come from different hosts: a little slack before the listing. */
const CREATE_SLACK_MS = 5_000;

/**
 * The keys in IAM (`truth`) this rotation provably created: only the journaled new key, whose id
 * came from CreateAccessKey's own answer. IAM offers no idempotency token or tag for access keys,
 * so a key that merely appeared around an interrupted call is never taken for ours.
 */
function ourNewKeys(j: Journal, truth: AccessKeyMeta[]): AccessKeyMeta[] {
  return truth.filter((k) => k.id === j.newKeyId);
}

/**
 * After a CreateAccessKey whose outcome is unknown (journaled as started, its answer never
 * recorded): the keys that appeared since the listing just before it and that the call could have
 * made: not listed before, claimed by no other journal, not declared someone else's (--not-ours),
 * and created within CREATE_WINDOW_MS of that listing by IAM's own clock (this machine's clock is
 * never compared with IAM's). Each may be the call's key (its secret lost) or another's (a
 * teammate's, CI's, the console's): Keysentry cannot tell, so it neither deletes nor goes on.
 */
export function unexplainedKeys(j: Journal, truth: AccessKeyMeta[]): AccessKeyMeta[] {
  if (j.newKeyId || stepState(j, 'create') !== 'started') return [];
  const before = new Set([...j.beforeKeys.map((k) => k.id), j.keyId, ...(j.createWindow?.keys ?? []), ...(j.notOurs ?? [])]);
  const others = ownedElsewhere(j);
  const inWindow = (k: AccessKeyMeta): boolean => {
    const created = k.created ? Date.parse(k.created) : NaN;
    if (Number.isNaN(created)) return true;
    const since = j.createWindow?.since ? Date.parse(j.createWindow.since) : NaN;
    if (!Number.isNaN(since)) return created >= since - CREATE_SLACK_MS && created <= since + CREATE_WINDOW_MS;
    // No IAM time was recorded (an endpoint without a Date header, or killed before the listing): any new key may be the call's.
    return true;
  };
  return truth.filter((k) => !before.has(k.id) && !others.has(k.id) && inWindow(k));
}

/** Refuses to go on while a key that may or may not be this rotation's exists: names it and says how to decide. */
function refuseUnexplained(j: Journal, keys: AccessKeyMeta[], mode: '--resume' | '--rollback'): never {
  const user = j.plan.userName;
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  throw new UnexplainedKeys(
    [
      `a CreateAccessKey for ${user} was interrupted before its answer reached Keysentry, and IAM now lists ${keys.length === 1 ? 'a key' : 'keys'} that ${keys.length === 1 ? 'was' : 'were'} not there before it:`,
      ...keys.map((k) => `  ${k.id} (${k.status}${k.created ? `, created ${k.created}` : ''})`),
      `${keys.length === 1 ? 'It' : 'Each'} may be the key that call made (its secret is lost), or someone else's, created meanwhile (a teammate, CI, the console, Keysentry on another machine).`,
      'Keysentry deletes only keys it can prove it created, so it stopped here and changed nothing. Decide for each:',
      ...keys.flatMap((k) => [
        `  if ${k.id} is not used anywhere (the lost one): aws iam delete-access-key --user-name ${q(user)} --access-key-id ${k.id}`,
        `  if ${k.id} is someone else's: add --not-ours ${k.id} (Keysentry then never touches it)`,
      ]),
      `then run "keysentry rotate ${j.keyId} ${mode}" again.`,
    ].join('\n'),
    keys.map((k) => k.id),
  );
}

export class UnexplainedKeys extends KeysentryError {
  constructor(
    message: string,
    readonly keyIds: string[],
  ) {
    super(message);
    this.name = 'UnexplainedKeys';
  }
}

/** Runs (or resumes) a journaled rotation to the end. Each step is journaled before and after it runs; every destructive step first re-reads IAM. */
export async function runRotation(ops: AwsOps, j: Journal, hooks: RunHooks = {}): Promise<RotationOutcome> {
  const user = j.plan.userName;
  let secret: string | undefined;
  const notes = [...j.plan.notes];
  const skipped: RotationOutcome['filesSkipped'] = (j.plan.files ?? []).filter((c) => !c.ok).map((c) => ({ path: c.path, reason: c.reason ?? 'not usable' }));
  let verifiedNow = false;
  const oldKey = async (): Promise<AccessKeyMeta | undefined> => (await ops.listKeys(user)).find((k) => k.id === j.keyId);
  // A process killed mid-write may have left a temporary copy (with a secret) beside a file.
  for (const f of plannedFiles(j)) sweepStaleTemps(f.target);
  // A file git started tracking since the plan is refused before anything changes (#13.3).
  if (stepState(j, 'write-files') !== 'done') {
    const toWrite = plannedFiles(j).filter((p) => !j.files.some((f) => f.target === p.target && (f.state === 'written' || f.state === 'verified' || f.state === 'skipped')));
    const refusal = toWrite.length ? await hooks.refuseWrite?.(toWrite) : undefined;
    if (refusal) throw new KeysentryError(refusal);
  }

  // Resuming after a rollback that stopped part-way: files already given back the old pair are
  // written again (with a new key if the new secret is in no file any more).
  if (j.files.some((f) => f.state === 'restored')) {
    for (const f of j.files) if (f.state === 'restored') f.state = 'pending';
    j.steps = j.steps.filter((s) => s.name !== 'write-files' && s.name !== 'verify');
    saveJournal(j);
  }

  // Resuming after the key was created but before its secret reached a file: the secret is gone
  // with the crashed process, so that key is useless. Delete it and create another.
  if (stepState(j, 'create') === 'done' && j.newKeyId && stepState(j, 'write-files') !== 'done') {
    secret = recoverSecret(j);
    if (!secret) {
      await ops.deleteKey(user, j.newKeyId);
      notes.push(`deleted ${j.newKeyId}, created before the interruption: its secret was never saved`);
      j.newKeyId = undefined;
      j.newSecretSha256 = undefined;
      j.files = j.files.filter((f) => f.state === 'skipped');
      j.steps = j.steps.filter((s) => s.name !== 'create' && s.name !== 'write-files');
      saveJournal(j);
    }
  }

  /** The new pair, re-read from disk and signed with: at least one file must hold a working new key. */
  const verifyFromDisk = async (): Promise<string> => {
    if (!j.newKeyId) throw new KeysentryError('there is no new key to verify; roll back and rotate again');
    const holding: FileRecord[] = [];
    let pairSecret: string | undefined;
    for (const f of j.files) {
      if (f.state !== 'written' && f.state !== 'verified' && f.state !== 'pending') continue;
      const away = moved(f);
      if (away) {
        // Not what the path names any more: it proves nothing about the key in use (left as
        // written, so a rollback still gives it the old pair back).
        if (!skipped.some((x) => x.path === f.path)) skipped.push({ path: f.path, reason: away });
        continue;
      }
      const read = newPairIn(j, f.target);
      if (read.secret) {
        holding.push(f);
        pairSecret = read.secret;
      } else if (f.state !== 'pending') {
        f.state = 'skipped';
        f.reason = `changed after Keysentry wrote it: ${read.problem}`;
        skipped.push({ path: f.path, reason: f.reason });
      }
    }
    if (!pairSecret) {
      const why = skipped.filter((x) => j.files.some((f) => f.path === x.path)).map((x) => `\n  ${x.path}: ${x.reason}`).join('');
      throw new KeysentryError(`the new key ${j.newKeyId} is in no file Keysentry can read back, so the old key ${j.keyId} is left as it is.${why}\nRoll back (--rollback), or put the new key back and resume.`);
    }
    const deadline = Date.now() + (hooks.verifyTimeoutMs ?? 20_000);
    let last = '';
    for (;;) {
      try {
        last = await ops.identityOf(j.newKeyId, pairSecret);
        if (isUserArn(last, user)) break;
        last = `it signs as ${last}, not as ${user}`;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) throw new KeysentryError(`the new key ${j.newKeyId}, as read back from ${holding[0]!.path}, does not work yet (${last}). IAM may still be propagating it: resume in a minute, or roll back. The old key is left as it is.`);
      await sleep(hooks.verifyIntervalMs ?? 2000);
    }
    for (const f of holding) f.state = 'verified';
    saveJournal(j);
    verifiedNow = true;
    return `${last} (read back from ${holding.length} file(s))`;
  };

  // IAM is the truth: a deactivation journaled as done but undone since (a rollback that stopped
  // part-way, or someone in the console) is taken again.
  if (j.plan.steps.some((s) => s.name === 'deactivate-exposed' || s.name === 'deactivate-old')) {
    const now = (await ops.listKeys(user)).find((k) => k.id === j.keyId);
    if (now?.status === 'Active') j.steps = j.steps.filter((s) => s.name !== 'deactivate-exposed' && s.name !== 'deactivate-old');
  }

  for (const step of j.plan.steps) {
    if (stepState(j, step.name) === 'done') continue;
    if (hooks.isCancelled?.()) throw new RotationCancelled();
    hooks.onStep?.(step.name, 'start', step.describe);
    markStep(j, step.name, 'started');
    let detail: string | undefined;
    switch (step.name) {
      case 'deactivate-exposed': {
        if (!verifiedNow) await verifyFromDisk();
        const old = await oldKey();
        if (old?.status === 'Active') await ops.setStatus(user, j.keyId, 'Inactive');
        else detail = old ? 'already inactive' : 'already deleted';
        break;
      }
      case 'delete-inactive': {
        const id = j.plan.inactiveToDelete;
        const k = id ? (await ops.listKeys(user)).find((x) => x.id === id) : undefined;
        if (k?.status === 'Active') throw new KeysentryError(`${id} is active again since the plan; Keysentry never deletes an active key. Roll back, or deactivate it yourself and resume.`);
        if (k) await ops.deleteKey(user, k.id);
        break;
      }
      case 'create': {
        // An interrupted CreateAccessKey may have succeeded (its key's secret is lost), or a key
        // that appeared since may be another's: never deleted, the user decides.
        const listed = await ops.listKeys(user);
        const unknown = unexplainedKeys(j, listed);
        if (unknown.length) refuseUnexplained(j, unknown, '--resume');
        // What IAM holds, and IAM's time, just before the call: how a resume or rollback tells
        // which keys appeared around an interrupted call, without trusting this machine's clock.
        j.createWindow = { keys: listed.map((k) => k.id), ...(ops.serverTime?.() ? { since: ops.serverTime() } : {}) };
        saveJournal(j);
        const created = await ops.createKey(user);
        j.newKeyId = created.id;
        j.newSecretSha256 = sha256(created.secret);
        secret = created.secret;
        detail = created.id;
        break;
      }
      case 'write-files': {
        secret ??= recoverSecret(j);
        if (!secret || !j.newKeyId) throw new KeysentryError('the new key is not available to write; roll back and rotate again');
        // Re-checked at write time (a resume, or a long confirm prompt, may come long after the plan).
        const toWrite = plannedFiles(j).filter((p) => !j.files.some((f) => f.target === p.target && (f.state === 'written' || f.state === 'verified' || f.state === 'skipped')));
        const refusal = toWrite.length ? await hooks.refuseWrite?.(toWrite) : undefined;
        if (refusal) throw new KeysentryError(refusal);
        for (const planned of plannedFiles(j)) {
          let rec = j.files.find((f) => f.target === planned.target);
          if (rec && (rec.state === 'written' || rec.state === 'verified' || rec.state === 'skipped')) continue;
          const away = moved(planned);
          if (away) {
            if (rec) Object.assign(rec, { state: 'skipped', reason: away });
            else j.files.push({ path: planned.path, target: planned.target, state: 'skipped', places: planned.places, reason: away });
            saveJournal(j);
            continue;
          }
          if (planned.add && planned.profile) {
            addToProfile(j, planned as typeof planned & { profile: string }, rec, secret);
            continue;
          }
          const { text, problem } = readTextFile(planned.target);
          const skip = (reason: string): void => {
            if (rec) Object.assign(rec, { state: 'skipped', reason });
            else j.files.push({ path: planned.path, target: planned.target, state: 'skipped', places: planned.places, reason });
            saveJournal(j);
          };
          if (text === undefined) {
            skip(problem ?? 'unreadable');
            continue;
          }
          if (newPairIn(j, planned.target).secret) {
            if (rec) rec.state = 'written';
            else j.files.push({ path: planned.path, target: planned.target, state: 'written', places: planned.places });
            saveJournal(j);
            continue;
          }
          const { pairs, problems } = locatePairs(text, j.keyId, planned.target);
          const olds = new Set(pairs.map((p) => p.secretValue));
          if (!pairs.length || olds.size !== 1) {
            skip(pairs.length ? `${j.keyId} has different secrets beside it` : `changed since the plan: ${problems.join('; ')}`);
            continue;
          }
          if (!rec) {
            rec = { path: planned.path, target: planned.target, state: 'pending', places: pairs.map((p) => p.place) };
            j.files.push(rec);
          }
          rec.state = 'pending';
          rec.places = pairs.map((p) => p.place);
          keepOldSecret(j, rec, [...olds][0]!);
          saveJournal(j);
          try {
            writeFileAtomic(planned.target, substitute(text, pairs, j.newKeyId, secret), undefined, { refuseHardLinks: true });
          } catch (e) {
            // Refused or failed before the rename: the file still holds the old pair, untouched.
            if (!(e instanceof KeysentryError) && !(e as NodeJS.ErrnoException).code) throw e;
            skip(`not written: ${(e as Error).message}`);
            continue;
          }
          rec.state = 'written';
          saveJournal(j);
        }
        for (const f of j.files) if (f.state === 'skipped' && !skipped.some((s) => s.path === f.path)) skipped.push({ path: f.path, reason: f.reason ?? 'not updated' });
        const written = j.files.filter((f) => f.state === 'written' || f.state === 'verified');
        if (!written.length) throw new NothingWritten(`no file took the new key (${skipped.map((s) => `${s.path}: ${s.reason}`).join('; ') || 'none listed'})`);
        detail = `${written.length} file(s)`;
        break;
      }
      case 'verify':
        detail = await verifyFromDisk();
        break;
      case 'check-last-used': {
        const { lastUsed } = await ops.keyOwner(j.keyId);
        if (lastUsed?.date && lastUsed.date > j.startedAt) notes.push(`${j.keyId} was used at ${lastUsed.date} (${lastUsed.service ?? 'unknown service'}), after the rotation began: something still uses it.`);
        detail = lastUsed?.date ?? 'never used';
        break;
      }
      case 'deactivate-old': {
        if (!verifiedNow) await verifyFromDisk();
        const old = await oldKey();
        if (old?.status === 'Active') await ops.setStatus(user, j.keyId, 'Inactive');
        else detail = old ? 'already inactive' : 'already deleted';
        break;
      }
      case 'delete-old':
        if (!verifiedNow) await verifyFromDisk();
        await ops.deleteKey(user, j.keyId);
        break;
    }
    markStep(j, step.name, 'done', detail);
    hooks.onStep?.(step.name, 'done', step.describe);
    hooks.afterStep?.(step.name);
  }
  // #13.5: the old secret left elsewhere in an updated file (a comment "# was <secret>", another
  // variable) is reported by line, masked, and never changed: only the pair located by structure
  // is rewritten, so a value whose meaning Keysentry cannot tell is the user's to remove.
  for (const f of j.files) {
    if ((f.state !== 'verified' && f.state !== 'written') || moved(f)) continue;
    const oldSecret = oldSecretOf(j, f);
    const { text } = oldSecret ? readTextFile(f.target) : {};
    if (!oldSecret || text === undefined) continue;
    const lines = text.split('\n').flatMap((l, i) => (l.includes(oldSecret) ? [i + 1] : []));
    for (const n of lines) notes.push(`${f.path}: the old secret (${maskValue(oldSecret)}) also appears at line ${n} (not changed): remove it by hand.`);
  }
  j.status = 'done';
  j.error = undefined;
  dropUndo(j);
  saveJournal(j);
  return {
    status: 'done',
    keyId: j.keyId,
    newKeyId: j.newKeyId,
    userName: user,
    // Only files the listed path still names: never "Updated" for one the SDK would not read.
    filesUpdated: j.files.filter((f) => (f.state === 'verified' || f.state === 'written') && !moved(f)).map((f) => f.path),
    filesSkipped: skipped,
    checklist: consumerChecklist(j, skipped),
    notes,
    ...(j.options.toProfile || j.options.untracked?.length ? { destination: { ...(j.options.toProfile ? { toProfile: j.options.toProfile } : {}), ...(j.options.untracked?.length ? { untracked: j.options.untracked } : {}) } } : {}),
  };
}

/** Adds the new pair to a credentials profile (`--to-profile`), creating the file (0600) or the section when missing. */
function addToProfile(j: Journal, planned: { path: string; target: string; places: string[]; profile: string }, found: FileRecord | undefined, secret: string): void {
  let rec = found;
  const skip = (reason: string): void => {
    if (rec) Object.assign(rec, { state: 'skipped', reason });
    else j.files.push({ path: planned.path, target: planned.target, state: 'skipped', places: planned.places, reason, profile: planned.profile, add: true });
    saveJournal(j);
  };
  const exists = existsSync(planned.target);
  const read = exists ? readTextFile(planned.target) : { text: '' };
  if (read.text === undefined) return skip(read.problem ?? 'unreadable');
  if (!rec) {
    rec = { path: planned.path, target: planned.target, state: 'pending', places: planned.places, profile: planned.profile, add: true };
    j.files.push(rec);
  }
  if (newPairIn(j, planned.target).secret) {
    rec.state = 'written';
    saveJournal(j);
    return;
  }
  const held = profileKeyId(read.text, planned.profile);
  if (held) return skip(`profile [${planned.profile}] holds ${held} now (changed since the plan)`);
  rec.state = 'pending';
  saveJournal(j);
  try {
    if (!exists) mkdirSync(path.dirname(planned.target), { recursive: true, mode: 0o700 });
    writeFileAtomic(planned.target, addProfilePair(read.text, planned.profile, j.newKeyId!, secret), exists ? undefined : 0o600, { refuseHardLinks: true });
  } catch (e) {
    if (!(e instanceof KeysentryError) && !(e as NodeJS.ErrnoException).code) throw e;
    return skip(`not written: ${(e as Error).message}`);
  }
  rec.state = 'written';
  saveJournal(j);
}

/** Takes the pair `addToProfile` added out again: 'restored', 'absent' (never written), or why it stays. */
function takeOutOfProfile(j: Journal, f: FileRecord): 'restored' | 'absent' | string {
  if (!existsSync(f.target)) return 'absent';
  const { text, problem } = readTextFile(f.target);
  if (text === undefined) return `cannot be read: ${problem}`;
  const { secret, problem: changed } = newPairIn(j, f.target);
  if (!secret) {
    if (!text.includes(j.newKeyId!)) {
      f.state = 'restored';
      saveJournal(j);
      return 'absent';
    }
    return `changed since the rotation (${changed}); left as it is, and ${j.newKeyId} kept`;
  }
  const out = removeProfilePair(text, f.profile!, j.newKeyId!, secret);
  if (out === undefined) return `profile [${f.profile}] was edited since the rotation; left as it is, and ${j.newKeyId} kept`;
  try {
    writeFileAtomic(f.target, out, undefined, { refuseHardLinks: true });
  } catch (e) {
    if (!(e instanceof KeysentryError) && !(e as NodeJS.ErrnoException).code) throw e;
    return `cannot be written back: ${(e as Error).message}; it still holds ${j.newKeyId}`;
  }
  f.state = 'restored';
  saveJournal(j);
  return 'restored';
}

function consumerChecklist(j: Journal, skipped: RotationOutcome['filesSkipped']): string[] {
  const list = skipped.map((s) => `Update ${s.path} by hand (${s.reason}).`);
  if (j.options.toProfile) list.push(`Point what used ${j.keyId} at the profile "${j.options.toProfile}" (AWS_PROFILE=${j.options.toProfile}, or --profile ${j.options.toProfile}).`);
  for (const f of j.options.untracked ?? []) list.push(`Commit the removal of ${f} from git (it stays on disk, now ignored): git commit -m "Stop tracking ${f.split(/[\\/]/).pop()}".`);
  list.push(
    `Replace ${j.keyId} with ${j.newKeyId ?? 'the new key'} wherever else it is used: CI/CD secrets, servers and containers, other machines, teammates' profiles.`,
    `Search CloudTrail for what ${j.keyId} did while exposed (Event history → filter "AWS access key" = ${j.keyId}).`,
    'Remove the key from git history too (git filter-repo or BFG), and ask collaborators to re-clone; rotating is what protects you, rewriting history only tidies up.',
  );
  if (j.plan.notes.some((n) => n.includes('AWSCompromisedKeyQuarantine'))) list.push(`After checking CloudTrail, detach the AWSCompromisedKeyQuarantine policy from ${j.plan.userName} (IAM → Users → ${j.plan.userName} → Permissions).`);
  if (j.options.keepOldInactive) list.push(`${j.keyId} is kept inactive: delete it once nothing breaks.`);
  return list;
}


/** Files larger than this are not scanned for the new id: they count as still holding it. */
const MAX_SCAN_BYTES = 64 * 1024 * 1024;

/**
 * Whether a file that cannot be read as text may still hold `keyId`: true unless it is gone, or is
 * a regular file (never a FIFO or a device, which could hang) of bounded size whose bytes do not
 * contain the id. An id is ASCII, so a byte search finds it whatever the file's encoding.
 */
function mayHoldKey(file: string, keyId: string): boolean {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  if (!st.isFile() || st.size > MAX_SCAN_BYTES) return true;
  try {
    return readFileSync(file).includes(Buffer.from(keyId, 'latin1'));
  } catch {
    return true;
  }
}

/**
 * Undoes a rotation that has not deleted the old key, reading IAM first:
 * - the old key is gone from IAM (an interrupted delete reached AWS): a rollback would leave no
 *   working key, so the rotation is finished instead;
 * - otherwise the old key is made active again first, then each file gets the old id and secret
 *   back at the places the new ones were put (nothing else in it changes; a file whose pair changed
 *   since is left alone and shown), and only then the new key is deleted, unless a file that could
 *   not be restored still depends on it.
 */
export async function rollbackRotation(ops: AwsOps, j: Journal, hooks: RunHooks = {}): Promise<RotationOutcome> {
  const user = j.plan.userName;
  if (stepState(j, 'delete-old') === 'done' || j.status === 'done') {
    throw new KeysentryError(`the rotation of ${j.keyId} is complete (the old key is deleted); there is nothing to roll back`);
  }
  for (const f of j.files) sweepStaleTemps(f.target);
  const truth = await ops.listKeys(user);
  const old = truth.find((k) => k.id === j.keyId);
  if (!old) {
    const outcome = await runRotation(ops, j, hooks);
    outcome.notes.unshift(`${j.keyId} is already deleted in IAM (an interrupted step reached AWS, or someone deleted it): rolling back would leave no working key, so Keysentry finished the rotation instead.`);
    return outcome;
  }
  // Checked before anything changes: a key that may be someone else's is never deleted.
  const unknown = unexplainedKeys(j, truth);
  if (unknown.length) refuseUnexplained(j, unknown, '--rollback');
  const notes: string[] = [];
  const wasActive = j.beforeKeys.find((k) => k.id === j.keyId)?.status !== 'Inactive';
  if (wasActive && old.status === 'Inactive') {
    // Journaled first: a resume after a rollback that stops past this point must deactivate the
    // old key again, not skip those steps as done (a "rotated" with the leaked key active).
    j.steps = j.steps.filter((s) => s.name !== 'deactivate-exposed' && s.name !== 'deactivate-old' && s.name !== 'check-last-used');
    saveJournal(j);
    await ops.setStatus(user, j.keyId, 'Active');
    notes.push(`reactivated ${j.keyId} so you keep a working key; it is still exposed, so rotate it again soon`);
  }
  const restored: string[] = [];
  const leftAlone: RotationOutcome['filesSkipped'] = [];
  let dependsOnNew = false;
  for (const f of [...j.files].reverse()) {
    if (f.state === 'skipped' || f.state === 'restored' || !j.newKeyId) continue;
    if (f.add && f.profile) {
      const r = takeOutOfProfile(j, f);
      if (r === 'restored') restored.push(f.path);
      else if (r !== 'absent') {
        dependsOnNew = true;
        leftAlone.push({ path: f.path, reason: r });
      }
      continue;
    }
    const { text, problem } = readTextFile(f.target);
    if (text === undefined) {
      // A file Keysentry wrote that it cannot read back as text (a byte that is not UTF-8 saved
      // into it, grown past the size bound, replaced by a FIFO or a directory) may still hold the
      // new key: unless its bytes show the new id is gone, the new key stays alive for it.
      if (mayHoldKey(f.target, j.newKeyId)) {
        dependsOnNew = true;
        leftAlone.push({ path: f.path, reason: `${problem ?? 'unreadable'}, so Keysentry cannot tell whether it still holds ${j.newKeyId}; left as it is` });
      } else {
        leftAlone.push({ path: f.path, reason: `${problem ?? 'unreadable'}; ${j.newKeyId} is no longer in it. Left as it is.` });
        f.state = 'skipped';
        f.reason = 'changed since the rotation';
        saveJournal(j);
      }
      continue;
    }
    const { pairs } = locatePairs(text, j.newKeyId, f.target);
    if (!pairs.length) {
      if (f.state === 'pending' && locatePairs(text, j.keyId, f.target).pairs.length) {
        f.state = 'restored'; // interrupted before the write: it still holds the old key
        saveJournal(j);
        continue;
      }
      const now = describePlaces(text, f.target, f.places, maskValue);
      leftAlone.push({ path: f.path, reason: `changed since the rotation: ${j.newKeyId} is no longer there (was at ${f.places.join(', ')}; now ${now.join(', ') || 'those names are gone'}). Left as it is.` });
      f.state = 'skipped';
      f.reason = 'changed since the rotation';
      saveJournal(j);
      continue;
    }
    const here = new Set(pairs.map((p) => p.secretValue));
    const oldSecret = oldSecretOf(j, f);
    if (here.size !== 1 || (j.newSecretSha256 && sha256([...here][0]!) !== j.newSecretSha256) || !oldSecret) {
      dependsOnNew = true;
      leftAlone.push({
        path: f.path,
        reason: !oldSecret
          ? `the old secret kept for it is gone, so it cannot be put back; it still holds ${j.newKeyId}`
          : `changed since the rotation: the secret beside ${j.newKeyId} is now ${[...here].map(maskValue).join(', ')}, not the one Keysentry wrote. Left as it is.`,
      });
      continue;
    }
    try {
      writeFileAtomic(f.target, substitute(text, pairs, j.keyId, oldSecret), undefined, { refuseHardLinks: true });
    } catch (e) {
      if (!(e instanceof KeysentryError) && !(e as NodeJS.ErrnoException).code) throw e;
      dependsOnNew = true;
      leftAlone.push({ path: f.path, reason: `cannot be written back: ${(e as Error).message}; it still holds ${j.newKeyId}` });
      continue;
    }
    f.state = 'restored';
    saveJournal(j);
    restored.push(f.path);
  }
  if (dependsOnNew) {
    j.error = 'rollback stopped: a file still holds the new key';
    saveJournal(j);
    throw new KeysentryError(
      `the rollback stopped before deleting the new key ${j.newKeyId}, because a file may still use it and changed since the rotation:\n${leftAlone.map((s) => `  ${s.path}: ${s.reason}`).join('\n')}\n` +
        `${j.keyId} ${old.status === 'Inactive' && !wasActive ? 'is inactive' : 'works again'}, and ${j.newKeyId} is kept so that file keeps working. Put the old key back in it by hand and run --rollback again, or --resume to finish the rotation.`,
    );
  }
  for (const k of ourNewKeys(j, truth)) {
    await ops.deleteKey(user, k.id);
    notes.push(`deleted the new key ${k.id}`);
  }
  if (stepState(j, 'delete-inactive') === 'done') notes.push(`the inactive key ${j.plan.inactiveToDelete} deleted to make room cannot be restored`);
  j.status = 'rolled-back';
  dropUndo(j);
  saveJournal(j);
  return { status: 'rolled-back', keyId: j.keyId, userName: user, filesUpdated: restored, filesSkipped: leftAlone, checklist: [], notes };
}

import { existsSync } from 'node:fs';
import path from 'node:path';
import { sharedCredentialsHold } from '../core/rotation/files';
import { regionOf, resolveTarget } from '../aws/clients';
import { IamOps } from '../aws/iamOps';
import { credentialsFile } from '../core/awsProfiles';
import { redact } from '../core/mask';
import { LockHeld, type Lock } from '../core/fileLock';
import { inspectFiles } from '../core/rotation/files';
import { inspectProfile } from '../core/rotation/profile';
import { writeTarget } from '../core/atomicFile';
import { exposesSecret, gitExposure, untrackAndIgnore, type GitExposure } from '../git/untrack';
import { loadJournal, lockKey, lockUser, probeKeyLock, saveJournal, unfinishedJournals } from '../core/rotation/journal';
import { checkFilesUsable, checkKeyId, planRotation, RotationRefused } from '../core/rotation/plan';
import { gatherFacts, newJournal, NothingWritten, rollbackRotation, RotationCancelled, runRotation, UnexplainedKeys, type AwsOps, type RotationOutcome, type RunHooks } from '../core/rotation/rotate';
import type { Journal, RotationPlan, StepName } from '../core/rotation/types';
import { scanPaths } from '../core/detect/scanFiles';
import { KeysentryError } from '../core/types';
import { gitTracks } from '../git/files';
import { formatFlag, parseArgs } from './args';
import type { Io } from './io';
import { gitSource } from './scan';

export const ROTATE_USAGE = `usage: keysentry rotate ACCESS_KEY_ID [--profile P] [--region R] [--endpoint-url URL]
         [--update FILE]... [--to-profile NAME] [--untrack] [--exposed | --not-exposed]
         [--keep-old-inactive] [--delete-inactive] [--yes] [--plan] [--format text|json] [--resume | --rollback]
         [--not-ours KEY_ID]...

Rotates a leaked IAM access key, signing with your own AWS identity (never the leaked key):
identifies the key's owner, creates a new key, writes it
into every file that held the old one (default: the files "keysentry scan" finds it in here, and
the shared credentials file; --update names them instead), verifies it from the files, then
deactivates the old key (at once when it is exposed) and deletes it. Every step is journaled in ~/.keysentry/rotations before it is taken: after a
crash, a cancel or an error, --resume finishes the rotation and --rollback undoes it.
The new secret goes only into those files: never to the terminal, a log or the JSON output.
Guarantees: the old key is deactivated or deleted only after the new id and secret were read back
from at least one of the files and signed with; a file's pair is found by its structure (section,
KEY=VALUE names, YAML/JSON keys), and a rotation no file can take is refused before anything
changes; one process at a time per key and per IAM user (a lock file); resume and rollback read
IAM first (a rollback after the old key is gone finishes instead); a rollback undoes only the
substitution, never whole files.

  --exposed / --not-exposed  the key was pushed or made public (default: it is in a git-tracked file)
  --delete-inactive          allow deleting the user's other, inactive key under the 2-key limit
  --keep-old-inactive        deactivate the old key but do not delete it
  --plan                     print the plan and stop
  --to-profile NAME          also write the new key into profile [NAME] of ~/.aws/credentials
                             (added when missing; refused when it holds another key); files git
                             tracks are then left as they are. Works with no file at all (a key
                             no file holds, e.g. one an audit found)
  --not-ours KEY_ID          with --resume/--rollback: a key that appeared around an interrupted
                             CreateAccessKey is someone else's; Keysentry never deletes a key it
                             cannot prove it created, and stops until you delete it or say this
  --untrack                  for files git tracks (or committed and not ignored): git rm --cached
                             them and add them to .gitignore before the new key is written there
A new secret is never written into a file git tracks, or committed and does not ignore, unless
--untrack or --to-profile says what to do instead: without either the rotation is refused.
Exit status: 0 done, 1 refused (with guidance; also when another process holds the key),
2 error, 130 cancelled and rolled back.`;

const isTracked = (file: string): boolean => gitTracks(path.basename(file), path.dirname(file));

/** Files that hold the key: what the scanner finds under `cwd`, and the shared credentials file. */
export async function discoverFiles(keyId: string, cwd: string): Promise<string[]> {
  const files = new Set<string>();
  const result = await scanPaths({ paths: [], cwd }, gitSource).catch(() => undefined);
  for (const f of result?.findings ?? []) if (f.kind === 'aws-access-key-id' && f.preview === keyId) files.add(path.resolve(cwd, f.file));
  const shared = credentialsFile();
  if (sharedCredentialsHold(shared, keyId)) files.add(shared);
  return [...files];
}

export function formatPlan(plan: RotationPlan, signer: string, files: string[], exposed: boolean): string {
  return [
    `Rotate ${plan.keyId} of IAM user ${plan.userName} (account ${plan.account}), signing as ${signer}.`,
    `The key is ${exposed ? 'exposed: it is deactivated the moment the new key works' : 'not known to be public: the new key is in place before the old one stops'}.`,
    ...plan.notes.map((n) => `note: ${n}`),
    'Steps:',
    ...plan.steps.map((s, i) => `  ${i + 1}. ${s.describe}`),
    ...(files.length ? [] : ['(no file to update)']),
  ].join('\n');
}

/** The files about to take the new secret that git tracks (or has committed and does not ignore) now. */
async function exposedNow(files: Array<{ path: string; target: string }>): Promise<Array<{ file: string; e: GitExposure }>> {
  const out: Array<{ file: string; e: GitExposure }> = [];
  for (const f of files) {
    if (!existsSync(f.target)) continue;
    const e = await gitExposure(f.target);
    if (e && exposesSecret(e)) out.push({ file: f.path, e });
  }
  return out;
}

/** The write-time re-check (#13.3): git may have started tracking a file since the plan (a resume, a long confirm prompt). */
const refuseTrackedWrite =
  (keyId: string) =>
  async (files: Array<{ path: string; target: string }>): Promise<string | undefined> => {
    const list = await exposedNow(files);
    if (!list.length) return undefined;
    return [
      `${trackedMessage(keyId, list).replace('Choose one, and rotate again:', 'git started tracking it after the rotation was planned, so nothing was written. Choose one:')}`,
      `  or untrack it yourself (git rm --cached ${list.map((x) => x.e.rel).join(' ')}, and add it to .gitignore), then "keysentry rotate ${keyId} --resume"`,
      `  ("keysentry rotate ${keyId} --rollback" first, to rotate again with --untrack or --to-profile)`,
    ].join('\n');
  };

/** Why a file git tracks is not written without a choice, and the two ways on. */
function trackedMessage(keyId: string, list: Array<{ file: string; e: GitExposure }>): string {
  return [
    `the new secret would go into ${list.length === 1 ? 'a file' : 'files'} git ${list.every((x) => x.e.tracked) ? 'tracks' : 'tracks or has committed'}, where ${keyId} leaked from:`,
    ...list.map(({ file, e }) => `  ${file} (${e.tracked ? 'tracked' : 'committed before, not ignored'} in ${e.repo})`),
    'Choose one, and rotate again:',
    `  --untrack            git rm --cached ${list.map((x) => x.e.rel).join(' ')} and add ${list.length === 1 ? 'it' : 'them'} to .gitignore (the file stays on disk; commit that change), then write the new key there`,
    '  --to-profile NAME    write the new key into profile [NAME] of ~/.aws/credentials instead and leave the file as it is (point the application at that profile)',
  ].join('\n');
}

const writeTargetOrSelf = (file: string): string => {
  try {
    return writeTarget(file);
  } catch {
    return file;
  }
};

export function formatOutcome(o: RotationOutcome): string {
  const out: string[] = [];
  if (o.status === 'done') {
    out.push(`keysentry: rotated ${o.keyId} → ${o.newKeyId} for ${o.userName}.`);
    if (o.filesUpdated.length) out.push(`Updated: ${o.filesUpdated.join(', ')}`);
    if (o.destination?.toProfile) out.push(`The new key is in profile [${o.destination.toProfile}] of the shared credentials file, as chosen (--to-profile).`);
    if (o.destination?.untracked?.length) out.push(`Untracked (git rm --cached, added to .gitignore), as chosen (--untrack): ${o.destination.untracked.join(', ')}. Commit that change.`);
  } else {
    out.push(`keysentry: rolled back the rotation of ${o.keyId}.`);
    if (o.filesUpdated.length) out.push(`Restored: ${o.filesUpdated.join(', ')}`);
  }
  for (const s of o.filesSkipped) out.push(`Not updated: ${s.path} (${s.reason})`);
  for (const n of o.notes) out.push(`note: ${n}`);
  if (o.checklist.length) out.push('Still to do:', ...o.checklist.map((c) => `  [ ] ${c}`));
  return out.join('\n');
}

function hooksFor(io: Io, progress: boolean, format: string): { hooks: RunHooks; cancelled: () => boolean } {
  let cancelled = false;
  io.onInterrupt?.(() => {
    cancelled = true;
    io.err('keysentry: stopping after the current step, then rolling back…');
  });
  const crashAfter = process.env.KEYSENTRY_TEST_CRASH_AFTER as StepName | undefined;
  const hooks: RunHooks = {
    isCancelled: () => cancelled,
    onStep: (step, phase, message) => {
      if (progress) io.err(JSON.stringify({ step, phase, message }));
      else if (format === 'text' && phase === 'done') io.err(`  ✓ ${message}`);
    },
    // Fault injection for the crash tests: die with no chance to clean up, like a killed process.
    afterStep: (step) => {
      if (crashAfter === step) process.kill(process.pid, 'SIGKILL');
    },
    verifyTimeoutMs: Number(process.env.KEYSENTRY_VERIFY_TIMEOUT_MS) || undefined,
    verifyIntervalMs: Number(process.env.KEYSENTRY_VERIFY_INTERVAL_MS) || undefined,
  };
  return { hooks, cancelled: () => cancelled };
}

/** True when the user's keys in IAM are exactly those before the rotation (ids and statuses). */
async function sameKeys(ops: AwsOps, j: Journal): Promise<boolean> {
  try {
    const now = await ops.listKeys(j.plan.userName);
    const key = (k: { id: string; status: string }): string => `${k.id}:${k.status}`;
    return now.map(key).sort().join() === j.beforeKeys.map(key).sort().join();
  } catch {
    return false;
  }
}

async function finish(io: Io, format: string, ops: AwsOps, j: Journal, run: () => Promise<RotationOutcome>, cancelled: () => boolean): Promise<number> {
  try {
    const outcome = await run();
    io.out(format === 'json' ? JSON.stringify(outcome, null, 2) : formatOutcome(outcome));
    return 0;
  } catch (e) {
    if (e instanceof UnexplainedKeys) {
      // Nothing changed: the user decides whether the key is theirs (no key is deleted on a guess).
      j.error = 'stopped: a key that may be someone else\'s appeared around an interrupted CreateAccessKey';
      saveJournal(j);
      io.err(`keysentry: ${redact(e.message)}`);
      if (format === 'json') io.out(JSON.stringify({ refused: 'unexplained-key', keys: e.keyIds, message: redact(e.message) }, null, 2));
      return 1;
    }
    if (e instanceof NothingWritten) {
      // The new key's secret is in no file: keeping that key would leave an orphan nobody can use.
      const rolled = await rollbackRotation(ops, j);
      io.out(format === 'json' ? JSON.stringify({ ...rolled, nothingWritten: true, reason: redact(e.message) }, null, 2) : `keysentry: ${redact(e.message)}; rolled back.\n${formatOutcome(rolled)}`);
      return 2;
    }
    if (e instanceof RotationCancelled || cancelled()) {
      const rolled = await rollbackRotation(ops, j);
      if (rolled.status === 'done') {
        io.out(format === 'json' ? JSON.stringify({ ...rolled, cancelled: true }, null, 2) : `keysentry: cancel came too late.\n${formatOutcome(rolled)}`);
        return 0;
      }
      io.out(format === 'json' ? JSON.stringify({ ...rolled, cancelled: true }, null, 2) : `keysentry: cancelled.\n${formatOutcome(rolled)}`);
      return 130;
    }
    const message = redact(e instanceof KeysentryError ? e.message : String((e as Error)?.stack ?? e));
    j.error = message;
    // "Nothing was changed" only when IAM says so: a call that failed in flight may have acted.
    const changed = j.steps.some((s) => s.state === 'done') || j.newKeyId || (j.steps.length > 0 && !(await sameKeys(ops, j)));
    if (!changed) {
      j.status = 'rolled-back';
      saveJournal(j);
      throw new KeysentryError(`${message}\nNothing was changed.`);
    }
    saveJournal(j);
    const at = j.steps.find((s) => s.state === 'started')?.name ?? j.steps.at(-1)?.name;
    const deleteTried = j.steps.some((s) => s.name === 'delete-old');
    throw new KeysentryError(
      `${message}\nThe rotation stopped at "${at}" and is journaled. Run "keysentry rotate ${j.keyId} --resume" to finish it, or "--rollback" to undo it; both read IAM first` +
        ` (the old key was ${deleteTried ? 'being deleted' : 'not deleted'}${j.newKeyId ? `, the new key is ${j.newKeyId}` : ''}).`,
    );
  }
}

export async function rotateCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(
    argv,
    ['profile', 'region', 'endpoint-url', 'format', 'to-profile'],
    ['exposed', 'not-exposed', 'keep-old-inactive', 'delete-inactive', 'yes', 'plan', 'resume', 'rollback', 'progress', 'help', 'untrack'],
    ['update', 'not-ours'],
  );
  if (args.flags.has('help')) {
    io.out(ROTATE_USAGE);
    return 0;
  }
  const format = formatFlag(args, ['text', 'json'] as const);
  const [keyId, ...extra] = args.positional;
  if (!keyId) throw new KeysentryError(`rotate needs the access key id\n\n${ROTATE_USAGE}`);
  if (extra.length) throw new KeysentryError(`unexpected argument "${extra[0]}" (files to update go after --update)`);
  const refused = (e: RotationRefused, extra: Record<string, unknown> = {}): number => {
    io.err(`keysentry: will not rotate: ${e.message}`);
    if (format === 'json') io.out(JSON.stringify({ refused: e.reason, message: e.message, ...extra }, null, 2));
    return 1;
  };
  try {
    checkKeyId(keyId);
  } catch (e) {
    if (e instanceof RotationRefused) return refused(e);
    throw e;
  }
  const opt = (name: string): string | undefined => args.flags.get(name) as string | undefined;
  const progress = args.flags.has('progress');
  const locked = (e: LockHeld): number =>
    refused(new RotationRefused(`another Keysentry process is already working on this rotation: ${e.message}. Wait for it to finish (or close the other window), then try again.`, 'locked'));
  const held: Lock[] = [];
  const releaseAll = (): void => {
    for (const l of held.splice(0).reverse()) l.release();
  };
  try {
    if (args.flags.has('resume') || args.flags.has('rollback')) {
      const mode = args.flags.has('resume') ? 'resume' : 'roll back';
      held.push(lockKey(keyId, `keysentry rotate ${keyId} --${mode === 'resume' ? 'resume' : 'rollback'}`));
      const existing = loadJournal(keyId);
      if (!existing || existing.status !== 'running') throw new KeysentryError(`no interrupted rotation of ${keyId} to ${mode}`);
      held.push(lockUser(existing.plan.account, existing.plan.userName, `keysentry rotate ${keyId} --${mode === 'resume' ? 'resume' : 'rollback'}`));
      // Keys the user says are someone else's (after an interrupted CreateAccessKey): never touched.
      const notOurs = args.lists.get('not-ours') ?? [];
      if (notOurs.length) {
        for (const id of notOurs) checkKeyId(id);
        existing.notOurs = [...new Set([...(existing.notOurs ?? []), ...notOurs])];
        saveJournal(existing);
      }
      const target = resolveTarget({ profile: opt('profile') ?? existing.profile, region: opt('region') ?? existing.region, endpoint: opt('endpoint-url') ?? existing.endpoint });
      const ops = new IamOps(target);
      const { hooks, cancelled } = hooksFor(io, progress, format);
      hooks.refuseWrite = refuseTrackedWrite(keyId);
      if (args.flags.has('rollback')) return await finish(io, format, ops, existing, () => rollbackRotation(ops, existing, hooks), () => false);
      return await finish(io, format, ops, existing, () => runRotation(ops, existing, hooks), cancelled);
    }
    const planOnly = args.flags.has('plan');
    if (planOnly) {
      // A plan changes nothing: it only says whether another process holds the key now.
      probeKeyLock(keyId, `keysentry rotate ${keyId} --plan`);
    } else held.push(lockKey(keyId, `keysentry rotate ${keyId}`));
    const existing = loadJournal(keyId);
    if (existing?.status === 'running') {
      const at = existing.steps.at(-1);
      throw new KeysentryError(`a rotation of ${keyId} was interrupted${at ? ` at "${at.name}" (${at.state})` : ''}: run with --resume to finish it or --rollback to undo it`);
    }

    const updates = args.lists.get('update');
    const toProfile = opt('to-profile');
    const untrack = args.flags.has('untrack');
    const files = updates?.length ? updates.map((f) => path.resolve(io.cwd, f)) : await discoverFiles(keyId, io.cwd);
    for (const f of files) if (!existsSync(f)) throw new KeysentryError(`${f}: no such file`);
    if (!files.length && !toProfile) {
      throw new KeysentryError(
        `no file here holds ${keyId}: name the files that use it with --update FILE (a .env, ~/.aws/credentials, a config file), or write the new key into a profile of ~/.aws/credentials with --to-profile NAME, so the new key goes straight where you chose`,
      );
    }
    // Which files can take the new pair is decided before any AWS call, and refused when none can.
    const checks = inspectFiles(keyId, files);
    // A new secret never goes into a file git tracks (or committed and does not ignore) unless the user chose what to do.
    const exposures = new Map<string, GitExposure>();
    for (const c of checks) {
      if (!c.ok) continue;
      const e = await gitExposure(c.target);
      if (e && exposesSecret(e)) exposures.set(c.path, e);
    }
    const gitTracked = [...exposures].map(([file, e]) => ({ path: file, repo: e.repo, tracked: e.tracked, committed: e.committed }));
    if (exposures.size && !untrack && !toProfile) {
      return refused(new RotationRefused(trackedMessage(keyId, [...exposures].map(([file, e]) => ({ file, e }))), 'tracked-file'), { tracked: gitTracked });
    }
    if (toProfile) {
      for (const c of checks) {
        if (c.ok && exposures.has(c.path) && !untrack) Object.assign(c, { ok: false, reason: `git ${exposures.get(c.path)!.tracked ? 'tracks it' : 'has it in a commit'}: left as it is, the new key goes to profile [${toProfile}] instead, as chosen (--to-profile)` });
      }
      const credentials = credentialsFile();
      const profileCheck = inspectProfile(keyId, writeTargetOrSelf(credentials), toProfile);
      profileCheck.path = credentials;
      const same = checks.find((c) => c.target === profileCheck.target);
      if (!same) checks.push(profileCheck);
      else if (!same.ok || !profileCheck.ok || !profileCheck.places.every((p) => same.places.includes(p))) {
        // Both would rewrite the one credentials file: one rewrite per file per rotation.
        return refused(new RotationRefused(`${credentials} already holds ${keyId} in another profile, which this rotation updates in place; run without --to-profile, or name that profile (--to-profile ${same.places[0]?.replace(/^\[([^\]]*)\].*$/, '$1') ?? 'NAME'})`, 'no-usable-file'));
      }
    }
    try {
      checkFilesUsable(keyId, checks);
    } catch (e) {
      if (e instanceof RotationRefused) return refused(e);
      throw e;
    }
    const toUntrack = untrack ? [...exposures.values()] : [];
    const exposed = args.flags.has('exposed') ? true : args.flags.has('not-exposed') ? false : files.some(isTracked) || exposures.size > 0;
    const options = {
      exposed,
      keepOldInactive: args.flags.has('keep-old-inactive'),
      deleteInactive: args.flags.has('delete-inactive'),
      files,
      ...(toProfile ? { toProfile } : {}),
      ...(toUntrack.length ? { untracked: toUntrack.map((e) => e.file) } : {}),
    };
    const target = resolveTarget({ profile: opt('profile'), region: opt('region'), endpoint: opt('endpoint-url') });
    const ops = new IamOps(target);
    let plan: RotationPlan;
    let facts;
    try {
      facts = await gatherFacts(ops, keyId);
      const user = facts.userName;
      if (user && user !== 'root') {
        // One actor per IAM user: another key's rotation of this user would see our new key as its stray.
        if (!planOnly) held.push(lockUser(facts.caller.account, user, `keysentry rotate ${keyId}`));
        const other = unfinishedJournals().find((o) => o.keyId !== keyId && o.plan.userName === user && o.plan.account === facts!.caller.account);
        if (other) {
          throw new RotationRefused(
            `a rotation of ${other.keyId}, another key of ${user}, is unfinished: run "keysentry rotate ${other.keyId} --resume" (or --rollback) first, so the two never delete each other's keys.`,
            'unfinished',
          );
        }
      }
      plan = planRotation(facts, options, checks);
      if (!planOnly) {
        facts.keys = await ops.listKeys(plan.userName);
        plan = planRotation(facts, options, checks);
      }
      for (const e of toUntrack) plan.notes.unshift(`before anything else: git rm --cached ${e.rel} and add /${e.rel} to ${path.join(e.repo, '.gitignore')} (the file stays on disk; commit that change)`);
      if (toProfile) plan.notes.unshift(`the new key also goes into profile [${toProfile}] of ${credentialsFile()}`);
    } catch (e) {
      if (e instanceof RotationRefused) return refused(e);
      throw e;
    }
    const planText = formatPlan(plan, facts.caller.arn, files, exposed);
    if (planOnly) {
      io.out(format === 'json' ? JSON.stringify({ plan, exposed, files, signer: facts.caller.arn, gitTracked, ...(toProfile ? { toProfile } : {}) }, null, 2) : planText);
      return 0;
    }
    io.err(planText);
    if (!args.flags.has('yes')) {
      if (!io.confirm) throw new KeysentryError('no terminal to confirm on: add --yes to rotate without a prompt');
      if (!(await io.confirm('Proceed?'))) {
        io.err('keysentry: nothing was changed.');
        return 1;
      }
    }
    // The prompt may have waited long: a file git started tracking meanwhile is refused before any change.
    if (!untrack && !toProfile) {
      const late = await exposedNow(checks.filter((c) => c.ok));
      if (late.length) return refused(new RotationRefused(trackedMessage(keyId, late), 'tracked-file'), { tracked: late.map(({ file, e }) => ({ path: file, repo: e.repo, tracked: e.tracked, committed: e.committed })) });
    }
    // Untracked before any AWS call: the new secret never lands in a file git still tracks.
    for (const e of toUntrack) await untrackAndIgnore(e);
    const journal = newJournal(plan, options, facts, { profile: target.profile, region: await regionOf(target), endpoint: target.endpoint });
    const { hooks, cancelled } = hooksFor(io, progress, format);
    hooks.refuseWrite = refuseTrackedWrite(keyId);
    return await finish(io, format, ops, journal, () => runRotation(ops, journal, hooks), cancelled);
  } catch (e) {
    if (e instanceof LockHeld) return locked(e);
    throw e;
  } finally {
    releaseAll();
  }
}

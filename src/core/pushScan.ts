import { scanText } from './engine';
import type { IgnoreMatcher } from './ignoreFile';
import { anchorRegex, isKeyFileName } from './patterns';
import { isZeroSha, parsePushInput, subjectOf, touchesAddedLines, type CommitPatch, type PushFinding, type PushScanResult, type RefUpdate } from './prepush';
import { scanBytes, DEFAULT_MAX_FILE_SIZE } from './scanFiles';
import type { Finding } from './types';

/** A git object as the history source returns it: `data` is absent when it exceeded the size limit. */
export interface GitObject {
  type: string;
  size: number;
  data?: Buffer;
}

/** What the push scan needs from git; src/git/history.ts runs the real commands. */
export interface HistorySource {
  /** Commits `update` adds to the remote, oldest first. `alsoOnRemote` are tips the remote is known to have. */
  outgoing(update: RefUpdate, remote: string, alsoOnRemote: string[]): Promise<string[]>;
  /** The `-U0` patches of these commits, in this order. */
  patches(commits: string[]): Promise<CommitPatch[]>;
  /** Objects by id; those over `maxSize` come without data; missing ones are left out. */
  objects(ids: string[], maxSize: number): Promise<Map<string, GitObject>>;
}

export interface PushScanOptions {
  remote: string;
  input: string;
  baseline: ReadonlySet<string>;
  ignore: IgnoreMatcher;
  maxFileSize?: number;
  onProgress?: (message: string) => void;
}

export const COMMIT_MESSAGE = '(commit message)';
export const TAG_MESSAGE = '(tag message)';

const RUN40 = /[A-Za-z0-9+/]{40}/;
const anchor = anchorRegex();
function addedTextMayHold(text: string): boolean {
  anchor.lastIndex = 0;
  return anchor.test(text) || RUN40.test(text);
}

interface Job {
  commit: CommitPatch;
  path: string;
  blob: string;
  /** For key files and binary diffs: findings already in this blob are not new. */
  oldBlob?: string;
  /** For text diffs: only findings on these lines are new. */
  addedLines?: number[];
}

/** Scans what a push adds to the remote: each outgoing commit's added lines and key files, commit and tag messages. */
export async function scanPush(source: HistorySource, opts: PushScanOptions): Promise<PushScanResult> {
  const started = performance.now();
  const maxSize = opts.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const updates = parsePushInput(opts.input);
  const knownOnRemote = updates.map((u) => u.remoteSha).filter((s) => !isZeroSha(s));
  const refs: PushScanResult['refs'] = [];
  const refOf = new Map<string, string>();
  const order: string[] = [];
  for (const u of updates) {
    if (isZeroSha(u.localSha)) {
      refs.push({ localRef: u.localRef, remoteRef: u.remoteRef, commits: 0, deleted: true });
      continue;
    }
    const commits = await source.outgoing(u, opts.remote, knownOnRemote);
    refs.push({ localRef: u.localRef, remoteRef: u.remoteRef, commits: commits.length, deleted: false });
    for (const c of commits) {
      if (refOf.has(c)) continue;
      refOf.set(c, u.localRef);
      order.push(c);
    }
  }
  if (order.length > 200) opts.onProgress?.(`scanning ${order.length} outgoing commits`);
  const patches = order.length ? await source.patches(order) : [];

  const raw: PushFinding[] = [];
  const add = (found: Finding[], commit: string, subject: string, ref: string): void => {
    for (const f of found) raw.push({ ...f, commit, subject, ref });
  };
  const jobs: Job[] = [];
  for (const c of patches) {
    const subject = subjectOf(c.message);
    const ref = refOf.get(c.sha) ?? '';
    if (c.message) add(await scanText(c.message, COMMIT_MESSAGE), c.sha, subject, ref);
    for (const f of c.files) {
      if (f.submodule || !f.newBlob || isZeroSha(f.newBlob)) continue;
      if (!opts.ignore.empty && opts.ignore.ignores(f.path)) continue;
      const oldBlob = f.oldBlob && !isZeroSha(f.oldBlob) ? f.oldBlob : undefined;
      if (f.binary || isKeyFileName(f.path)) jobs.push({ commit: c, path: f.path, blob: f.newBlob, oldBlob });
      else if (f.addedLines.length && addedTextMayHold(f.addedText)) jobs.push({ commit: c, path: f.path, blob: f.newBlob, addedLines: f.addedLines });
    }
  }
  // Annotated tags carry a message of their own.
  const tagIds = updates.filter((u) => u.localRef.startsWith('refs/tags/') && !isZeroSha(u.localSha)).map((u) => u.localSha);
  const wanted = [...new Set([...jobs.flatMap((j) => (j.oldBlob ? [j.blob, j.oldBlob] : [j.blob])), ...tagIds])];
  const objects = wanted.length ? await source.objects(wanted, maxSize) : new Map<string, GitObject>();

  for (const u of updates) {
    const tag = objects.get(u.localSha);
    if (!u.localRef.startsWith('refs/tags/') || tag?.type !== 'tag' || !tag.data) continue;
    const text = tag.data.toString('utf8');
    const message = text.slice(text.indexOf('\n\n') + 2);
    add(await scanText(message, TAG_MESSAGE), u.localSha, `tag ${u.localRef.slice(10)}`, u.localRef);
  }

  const skipped: PushScanResult['skipped'] = [];
  for (const job of jobs) {
    const obj = objects.get(job.blob);
    if (!obj || !obj.data) {
      skipped.push({ commit: job.commit.sha, file: job.path, reason: obj ? `too large (${obj.size} bytes > ${maxSize})` : 'blob not found' });
      continue;
    }
    const found = await scanBytes(obj.data, job.path, {});
    if (!Array.isArray(found)) continue; // binary without text: nothing to find
    let fresh = found;
    if (job.addedLines) fresh = found.filter((f) => touchesAddedLines(f, job.addedLines as number[]));
    else if (job.oldBlob) {
      const old = objects.get(job.oldBlob)?.data;
      const before = old ? await scanBytes(old, job.path, {}) : [];
      const known = new Set(Array.isArray(before) ? before.map((f) => f.fingerprint) : []);
      fresh = found.filter((f) => !known.has(f.fingerprint));
    }
    add(fresh, job.commit.sha, subjectOf(job.commit.message), refOf.get(job.commit.sha) ?? '');
  }

  // One finding per secret and place: the oldest outgoing commit that brought it.
  const seen = new Set<string>();
  const findings: PushFinding[] = [];
  let baselined = 0;
  for (const f of raw) {
    const key = `${f.fingerprint}\0${f.file}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (opts.baseline.has(f.fingerprint)) baselined++;
    else findings.push(f);
  }
  return { refs, commits: order.length, findings, skipped, baselined, ms: Math.round(performance.now() - started) };
}

import { scanText } from '../detect/engine';
import type { IgnoreMatcher } from '../detect/ignoreFile';
import { isZeroSha, parsePushInput, subjectOf, type CommitChanges, type PushFinding, type PushScanResult, type RefUpdate } from './prepush';
import { scanBytes, DEFAULT_MAX_FILE_SIZE } from '../detect/scanFiles';
import { KeysentryError, type Finding, type SkippedFile } from '../types';
import { redact } from '../mask';
import { FILE_NAME_LABEL, REF_NAME_LABEL, scanPathName, SYMLINK_LABEL } from '../detect/pathNames';

/** A git object as the history source returns it. */
export interface GitObject {
  type: string;
  size: number;
  data?: Buffer;
}

/** What the push scan needs from git; src/git/history.ts runs the real commands. */
export interface HistorySource {
  /** What each id is once tags are peeled: the object's id and type; missing ones are left out. */
  peel(ids: string[]): Promise<Map<string, { id: string; type: string }>>;
  /**
   * Commits reachable from `tips` and from none of `exclude` (nor, when `remote` is given, from
   * that remote's remote-tracking refs), oldest first, with their parents. One walk for all tips.
   */
  commits(tips: string[], exclude: string[], remote?: string): Promise<Array<{ sha: string; parents: string[] }>>;
  /** Every blob of a tree, recursively, with its path (submodules left out). */
  treeBlobs(tree: string): Promise<Array<{ path: string; blob: string }>>;
  /** What each of these commits changed (merges: only what differs from every parent), in this order. */
  changes(commits: string[]): Promise<CommitChanges[]>;
  /** Type and size of objects; missing ones are left out. */
  sizes(ids: string[]): Promise<Map<string, GitObject>>;
  /** Objects with their content; missing ones are left out. */
  read(ids: string[]): Promise<Map<string, GitObject>>;
}

export interface PushScanOptions {
  remote: string;
  input: string;
  baseline: ReadonlySet<string>;
  ignore: IgnoreMatcher;
  maxFileSize?: number;
  /** Blob bytes held in memory at once; the push is read in batches of about this size. */
  batchBytes?: number;
  onProgress?: (message: string) => void;
  /**
   * Remote-tracking ref ids known to describe the server pushed to (see src/git/remoteTrust.ts),
   * with the report's note. When given, new refs exclude only these (not every
   * `refs/remotes/<remote>/*`); an empty list scans new refs down to their first commit.
   */
  tracking?: { tips: string[]; note: string };
  /** Told of every gitlink (submodule commit) the outgoing commits record: its path and commit. */
  onGitlink?: (path: string, commit: string) => void;
}

export const COMMIT_MESSAGE = '(commit message)';
export const TAG_MESSAGE = '(tag message)';
export const COMMIT_HEADER = '(commit header)';
export const TAG_HEADER = '(tag header)';

/** The header of a raw commit or tag object without the lines that are object ids (tree, parent, object, type). */
function headerText(data: Buffer | undefined): string | undefined {
  if (!data) return undefined;
  const text = data.toString('utf8');
  const end = text.indexOf('\n\n');
  return (end === -1 ? text : text.slice(0, end))
    .split('\n')
    .filter((l) => !/^(?:tree|parent|object|type) [0-9a-z]+$/.test(l))
    .join('\n');
}

interface Job {
  commit: CommitChanges;
  path: string;
  blob: string;
  /** What the file held before, per parent: findings already there are not new. */
  oldBlobs: string[];
}

/**
 * Scans what a push adds to the remote: every blob the outgoing commits write (a finding is new
 * when the blob it replaced did not hold the same secret), commit messages and annotated tag
 * messages. A key added in one outgoing commit and deleted in a later one is still reported.
 */
export async function scanPush(source: HistorySource, opts: PushScanOptions): Promise<PushScanResult> {
  const started = performance.now();
  const maxSize = opts.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const updates = parsePushInput(opts.input);
  const { refs, order, refOf, reached, walkedNew } = await outgoingCommits(source, updates, opts.remote, opts.tracking?.tips);
  if (order.length > 200) opts.onProgress?.(`scanning ${order.length} outgoing commits`);
  const history = order.length ? await source.changes(order) : [];
  // A .secretlintignore the pushed commits add or change is not honoured for this push: the commit
  // that adds a key must not also be able to exempt it. Files an honoured one skips are listed.
  const isIgnoreFile = (p: string): boolean => p.toLowerCase() === '.secretlintignore';
  const ignoreChanged = !opts.ignore.empty && history.some((c) => c.files.some((f) => isIgnoreFile(f.path)));
  const ignoredPaths = new Set<string>();
  const ignoring: IgnoreMatcher | undefined = ignoreChanged || opts.ignore.empty ? undefined : opts.ignore;
  const isIgnored = (p: string): boolean => {
    if (!ignoring?.ignores(p)) return false;
    ignoredPaths.add(p);
    return true;
  };

  const raw: PushFinding[] = [];
  const add = (found: Finding[], commit: string, subject: string, ref: string): void => {
    for (const f of found) raw.push({ ...f, commit, subject, ref });
  };
  const jobs: Job[] = [];
  /** Each commit's subject with every secret found in its message masked: reports, the findings file and the editor show it. */
  const subjects = new Map<string, string>();
  // Names are pushed too: a file or folder named after a key (creds/AKIA…_<secret>.txt), once
  // per distinct path and once per secret (a folder named after a key holds many files).
  const namesSeen = new Set<string>();
  const nameFingerprints = new Set<string>();
  const addName = async (name: string, label: string, commit: string, subject: string, ref: string): Promise<void> => {
    if (namesSeen.has(label + name)) return;
    namesSeen.add(label + name);
    const found = (await scanPathName(name, label + name)).filter((f) => !nameFingerprints.has(f.fingerprint) && (nameFingerprints.add(f.fingerprint), true));
    add(found, commit, subject, ref);
  };
  for (const u of updates) if (!isZeroSha(u.localSha)) await addName(u.remoteRef, REF_NAME_LABEL, u.localSha, `ref ${u.remoteRef}`, u.localRef);
  const symlinks: Job[] = [];
  // A ref (a tag, usually) that points at a blob or a tree adds that content without a commit.
  for (const r of reached) {
    const pseudo: CommitChanges = { sha: r.update.localSha, parents: [], message: `${r.update.localRef.replace(/^refs\/(?:heads|tags)\//, '')} (${r.type})`, files: [] };
    refOf.set(pseudo.sha, r.update.localRef);
    const blobs = r.type === 'blob' ? [{ path: `(${r.type} ${r.id.slice(0, 10)})`, blob: r.id }] : await source.treeBlobs(r.id);
    for (const b of blobs) if (!isIgnored(b.path)) jobs.push({ commit: pseudo, path: b.path, blob: b.blob, oldBlobs: [] });
    if (r.type === 'tree') for (const b of blobs) if (!isIgnored(b.path)) await addName(b.path, FILE_NAME_LABEL, pseudo.sha, pseudo.message, r.update.localRef);
  }
  for (const c of history) {
    const found = c.message ? await scanText(c.message, COMMIT_MESSAGE) : [];
    subjects.set(c.sha, safeSubject(c.message, found));
    add(found, c.sha, subjects.get(c.sha) as string, refOf.get(c.sha) ?? '');
    for (const f of c.files) {
      if (!f.newBlob || isZeroSha(f.newBlob)) continue;
      if (isIgnored(f.path)) continue;
      await addName(f.path, FILE_NAME_LABEL, c.sha, subjects.get(c.sha) as string, refOf.get(c.sha) ?? '');
      if (f.submodule) {
        opts.onGitlink?.(f.path, f.newBlob);
        continue;
      }
      if (f.symlink && !f.oldBlobs.includes(f.newBlob)) symlinks.push({ commit: c, path: f.path, blob: f.newBlob, oldBlobs: [] });
      // Unchanged content (a pure rename or mode change) adds nothing.
      if (f.oldBlobs.includes(f.newBlob)) continue;
      jobs.push({ commit: c, path: f.path, blob: f.newBlob, oldBlobs: f.oldBlobs.filter((b) => !isZeroSha(b)) });
    }
  }

  // Commit headers (author, committer, extra headers, signatures) are pushed too: scanned from
  // the raw objects, in batches. The tree and parent lines are object ids, never secrets.
  const HEADER_BATCH = 2000;
  for (let i = 0; i < history.length; i += HEADER_BATCH) {
    const batch = history.slice(i, i + HEADER_BATCH);
    const objects = await source.read(batch.map((c) => c.sha));
    for (const c of batch) {
      const header = headerText(objects.get(c.sha)?.data);
      if (header) add(await scanText(header, COMMIT_HEADER), c.sha, subjects.get(c.sha) ?? '', refOf.get(c.sha) ?? '');
    }
  }

  // Annotated tags carry a header (tagger, name) and a message of their own, and a tag can point
  // at another tag: the whole chain is sent, so every tag object in it is scanned, once each.
  const tagUpdates = updates.filter((u) => u.localRef.startsWith('refs/tags/') && !isZeroSha(u.localSha));
  const seenTags = new Set<string>();
  let frontier = tagUpdates.map((u) => ({ id: u.localSha, ref: u.localRef }));
  while (frontier.length) {
    const todo = frontier.filter((t) => !seenTags.has(t.id) && (seenTags.add(t.id), true));
    if (!todo.length) break;
    const tags = await source.read(todo.map((t) => t.id));
    frontier = [];
    for (const t of todo) {
      const tag = tags.get(t.id);
      if (tag?.type !== 'tag' || !tag.data) continue;
      const text = tag.data.toString('utf8');
      const split = text.indexOf('\n\n');
      const header = headerText(tag.data) ?? '';
      const name = `tag ${t.ref.slice(10)}`;
      add(await scanText(split === -1 ? '' : text.slice(split + 2), TAG_MESSAGE), t.id, name, t.ref);
      if (header) add(await scanText(header, TAG_HEADER), t.id, name, t.ref);
      const inner = /^object ([0-9a-f]+)\ntype tag\n/m.exec(text);
      if (inner?.[1]) frontier.push({ id: inner[1], ref: t.ref });
    }
  }

  // Each distinct blob is scanned once per path, in batches that bound memory.
  const cache = new Map<string, Finding[] | SkippedFile>();
  const partial = new Map<string, string[]>();
  const keyOf = (blob: string, path: string): string => `${blob}\0${path}`;
  const sizes = await source.sizes([...new Set(jobs.flatMap((j) => [j.blob, ...j.oldBlobs]))]);
  const skipped: PushScanResult['skipped'] = [];
  const scanBlobs = async (wanted: Array<{ blob: string; path: string }>): Promise<void> => {
    const todo = wanted.filter((w) => !cache.has(keyOf(w.blob, w.path)));
    const budget = opts.batchBytes ?? 64 * 1024 * 1024;
    for (let i = 0; i < todo.length; ) {
      const batch: typeof todo = [];
      let bytes = 0;
      for (; i < todo.length && (batch.length === 0 || bytes < budget); i++) {
        const w = todo[i] as (typeof todo)[number];
        const size = sizes.get(w.blob)?.size;
        if (size === undefined) cache.set(keyOf(w.blob, w.path), { file: w.path, reason: 'unreadable', detail: 'blob not found' });
        else if (size > maxSize) cache.set(keyOf(w.blob, w.path), { file: w.path, reason: 'too-large', detail: `${size} bytes > ${maxSize}` });
        else {
          batch.push(w);
          bytes += size;
        }
      }
      const objects = batch.length ? await source.read([...new Set(batch.map((w) => w.blob))]) : new Map<string, GitObject>();
      for (const w of batch) {
        const data = objects.get(w.blob)?.data;
        // Partly scanned content (an archive entry that could not be opened, more candidate
        // matches than the engine checks) is reported like a skip: never passed silently.
        const notes: string[] = [];
        cache.set(keyOf(w.blob, w.path), data ? await scanBytes(data, w.path, { onIncomplete: (why) => notes.push(why) }) : { file: w.path, reason: 'unreadable', detail: 'blob not found' });
        if (notes.length) partial.set(keyOf(w.blob, w.path), notes);
      }
    }
  };
  await scanBlobs(jobs.map((j) => ({ blob: j.blob, path: j.path })));
  // Only where a blob holds findings are the blobs it replaced read, to tell old secrets from new.
  const withFindings = jobs.filter((j) => {
    const r = cache.get(keyOf(j.blob, j.path));
    return Array.isArray(r) && r.length > 0 && j.oldBlobs.length > 0;
  });
  await scanBlobs(withFindings.flatMap((j) => j.oldBlobs.map((blob) => ({ blob, path: j.path }))));

  for (const job of jobs) {
    const result = cache.get(keyOf(job.blob, job.path));
    if (!result) continue;
    for (const why of partial.get(keyOf(job.blob, job.path)) ?? []) skipped.push({ commit: job.commit.sha, file: job.path, reason: `partially scanned (${why})` });
    if (!Array.isArray(result)) {
      skipped.push({ commit: job.commit.sha, file: job.path, reason: `${result.reason}${result.detail ? ` (${result.detail})` : ''}` });
      continue;
    }
    if (!result.length) continue;
    const known = new Set<string>();
    for (const old of job.oldBlobs) {
      const r = cache.get(keyOf(old, job.path));
      if (Array.isArray(r)) for (const f of r) known.add(f.fingerprint);
    }
    add(result.filter((f) => !known.has(f.fingerprint)), job.commit.sha, subjects.get(job.commit.sha) ?? safeSubject(job.commit.message, []), refOf.get(job.commit.sha) ?? '');
  }

  // A symlink's blob is a name (its target): scanned as a name too, where `/` may be a separator.
  const targets = symlinks.filter((j) => (sizes.get(j.blob)?.size ?? Infinity) <= 64 * 1024);
  const targetObjects = targets.length ? await source.read([...new Set(targets.map((j) => j.blob))]) : new Map<string, GitObject>();
  for (const j of targets) {
    const data = targetObjects.get(j.blob)?.data;
    if (data) add(await scanPathName(data.toString('utf8'), SYMLINK_LABEL + j.path), j.commit.sha, subjects.get(j.commit.sha) ?? '', refOf.get(j.commit.sha) ?? '');
  }

  // One finding per secret and place: the oldest outgoing commit that brought it.
  const position = new Map(order.map((c, i) => [c, i]));
  raw.sort((a, b) => (position.get(a.commit) ?? order.length) - (position.get(b.commit) ?? order.length));
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
  const rootCommits = history.filter((c) => c.parents.length === 0 && findings.some((f) => f.commit === c.sha)).map((c) => c.sha);
  return {
    refs,
    commits: order.length,
    findings,
    skipped,
    baselined,
    ms: Math.round(performance.now() - started),
    ...(rootCommits.length ? { rootCommits } : {}),
    ...(walkedNew && opts.tracking ? { assumedOnRemote: opts.tracking.note } : {}),
    ...(ignoredPaths.size ? { ignored: [...ignoredPaths] } : {}),
    ...(ignoreChanged ? { ignoreFileNotHonoured: true } : {}),
  };
}

/**
 * The subject line of a commit message, safe to show: each secret the scan found on it replaced
 * by its masked preview, then anything else shaped like a secret redacted.
 */
export function safeSubject(message: string, found: Finding[]): string {
  let line = message.split('\n', 1)[0] ?? '';
  const onFirst = found.filter((f) => f.line === 1).sort((a, b) => b.column - a.column);
  for (const f of onFirst) {
    const end = f.endLine === 1 ? f.endColumn - 1 : line.length;
    line = line.slice(0, f.column - 1) + f.preview + line.slice(end);
  }
  // A secret split over lines (a private key) starts on the subject and runs past it.
  return redact(subjectOf(line));
}

/** A ref that points at a blob or a tree, directly or through tags. */
interface ReachedObject {
  update: RefUpdate;
  id: string;
  type: 'blob' | 'tree';
}

/**
 * The commits a push adds, each attributed to the first ref (in git's order) that carries it.
 * Linear in refs and commits: one `cat-file --batch-check` peels every tip, and at most two
 * `rev-list` walks list the outgoing commits (refs whose remote tip is known exclude the remote
 * tips; new refs and refs over an unknown remote tip also exclude the remote-tracking refs). The
 * walk's parent links then attribute commits to refs, each commit visited once per walk.
 */
export async function outgoingCommits(
  source: HistorySource,
  updates: RefUpdate[],
  remote: string,
  tracking?: string[],
): Promise<{ refs: PushScanResult['refs']; order: string[]; refOf: Map<string, string>; reached: ReachedObject[]; walkedNew: boolean }> {
  const live = updates.filter((u) => !isZeroSha(u.localSha));
  const remoteTips = updates.map((u) => u.remoteSha).filter((s) => !isZeroSha(s));
  const peeled = await source.peel([...new Set([...live.map((u) => u.localSha), ...remoteTips])]);
  for (const u of live) if (!peeled.has(u.localSha)) throw new KeysentryError(`${u.localRef} points at ${u.localSha}, which is not in this repository`);
  // Tips the remote has and we know locally; a remote sha we never fetched cannot be excluded by id.
  const knownRemote = new Set(remoteTips.filter((s) => peeled.get(s)?.type === 'commit'));
  const exclude = [...new Set([...knownRemote].map((s) => (peeled.get(s) as { id: string }).id))];
  const commitTip = (u: RefUpdate): string | undefined => (peeled.get(u.localSha)?.type === 'commit' ? peeled.get(u.localSha)?.id : undefined);
  const groups = [
    { updates: live.filter((u) => commitTip(u) && knownRemote.has(u.remoteSha)), remote: undefined as string | undefined },
    { updates: live.filter((u) => commitTip(u) && !knownRemote.has(u.remoteSha)), remote: tracking ? undefined : remote, extra: tracking ?? [] },
  ];
  // Tracking ref ids that are not commits here (missing, or a tag of a tree) cannot be excluded.
  const trackingPeeled = tracking?.length ? await source.peel([...new Set(tracking)]) : new Map<string, { id: string; type: string }>();
  const trackingExclude = [...new Set([...trackingPeeled.values()].filter((p) => p.type === 'commit').map((p) => p.id))];
  const graphs = new Map<RefUpdate, { parents: Map<string, string[]>; position: Map<string, number>; visited: Set<string> }>();
  for (const g of groups) {
    if (!g.updates.length) continue;
    const walk = await source.commits([...new Set(g.updates.map((u) => commitTip(u) as string))], 'extra' in g ? [...new Set([...exclude, ...trackingExclude])] : exclude, g.remote);
    const graph = { parents: new Map(walk.map((c) => [c.sha, c.parents])), position: new Map(walk.map((c, i) => [c.sha, i])), visited: new Set<string>() };
    for (const u of g.updates) graphs.set(u, graph);
  }
  const refs: PushScanResult['refs'] = [];
  const refOf = new Map<string, string>();
  const order: string[] = [];
  const reached: ReachedObject[] = [];
  for (const u of updates) {
    if (isZeroSha(u.localSha)) {
      refs.push({ localRef: u.localRef, remoteRef: u.remoteRef, commits: 0, deleted: true });
      continue;
    }
    const target = peeled.get(u.localSha) as { id: string; type: string };
    if (target.type === 'blob' || target.type === 'tree') reached.push({ update: u, id: target.id, type: target.type });
    const graph = graphs.get(u);
    const mine: string[] = [];
    if (graph) {
      // Depth-first from the tip through outgoing commits; a commit seen by an earlier ref of the
      // same walk was attributed there, and so were its outgoing ancestors.
      const stack = [target.id];
      while (stack.length) {
        const c = stack.pop() as string;
        if (graph.visited.has(c) || !graph.parents.has(c)) continue;
        graph.visited.add(c);
        if (!refOf.has(c)) {
          refOf.set(c, u.localRef);
          mine.push(c);
        }
        for (const p of graph.parents.get(c) as string[]) stack.push(p);
      }
      mine.sort((a, b) => (graph.position.get(a) as number) - (graph.position.get(b) as number));
      order.push(...mine);
    }
    refs.push({ localRef: u.localRef, remoteRef: u.remoteRef, commits: mine.length, deleted: false });
  }
  return { refs, order, refOf, reached, walkedNew: (groups[1]?.updates.length ?? 0) > 0 };
}

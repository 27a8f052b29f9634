import { KeysentryError, type Finding } from './types';

/**
 * The pre-push gate's pure parts: git's hook input, the patch of the outgoing commits, and which
 * lines each commit adds. The git adapter (src/git/history.ts) runs the commands.
 */

/** One line of a pre-push hook's stdin (githooks(5)). */
export interface RefUpdate {
  localRef: string;
  localSha: string;
  remoteRef: string;
  remoteSha: string;
}

/** SHA-1 or SHA-256 object name made only of zeros: "nothing" in git's hook protocol. */
export const isZeroSha = (sha: string): boolean => /^0+$/.test(sha);
const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** Parses every line of git's pre-push input; blank lines are ignored, anything else malformed is an error. */
export function parsePushInput(input: string): RefUpdate[] {
  const updates: RefUpdate[] = [];
  input.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const parts = line.trim().split(/\s+/);
    const [localRef, localSha, remoteRef, remoteSha] = parts;
    if (parts.length !== 4 || !localRef || !remoteRef || !localSha || !remoteSha || !SHA.test(localSha) || !SHA.test(remoteSha)) {
      throw new KeysentryError(`pre-push input line ${i + 1} is not "<local ref> <local sha> <remote ref> <remote sha>": ${JSON.stringify(line.slice(0, 200))}`);
    }
    updates.push({ localRef, localSha, remoteRef, remoteSha });
  });
  return updates;
}

/** What one changed file in one commit adds. */
export interface FileChange {
  /** Path in the commit (the new path of a rename), `/` separators. */
  path: string;
  /** Full blob ids from `index old..new` (all zeros for "none"); undefined when the content did not change. */
  oldBlob?: string;
  newBlob?: string;
  /** Git showed "Binary files ... differ": added lines are unknown, the blob decides. */
  binary: boolean;
  /** A gitlink (submodule): never scanned here, its own repository is. */
  submodule: boolean;
  /** 1-based line numbers (in the new blob) of the added lines, ascending. */
  addedLines: number[];
  /** The added lines' text joined by "\n": a quick pre-filter before the blob is read. */
  addedText: string;
}

export interface CommitPatch {
  sha: string;
  parents: string[];
  message: string;
  files: FileChange[];
}

export const subjectOf = (message: string): string => message.split('\n', 1)[0]?.trim() ?? '';

/** The `git log --format` that {@link parsePatchLog} reads: NUL-separated header fields after a marker. */
export const PATCH_LOG_FORMAT = 'format:%x01KS%x00%H%x00%P%x00%B%x00';
const RECORD = '\x01KS\0';

/** Unquotes a path git printed C-style ("a\tb\303\251"), else returns it as is. */
export function unquoteGitPath(p: string): string {
  if (!p.startsWith('"') || !p.endsWith('"') || p.length < 2) return p;
  const bytes: number[] = [];
  const body = p.slice(1, -1);
  const simple: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = body[i + 1] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `a/P b/P` (same path on both sides, possibly quoted): P. */
function pathFromDiffLine(rest: string): string {
  const quoted = rest.startsWith('"');
  const half = (rest.length - (quoted ? 7 : 5)) / 2;
  if (!Number.isInteger(half) || half <= 0) return unquoteGitPath(rest);
  return quoted ? unquoteGitPath(`"${rest.slice(3, 3 + half)}"`) : rest.slice(2, 2 + half);
}

const stripPrefix = (p: string): string => {
  const unq = unquoteGitPath(p.replace(/\t$/, ''));
  return unq.startsWith('b/') ? unq.slice(2) : unq;
};

/**
 * Reads `git log -p -U0 --full-index --format=PATCH_LOG_FORMAT` output. Hunks are read by the
 * counts in their headers, so a content line that looks like a header cannot confuse it.
 */
export function parsePatchLog(output: string): CommitPatch[] {
  const commits: CommitPatch[] = [];
  let at = output.indexOf(RECORD);
  while (at !== -1) {
    const next = output.indexOf(RECORD, at + RECORD.length);
    const record = output.slice(at + RECORD.length, next === -1 ? undefined : next);
    at = next;
    const [sha = '', parents = '', message = '', ...rest] = record.split('\0');
    commits.push({ sha, parents: parents.split(' ').filter(Boolean), message: message.replace(/\n+$/, ''), files: parseDiff(rest.join('\0')) });
  }
  return commits;
}

function parseDiff(text: string): FileChange[] {
  const files: FileChange[] = [];
  const lines = text.split('\n');
  let file: FileChange | undefined;
  const added: string[] = [];
  const flush = (): void => {
    if (file) {
      file.addedText = added.join('\n');
      files.push(file);
    }
    added.length = 0;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith('diff --git ')) {
      flush();
      file = { path: pathFromDiffLine(line.slice(11)), binary: false, submodule: false, addedLines: [], addedText: '' };
      continue;
    }
    if (!file) continue;
    if (line.startsWith('@@ ')) {
      const m = /^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
      if (!m) continue;
      const removed = m[1] === undefined ? 1 : Number(m[1]);
      const start = Number(m[2]);
      const count = m[3] === undefined ? 1 : Number(m[3]);
      let seenAdded = 0;
      let seenRemoved = 0;
      // -U0: the hunk is exactly `removed` "-" lines and `count` "+" lines, plus "\ No newline" notes.
      while (i + 1 < lines.length && (seenAdded < count || seenRemoved < removed)) {
        const body = lines[i + 1] as string;
        if (body.startsWith('+') && seenAdded < count) {
          file.addedLines.push(start + seenAdded);
          added.push(body.slice(1));
          seenAdded++;
        } else if (body.startsWith('-') && seenRemoved < removed) seenRemoved++;
        else if (!body.startsWith('\\')) break;
        i++;
      }
      continue;
    }
    if (line.startsWith('index ')) {
      const m = /^index ([0-9a-f]+)\.\.([0-9a-f]+)(?: (\d+))?/.exec(line);
      if (m) {
        file.oldBlob = m[1];
        file.newBlob = m[2];
        if (m[3] === '160000') file.submodule = true;
      }
    } else if (/^(?:new file|deleted file|new|old) mode 160000/.test(line)) file.submodule = true;
    else if (line.startsWith('rename to ')) file.path = unquoteGitPath(line.slice(10));
    else if (line.startsWith('+++ ')) {
      if (line !== '+++ /dev/null') file.path = stripPrefix(line.slice(4));
    } else if (line.startsWith('Binary files ') || line === 'GIT binary patch') file.binary = true;
  }
  flush();
  return files;
}

/** A finding in the outgoing history: where it entered, and through which ref it leaves. */
export interface PushFinding extends Finding {
  commit: string;
  subject: string;
  /** The local ref whose push carries it (the first one, when several do). */
  ref: string;
}

export interface PushScanResult {
  /** Local refs pushed, with the number of outgoing commits each adds. */
  refs: Array<{ localRef: string; remoteRef: string; commits: number; deleted: boolean }>;
  commits: number;
  findings: PushFinding[];
  /** Files that could not be scanned (too large, unreadable blob); never silently dropped. */
  skipped: Array<{ commit: string; file: string; reason: string }>;
  baselined: number;
  ms: number;
}

/** Keeps findings that touch an added line (of a text diff). */
export function touchesAddedLines(f: Finding, added: readonly number[]): boolean {
  // `added` is ascending: binary search for the first added line >= f.line.
  let lo = 0;
  let hi = added.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((added[mid] as number) < f.line) lo = mid + 1;
    else hi = mid;
  }
  return lo < added.length && (added[lo] as number) <= f.endLine;
}

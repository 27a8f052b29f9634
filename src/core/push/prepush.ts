import { KeysentryError, type Finding } from '../types';

/**
 * The pre-push gate's pure parts: git's hook input and the changes of the outgoing commits.
 * The git adapter (src/git/history.ts) runs the commands.
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


/**
 * The ref line git would give the hook for pushing `branch` at `commit`: to its upstream when it
 * has one, else as a new branch on `defaultRemote` (everything not on that remote is outgoing).
 */
export function pushInputFor(branch: string, commit: string, upstream: { remote: string; name: string; commit?: string } | undefined, defaultRemote: string): { remote: string; input: string } {
  const zero = '0'.repeat(commit.length === 64 ? 64 : 40);
  if (upstream) {
    return { remote: upstream.remote, input: `refs/heads/${branch} ${commit} refs/heads/${upstream.name} ${upstream.commit ?? zero}\n` };
  }
  return { remote: defaultRemote, input: `refs/heads/${branch} ${commit} refs/heads/${branch} ${zero}\n` };
}

/** One file a commit changed, from `git log --raw -z`. */
export interface FileChange {
  /** Path in the commit (the new path of a rename), `/` separators, exactly as stored. */
  path: string;
  /** The blob the commit leaves at `path` (all zeros when it deleted the file). */
  newBlob: string;
  /** The blob(s) it replaced: one per parent for merges, zeros when the file is new. */
  oldBlobs: string[];
  /** A gitlink (submodule): its commits are scanned in its own repository (see submodules.ts). */
  submodule: boolean;
  /** A symbolic link (mode 120000): its blob is the target's name. */
  symlink?: boolean;
}

export interface CommitChanges {
  sha: string;
  parents: string[];
  message: string;
  files: FileChange[];
}

export const subjectOf = (message: string): string => message.split('\n', 1)[0]?.trim() ?? '';

/**
 * The `git log --format` that {@link parseRawLog} reads: NUL-separated header fields after a
 * marker; with `--raw -z` the changes follow as NUL-separated fields. Git refuses NUL bytes in
 * commit messages and `-z` paths are raw, so no field can contain the separator.
 */
export const RAW_LOG_FORMAT = 'format:%x01KS%x00%H%x00%P%x00%B%x00';
const RECORD = '\x01KS\0';

/** Reads `git log --raw -z --no-abbrev --format=RAW_LOG_FORMAT` output (merges as combined `::` lines). */
export function parseRawLog(output: string): CommitChanges[] {
  const commits: CommitChanges[] = [];
  let at = output.indexOf(RECORD);
  while (at !== -1) {
    const next = output.indexOf(RECORD, at + RECORD.length);
    const fields = output.slice(at + RECORD.length, next === -1 ? undefined : next).split('\0');
    at = next;
    const [sha = '', parents = '', message = ''] = fields;
    const files: FileChange[] = [];
    for (let i = 3; i < fields.length; i++) {
      const header = (fields[i] as string).replace(/^\n+/, '');
      if (!header.startsWith(':')) continue;
      const colons = /^:+/.exec(header)?.[0].length ?? 1;
      const parts = header.slice(colons).split(' ');
      const modes = parts.slice(0, colons + 1);
      const shas = parts.slice(colons + 1, 2 * colons + 2);
      const status = parts[2 * colons + 2] ?? '';
      // Renames and copies name the source first, then the destination.
      if (colons === 1 && /^[RC]/.test(status)) i++;
      const path = fields[++i] ?? '';
      files.push({ path, newBlob: shas[colons] ?? '', oldBlobs: shas.slice(0, colons), submodule: modes[colons] === '160000', ...(modes[colons] === '120000' ? { symlink: true } : {}) });
    }
    commits.push({ sha, parents: parents.split(' ').filter(Boolean), message: message.replace(/\n+$/, ''), files });
  }
  return commits;
}

/** A finding in the outgoing history: where it entered, and through which ref it leaves. */
export interface PushFinding extends Finding {
  commit: string;
  subject: string;
  /** The local ref whose push carries it (the first one, when several do). */
  ref: string;
}

export interface PushScanResult {
  /** Local refs pushed, with the number of outgoing commits first reached through each (a commit two refs carry counts for the first). */
  refs: Array<{ localRef: string; remoteRef: string; commits: number; deleted: boolean }>;
  commits: number;
  findings: PushFinding[];
  /** Files that could not be scanned (too large, unreadable blob); never silently dropped. */
  skipped: Array<{ commit: string; file: string; reason: string }>;
  baselined: number;
  ms: number;
  /** Outgoing commits with no parent (a first commit): rewriting them takes `git rebase -i --root`. */
  rootCommits?: string[];
  /** For new refs: which commits were taken as already on the remote, and why (src/git/remoteTrust.ts). */
  assumedOnRemote?: string;
  /** Paths in the push that .secretlintignore kept out of the scan (listed, never silent). */
  ignored?: string[];
  /** The pushed commits add or change .secretlintignore: it was not honoured for this push. */
  ignoreFileNotHonoured?: boolean;
  /**
   * Submodules whose recorded commits this push references (see src/git/submodules.ts): what was
   * scanned in each, and whether its own pushes are guarded by a Keysentry hook.
   */
  submodules?: SubmoduleCheck[];
}

/** One submodule the pushed commits point into. */
export interface SubmoduleCheck {
  /** Path in the superproject (nested ones as `outer/inner`). */
  path: string;
  /** Its commits that the push records and that are on none of its remote-tracking refs, scanned here. */
  commits: number;
  /** A current Keysentry block is in the submodule's own pre-push hook (where its pushes run hooks). */
  guarded: boolean;
  /** The submodule's pre-push hook file. */
  hookFile?: string;
  /** Set when nothing of it could be scanned here, with why (not checked out, commits missing). */
  note?: string;
  /**
   * Something the push can send was not scanned: `git push --recurse-submodules=on-demand` pushes
   * the submodule through its own hooks, and none of Keysentry's is there. Fail-closed blocks.
   */
  unguarded: boolean;
}

import { lstatSync } from 'node:fs';
import { escapeControl } from '../core/escape';
import { parseRawLog, RAW_LOG_FORMAT, type CommitChanges } from '../core/push/prepush';
import type { GitObject, HistorySource } from '../core/push/pushScan';
import { KeysentryError } from '../core/types';
import { gitAsync, NO_DIFF_PROGRAMS, PINNED_LOG_FORMAT } from './run';

/** Runs git (hardened: see ./run.ts), feeding `input`, and returns stdout. */
export function git(cwd: string, args: string[], input?: string | Buffer, opts: { keepHooksPath?: boolean } = {}): Promise<Buffer> {
  return gitAsync(cwd, args, { input, keepHooksPath: opts.keepHooksPath });
}

const lines = (b: Buffer): string[] => b.toString('utf8').split('\n').filter(Boolean);

/** Parses `git cat-file --batch` / `--batch-check` output. */
function parseBatch(out: Buffer, withData: boolean): Map<string, GitObject> {
  const objects = new Map<string, GitObject>();
  let at = 0;
  while (at < out.length) {
    const eol = out.indexOf(0x0a, at);
    if (eol === -1) break;
    const header = out.subarray(at, eol).toString('utf8');
    at = eol + 1;
    const [id = '', type = '', sizeText] = header.split(' ');
    if (type === 'missing' || type === 'ambiguous' || sizeText === undefined) continue;
    const size = Number(sizeText);
    if (withData) {
      objects.set(id, { type, size, data: out.subarray(at, at + size) });
      at += size + 1;
    } else objects.set(id, { type, size });
  }
  return objects;
}

/** A remote name no git remote can have (`*` is refused in names): exclude every remote's refs. */
export const ALL_REMOTES = '*';

/** The real repository behind the push scan. */
export class GitHistory implements HistorySource {
  constructor(private readonly cwd: string) {}

  async peel(ids: string[]): Promise<Map<string, { id: string; type: string }>> {
    const peeled = new Map<string, { id: string; type: string }>();
    if (!ids.length) return peeled;
    // One process for every ref: "<id>^{} <id>" peels tags, %(rest) says which input it answers.
    const out = await git(this.cwd, ['cat-file', '--batch-check=%(objectname) %(objecttype) %(rest)'], ids.map((id) => `${id}^{} ${id}`).join('\n') + '\n');
    for (const line of lines(out)) {
      const [id = '', type = '', asked] = line.split(' ');
      if (type === 'missing' || type === 'ambiguous' || !asked) continue;
      peeled.set(asked, { id, type });
    }
    return peeled;
  }

  async commits(tips: string[], exclude: string[], remote?: string): Promise<Array<{ sha: string; parents: string[] }>> {
    if (!tips.length) return [];
    // One walk for all tips; ids go on stdin (no argument-length limit, never read as options).
    const args = ['rev-list', '--reverse', '--topo-order', '--parents', '--stdin'];
    // `--not` here negates only the remote-tracking refs; stdin lines keep their own sign (`^id`).
    // ALL_REMOTES: every remote-tracking ref (what git asks of a submodule's commits before a push).
    if (remote === ALL_REMOTES) args.push('--not', '--remotes');
    else if (remote !== undefined && /^[A-Za-z0-9._-]+$/.test(remote)) args.push('--not', `--remotes=${remote}`);
    const input = [...tips, ...exclude.map((e) => `^${e}`)].join('\n') + '\n';
    return lines(await git(this.cwd, args, input)).map((l) => {
      const [sha = '', ...parents] = l.split(' ');
      return { sha, parents };
    });
  }

  async treeBlobs(tree: string): Promise<Array<{ path: string; blob: string }>> {
    const out = await git(this.cwd, ['ls-tree', '-r', '-z', '--full-tree', tree]);
    const blobs: Array<{ path: string; blob: string }> = [];
    for (const entry of out.toString('utf8').split('\0')) {
      const tab = entry.indexOf('\t');
      const [, type, blob] = entry.slice(0, tab).split(' ');
      if (type === 'blob' && blob) blobs.push({ path: entry.slice(tab + 1), blob });
    }
    return blobs;
  }

  async changes(commits: string[]): Promise<CommitChanges[]> {
    // Merges list only paths that differ from every parent (conflict resolutions, evil merges):
    // what a merge brings from its other parents is scanned in those parents' own commits.
    const out = await git(
      this.cwd,
      ['log', ...NO_DIFF_PROGRAMS, ...PINNED_LOG_FORMAT, '--no-walk=unsorted', '--stdin', '--raw', '-z', '--no-abbrev', '-M', '--diff-merges=combined', `--format=${RAW_LOG_FORMAT}`],
      commits.join('\n') + '\n',
    );
    return parseRawLog(out.toString('utf8'));
  }

  async sizes(ids: string[]): Promise<Map<string, GitObject>> {
    return ids.length ? parseBatch(await git(this.cwd, ['cat-file', '--batch-check'], ids.join('\n') + '\n'), false) : new Map();
  }

  async read(ids: string[]): Promise<Map<string, GitObject>> {
    return ids.length ? parseBatch(await git(this.cwd, ['cat-file', '--batch'], ids.join('\n') + '\n'), true) : new Map();
  }
}

/** `git rev-parse --git-path NAME` as an absolute path (honours worktrees and core.hooksPath for "hooks"). */
export async function gitPath(cwd: string, name: string): Promise<string> {
  // Reading where the hooks are must see the repository's core.hooksPath; nothing is run.
  const p = (await git(cwd, ['rev-parse', '--path-format=absolute', '--git-path', name], undefined, { keepHooksPath: name === 'hooks' })).toString('utf8').trim();
  if (!p) throw new KeysentryError(`not inside a git repository: ${cwd}`);
  return p;
}

/**
 * `info/grafts` rewrites parents for every reading command and has no command-line switch (unlike
 * replace refs, see ./run.ts): the scan would walk a history other than the one pushed. Refused.
 */
export async function refuseGrafts(cwd: string): Promise<void> {
  const grafts = await gitPath(cwd, 'info/grafts');
  let present = false;
  try {
    lstatSync(grafts);
    present = true;
  } catch {
    // absent: nothing rewrites the history
  }
  if (present || process.env.GIT_GRAFT_FILE) {
    throw new KeysentryError(`the repository has a grafts file (${escapeControl(present ? grafts : 'GIT_GRAFT_FILE')}), which makes git show a history other than the one pushed; remove it (or convert it with "git replace --convert-graft-file") and push again`);
  }
}

/**
 * Whether this git honours GIT_NO_LAZY_FETCH (2.39.4, 2.40.2, 2.41.1, 2.42.2, 2.43.4, 2.44.1 and
 * every release from 2.45): older git fetches missing objects of a partial clone from its promisor
 * remote while the scan reads them, running whatever transport the repository's config names.
 */
export function lazyFetchSwitchHonoured(versionText: string): boolean {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(versionText);
  if (!m) return false;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (major !== 2) return major > 2;
  if (minor >= 45) return true;
  const fixed: Record<number, number> = { 39: 4, 40: 2, 41: 1, 42: 2, 43: 4, 44: 1 };
  const first = fixed[minor];
  return first !== undefined && patch >= first;
}

/**
 * A partial clone (extensions.partialClone, remote.<name>.promisor) is refused on git that ignores
 * GIT_NO_LAZY_FETCH: reading a missing object there contacts the promisor remote (see ./run.ts).
 */
export async function refuseUnsafePartialClone(cwd: string): Promise<void> {
  let partial = '';
  try {
    partial = (await git(cwd, ['config', '--get-regexp', '^(extensions\\.partialclone|remote\\..*\\.promisor)$'])).toString('utf8').trim();
  } catch {
    return; // exit 1: no such setting
  }
  if (!partial) return;
  const version = (await git(cwd, ['--version'])).toString('utf8');
  if (!lazyFetchSwitchHonoured(version)) {
    throw new KeysentryError(`this repository is a partial clone and ${escapeControl(version.trim())} ignores GIT_NO_LAZY_FETCH: reading a missing object would fetch it from the promisor remote, running the transport the repository's config names. Update git (2.39.4, 2.40.2, 2.41.1, 2.42.2, 2.43.4, 2.44.1 or 2.45 and later) and push again`);
  }
}

export async function gitTopLevelAsync(cwd: string): Promise<string> {
  try {
    return (await git(cwd, ['rev-parse', '--show-toplevel'])).toString('utf8').trim();
  } catch {
    throw new KeysentryError(`not inside a git work tree: ${cwd}`);
  }
}

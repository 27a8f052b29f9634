import { isZeroSha, parseRawLog, RAW_LOG_FORMAT, type CommitChanges, type RefUpdate } from '../core/push/prepush';
import type { GitObject, HistorySource } from '../core/push/pushScan';
import { KeysentryError } from '../core/types';
import { gitAsync, NO_DIFF_PROGRAMS } from './run';

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

/** The real repository behind the push scan. */
export class GitHistory implements HistorySource {
  constructor(private readonly cwd: string) {}

  private async hasCommit(sha: string): Promise<boolean> {
    try {
      await git(this.cwd, ['cat-file', '-e', `${sha}^{commit}`]);
      return true;
    } catch {
      return false;
    }
  }

  async outgoing(update: RefUpdate, remote: string, alsoOnRemote: string[]): Promise<string[]> {
    // Tips the remote has and we know locally; a remote sha we never fetched cannot be excluded by id.
    const known: string[] = [];
    for (const sha of new Set(alsoOnRemote)) if (await this.hasCommit(sha)) known.push(sha);
    const exclude = [...known];
    // A new ref, or an update from a tip we do not have: everything not on any ref of that remote.
    const remoteKnown = !isZeroSha(update.remoteSha) && known.includes(update.remoteSha);
    const args = ['rev-list', '--reverse', '--topo-order', update.localSha, '--not', ...exclude];
    if (!remoteKnown && /^[A-Za-z0-9._-]+$/.test(remote)) args.push(`--remotes=${remote}`);
    // Only commits are walked: a tag pointing at a tree or blob adds no history.
    const type = (await git(this.cwd, ['cat-file', '-t', update.localSha])).toString().trim();
    if (type !== 'commit' && type !== 'tag') return [];
    return lines(await git(this.cwd, args));
  }

  async changes(commits: string[]): Promise<CommitChanges[]> {
    // Merges list only paths that differ from every parent (conflict resolutions, evil merges):
    // what a merge brings from its other parents is scanned in those parents' own commits.
    const out = await git(
      this.cwd,
      ['log', ...NO_DIFF_PROGRAMS, '--no-walk=unsorted', '--stdin', '--raw', '-z', '--no-abbrev', '-M', '--diff-merges=combined', `--format=${RAW_LOG_FORMAT}`],
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

export async function gitTopLevelAsync(cwd: string): Promise<string> {
  try {
    return (await git(cwd, ['rev-parse', '--show-toplevel'])).toString('utf8').trim();
  } catch {
    throw new KeysentryError(`not inside a git work tree: ${cwd}`);
  }
}

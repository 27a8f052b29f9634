import { spawn } from 'node:child_process';
import { isZeroSha, parseRawLog, RAW_LOG_FORMAT, type CommitChanges, type RefUpdate } from '../core/push/prepush';
import type { GitObject, HistorySource } from '../core/push/pushScan';
import { KeysentryError } from '../core/types';

/** Runs git, feeding `input`, and returns stdout. Fails with git's own message (never the input). */
export function git(cwd: string, args: string[], input?: string | Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => reject(new KeysentryError(`cannot run git: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new KeysentryError(`git ${args[0]} failed (exit ${code}): ${Buffer.concat(err).toString('utf8').trim().split('\n').slice(0, 3).join(' ')}`));
    });
    child.stdin.on('error', () => {}); // git may exit before reading all input; its exit code tells.
    child.stdin.end(input ?? '');
  });
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
      ['log', '--no-walk=unsorted', '--stdin', '--raw', '-z', '--no-abbrev', '-M', '--diff-merges=combined', `--format=${RAW_LOG_FORMAT}`],
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
  const p = (await git(cwd, ['rev-parse', '--path-format=absolute', '--git-path', name])).toString('utf8').trim();
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

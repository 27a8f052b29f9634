import { spawn } from 'node:child_process';
import { gitAsync, gitInvocation } from './run';

/** Paths per `git check-ignore` run (bounded so one stdin never grows without end). */
const MAX_BATCH = 2000;

/**
 * Asks git which of `paths` (relative to `cwd`, a work tree) it ignores: one `git check-ignore
 * --stdin -z` process for the whole batch, not one per file event. Tracked files are never
 * reported ignored (they are committed). When git cannot answer (no git, not a repository, a path
 * git refuses) nothing is ignored: the file is scanned, the safe side.
 */
export async function gitIgnoredAmong(cwd: string, paths: readonly string[]): Promise<Set<string>> {
  const ignored = new Set<string>();
  for (let i = 0; i < paths.length; i += MAX_BATCH) {
    for (const p of await batch(cwd, paths.slice(i, i + MAX_BATCH))) ignored.add(p);
  }
  return ignored;
}

function batch(cwd: string, paths: readonly string[]): Promise<string[]> {
  // Names with a NUL cannot exist on disk and would split the -z stream: left out (scanned).
  const asked = paths.filter((p) => p && !p.includes('\0'));
  if (!asked.length) return Promise.resolve([]);
  const inv = gitInvocation(['check-ignore', '--stdin', '-z']);
  return new Promise((resolve) => {
    const child = spawn('git', inv.args, { cwd, env: inv.env, stdio: ['pipe', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.on('error', () => resolve([]));
    child.on('close', (code) => {
      // 0: some are ignored; 1: none; anything else: git could not answer.
      if (code !== 0) return resolve([]);
      const wanted = new Set(asked);
      resolve(
        Buffer.concat(out)
          .toString('utf8')
          .split('\0')
          .map((p) => p.slice(2))
          .filter((p) => wanted.has(p)),
      );
    });
    child.stdin.on('error', () => {});
    // Each path is read as a pathspec: `./` keeps a leading `:` from being magic (`:(exclude)…`,
    // or a fatal "unimplemented magic" that would fail the whole batch). Git echoes the prefix back.
    child.stdin.end(asked.map((p) => `./${p}\0`).join(''));
  });
}

/** Collects check-ignore questions for a short moment and asks git once per work tree. */
export class CheckIgnoreBatcher {
  private readonly pending = new Map<string, Map<string, Array<(ignored: boolean) => void>>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly delayMs = 20) {}

  ignores(cwd: string, rel: string): Promise<boolean> {
    return new Promise((resolve) => {
      let byPath = this.pending.get(cwd);
      if (!byPath) this.pending.set(cwd, (byPath = new Map()));
      const waiting = byPath.get(rel);
      if (waiting) waiting.push(resolve);
      else byPath.set(rel, [resolve]);
      this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
    });
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const work = [...this.pending];
    this.pending.clear();
    await Promise.all(
      work.map(async ([cwd, byPath]) => {
        const ignored = await gitIgnoredAmong(cwd, [...byPath.keys()]);
        for (const [rel, waiters] of byPath) for (const w of waiters) w(ignored.has(rel));
      }),
    );
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const byPath of this.pending.values()) for (const waiters of byPath.values()) for (const w of waiters) w(false);
    this.pending.clear();
  }
}

/**
 * Which of `paths` (relative to `cwd`) git tracks (in the index: committed or staged), in one
 * `git ls-files` per 500 names; undefined when git cannot answer (not a repository, no git).
 */
export async function gitTrackedAmong(cwd: string, paths: readonly string[]): Promise<Set<string> | undefined> {
  const tracked = new Set<string>();
  for (let i = 0; i < paths.length; i += 500) {
    const chunk = paths.slice(i, i + 500).filter((p) => p && !p.includes('\0'));
    if (!chunk.length) continue;
    let out: Buffer;
    try {
      out = await gitAsync(cwd, ['ls-files', '-z', '--', ...chunk.map((p) => `:(literal)${p}`)]);
    } catch {
      return undefined;
    }
    // Names come back relative to cwd, as asked.
    const listed = new Set(out.toString('utf8').split('\0').filter(Boolean));
    for (const p of chunk) if (listed.has(p)) tracked.add(p);
  }
  return tracked;
}

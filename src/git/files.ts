import { execFile, execFileSync } from 'node:child_process';

/** The work tree root containing `dir`, or undefined outside a git repository (or without git). */
export function gitTopLevel(dir: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * What git would commit under `dir`: tracked files plus untracked files that `.gitignore`,
 * `.git/info/exclude` and the global excludes do not ignore. Paths are relative to `dir`.
 */
export function gitCommittableFiles(dir: string): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate'], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return out.split('\0').filter(Boolean);
}

/** True when git ignores `file` (so it would never be committed). False outside a repository. */
export function gitIgnores(file: string, cwd: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = execFile('git', ['check-ignore', '-q', '--', file], { cwd }, (error) => {
      resolve(!error);
    });
    child.on('error', () => resolve(false));
  });
}

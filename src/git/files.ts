import { nameFromBytes, type FsPath } from '../core/detect/scanFiles';
import { gitStatus, gitSync } from './run';

/** The work tree root containing `dir`, or undefined outside a git repository (or without git, or when git refuses it). */
export function gitTopLevel(dir: string): string | undefined {
  try {
    return gitSync(dir, ['rev-parse', '--show-toplevel']).toString('utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Splits NUL-terminated `-z` output into names (raw bytes, see {@link nameFromBytes}). */
export function splitZ(out: Buffer): FsPath[] {
  const names: FsPath[] = [];
  let at = 0;
  while (at < out.length) {
    let end = out.indexOf(0, at);
    if (end === -1) end = out.length;
    if (end > at) names.push(nameFromBytes(out.subarray(at, end)));
    at = end + 1;
  }
  return names;
}

/**
 * What git would commit under `dir`: tracked files plus untracked files that `.gitignore`,
 * `.git/info/exclude` and the global excludes do not ignore. Paths are relative to `dir`, as git
 * stores them (bytes when they are not UTF-8). Folders git could not open are `unreadable`
 * (git only warns, and lists nothing from them).
 */
export function gitCommittableFiles(dir: string): { files: FsPath[]; unreadable: Array<{ folder: string; detail: string }>; submodules: FsPath[] } {
  let warnings = '';
  const out = gitSync(dir, ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate'], { onStderr: (t) => (warnings += t) });
  const unreadable = [...warnings.matchAll(/could not open directory '(.*)': (.*)$/gm)].map((m) => ({ folder: m[1] as string, detail: m[2] as string }));
  // Gitlinks (submodules, mode 160000) are listed like files but are repositories of their own:
  // they are reported as not scanned, never dropped silently.
  const staged = splitZ(gitSync(dir, ['ls-files', '-z', '--stage']));
  const key = (f: FsPath): string => (typeof f === 'string' ? f : f.toString('latin1'));
  const submodules: FsPath[] = [];
  for (const entry of staged) {
    const e = typeof entry === 'string' ? entry : entry.toString('latin1');
    if (!e.startsWith('160000 ')) continue;
    const tab = e.indexOf('\t');
    const name = typeof entry === 'string' ? entry.slice(tab + 1) : entry.subarray(tab + 1);
    submodules.push(name);
  }
  const skip = new Set(submodules.map(key));
  return { files: splitZ(out).filter((f) => !skip.has(key(f))), unreadable, submodules };
}

/** True when git ignores `file` (so it would never be committed). False outside a repository. */
export async function gitIgnores(file: string, cwd: string): Promise<boolean> {
  return (await gitStatus(cwd, ['check-ignore', '-q', '--', file])) === 0;
}

/** True when `file` is tracked in the repository around it. False outside a repository. */
export function gitTracks(file: string, cwd: string): boolean {
  try {
    return gitSync(cwd, ['ls-files', '-z', '--', file]).length > 0;
  } catch {
    return false;
  }
}

import { gitStatus, gitSync } from './run';

/** The work tree root containing `dir`, or undefined outside a git repository (or without git, or when git refuses it). */
export function gitTopLevel(dir: string): string | undefined {
  try {
    return gitSync(dir, ['rev-parse', '--show-toplevel']).toString('utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A name git printed, as bytes: a string when the bytes are UTF-8 (and round-trip), else the
 * Buffer itself, which node:fs accepts as a path. A file name need not be UTF-8 on Linux.
 */
export function nameFromBytes(bytes: Buffer): string | Buffer {
  const text = bytes.toString('utf8');
  return Buffer.byteLength(text) === bytes.length && Buffer.from(text, 'utf8').equals(bytes) ? text : Buffer.from(bytes);
}

/** Splits NUL-terminated `-z` output into names (raw bytes, see {@link nameFromBytes}). */
export function splitZ(out: Buffer): Array<string | Buffer> {
  const names: Array<string | Buffer> = [];
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
 * stores them (bytes when they are not UTF-8).
 */
export function gitCommittableFiles(dir: string): Array<string | Buffer> {
  return splitZ(gitSync(dir, ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate']));
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

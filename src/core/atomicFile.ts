import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, lstatSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import path from 'node:path';
import { KeysentryError } from './types';

/**
 * The file a write to `file` really changes: the end of its symlink chain (a dotfile manager's
 * `~/.aws/credentials -> ~/dotfiles/aws/credentials` stays a symlink), or `file` when it does not
 * exist yet. Throws for a symlink to nothing.
 */
export function writeTarget(file: string): string {
  let st: Stats;
  try {
    st = lstatSync(file);
  } catch {
    return file;
  }
  if (!st.isSymbolicLink()) return file;
  try {
    return realpathSync(file);
  } catch {
    throw new KeysentryError(`${file} is a symlink to a missing file`);
  }
}

/** Read-only for this process, or for everyone by its mode (root may write anything, but a 0444 file says "do not"). */
function isReadOnly(target: string, st: Stats): boolean {
  if ((st.mode & 0o222) === 0) return true;
  try {
    accessSync(target, constants.W_OK);
    return false;
  } catch {
    return true;
  }
}

const inGroup = (gid: number): boolean => process.getgid?.() === gid || (process.getgroups?.() ?? []).includes(gid);
const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * Why `file` (an existing file) cannot be replaced keeping everything about it, or undefined:
 * not a regular file, read-only, a folder that does not let a file be created beside it, or an
 * owner or group this process could not give the new file.
 */
export function writeProblem(file: string): string | undefined {
  let target: string;
  try {
    target = writeTarget(file);
  } catch (e) {
    return (e as Error).message;
  }
  let st: Stats;
  try {
    st = statSync(target);
  } catch {
    return `${file} does not exist`;
  }
  const via = target === file ? '' : ` (the target of the symlink ${file})`;
  if (!st.isFile()) return `${target}${via} is not a regular file`;
  if (isReadOnly(target, st)) return `${target}${via} is read-only: make it writable (chmod u+w) if Keysentry should update it`;
  if (st.nlink > 1) return hardLinkProblem(target, st.nlink, via);
  try {
    accessSync(path.dirname(target), constants.W_OK | constants.X_OK);
  } catch {
    return `the folder of ${target}${via} is not writable, so the file cannot be replaced safely`;
  }
  if (process.getuid && !isRoot()) {
    if (st.uid !== process.getuid()) return `${target}${via} belongs to another user (uid ${st.uid}): a rewrite would change its owner`;
    if (!inGroup(st.gid)) return `${target}${via} has a group (gid ${st.gid}) this user is not in: a rewrite would change its group`;
  }
  return undefined;
}

/**
 * A file with other hard links cannot be replaced by a rename without splitting it: the other
 * names would keep the old content (for a rotation: the old, soon deleted key). Writing it in place
 * instead could leave half a write after a crash, so Keysentry refuses and says how to go on.
 */
function hardLinkProblem(target: string, nlink: number, via = ''): string {
  return (
    `${target}${via} has ${nlink} hard links: replacing it would give the new content to this name only, and the ${nlink - 1} other link(s) would keep the old one. ` +
    'Keysentry does not rewrite hard-linked files: replace the other links with symlinks to this file (ln -sf), or name each copy separately, then try again'
  );
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some file systems do not allow syncing a folder: the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes through a temporary file beside the target and a rename: a crash leaves the old content
 * or the new, never half, and the new content is on disk (fsync) when this returns.
 * - A symlink is written through: its target changes, the link stays.
 * - An existing file keeps its mode (unless `mode` is given), owner and group; a read-only or
 *   non-regular target is refused, as is one whose owner or group cannot be kept.
 * - The temporary file is created 0600 (it may hold secrets) and removed on every error.
 * - `refuseHardLinks`: a file with other hard links is refused (the rename would split it).
 */
export function writeFileAtomic(file: string, content: string | Buffer, mode?: number, opts: { refuseHardLinks?: boolean } = {}): void {
  const target = writeTarget(file);
  let existing: Stats | undefined;
  try {
    existing = statSync(target);
  } catch {
    existing = undefined;
  }
  if (existing) {
    if (!existing.isFile()) throw new KeysentryError(`${target} is not a regular file; not overwriting it`);
    if (isReadOnly(target, existing)) throw new KeysentryError(`${target} is read-only; not overwriting it`);
    if (opts.refuseHardLinks && existing.nlink > 1) throw new KeysentryError(hardLinkProblem(target, existing.nlink));
  }
  const finalMode = mode ?? (existing ? existing.mode & 0o7777 : 0o666 & ~process.umask());
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.keysentry-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    if (existing) {
      const mine = fstatSync(fd);
      if (mine.uid !== existing.uid || mine.gid !== existing.gid) {
        try {
          fchownSync(fd, existing.uid, existing.gid);
        } catch {
          throw new KeysentryError(`${target}: its owner or group (uid ${existing.uid}, gid ${existing.gid}) cannot be kept by this user; not overwriting it`);
        }
      }
    }
    fchmodSync(fd, finalMode);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(path.dirname(target));
}

export { sweepStaleTemps } from './fileLock';

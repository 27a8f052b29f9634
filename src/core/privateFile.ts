/**
 * Files Keysentry writes for itself (exports, reports, stored investigations) may hold account
 * data: they are written 0600 in folders created 0700, and never through a symbolic link.
 * Unlike core/atomicFile (which deliberately writes through a link: a dotfile manager's
 * `~/.aws/credentials`), a link here can only be someone's attempt to send the file elsewhere
 * (into a repository, a synced folder), so:
 * - under `$KEYSENTRY_HOME`, every path component below the home (folders and the file) is
 *   checked with lstat: a symlink or a non-folder is refused, missing folders are created one by
 *   one (0700), never with `recursive` (which accepts an existing link to a folder);
 * - the file itself, anywhere, is refused when it is a link or not a regular file;
 * - the content goes to a temporary file opened O_CREAT | O_EXCL | O_NOFOLLOW (0600) and is
 *   renamed over the name (rename replaces the directory entry, never writes through a link);
 *   the folders are checked again right before the rename.
 * Reading (readPrivateFile) opens with O_NOFOLLOW | O_NONBLOCK and the same folder checks.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { keysentryHome } from './home';
import { KeysentryError } from './types';

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

const linkMessage = (p: string): string =>
  `${p} is a symbolic link; Keysentry never follows one in its own folder, so that nothing is written elsewhere. Remove the link (and move what it points to there, if it is yours)`;

/** The folders from below `home` down to `dir`, or undefined when `dir` is not inside `home`. */
function foldersUnder(home: string, dir: string): string[] | undefined {
  const rel = path.relative(path.resolve(home), path.resolve(dir));
  if (rel === '') return [];
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const out: string[] = [];
  let cur = path.resolve(home);
  for (const part of rel.split(path.sep)) {
    cur = path.join(cur, part);
    out.push(cur);
  }
  return out;
}

/** Checks (and with `create`, makes 0700) each folder below the home: none may be a link or a non-folder. */
function checkFolders(folders: string[], create: boolean): void {
  for (const dir of folders) {
    let st;
    try {
      st = lstatSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !create) throw e;
      try {
        mkdirSync(dir, { mode: 0o700 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      st = lstatSync(dir);
    }
    if (st.isSymbolicLink()) throw new KeysentryError(linkMessage(dir));
    if (!st.isDirectory()) throw new KeysentryError(`${dir} is not a folder`);
  }
}

function refuseLinkedFile(file: string): void {
  let st;
  try {
    st = lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (st.isSymbolicLink()) throw new KeysentryError(linkMessage(file));
  if (!st.isFile()) throw new KeysentryError(`${file} is not a regular file; not overwriting it`);
}

/**
 * Writes `text` to `file` atomically, 0600, never through a symbolic link (see the module
 * comment). `home` defaults to `$KEYSENTRY_HOME`; a file outside it (an export the user chose
 * in a dialog) gets its folder created as usual, but is still never written through a link.
 */
export function writePrivateFile(file: string, text: string, home = keysentryHome()): void {
  const dir = path.dirname(path.resolve(file));
  const folders = foldersUnder(home, dir);
  if (folders) checkFolders(folders, true);
  else mkdirSync(dir, { recursive: true, mode: 0o700 });
  refuseLinkedFile(file);
  const tmp = path.join(dir, `.${path.basename(file)}.keysentry-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o600);
    fchmodSync(fd, 0o600);
    const data = Buffer.from(text, 'utf8');
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (folders) checkFolders(folders, false);
    refuseLinkedFile(file);
    renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // some file systems do not sync a folder; the rename is still atomic
  }
}

/**
 * Reads a file Keysentry wrote (see writePrivateFile): undefined when it does not exist; throws
 * when it, or a folder below the home on its way, is a symbolic link, when it is not a regular
 * file, or when it is larger than `maxBytes`.
 */
export function readPrivateFile(file: string, maxBytes: number, home = keysentryHome()): string | undefined {
  const folders = foldersUnder(home, path.dirname(path.resolve(file)));
  try {
    if (folders) checkFolders(folders, false);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'EMLINK') throw new KeysentryError(linkMessage(file));
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new KeysentryError(`${file} is not a regular file`);
    if (st.size > maxBytes) throw new KeysentryError(`${file}: ${st.size} bytes is too large`);
    const buf = Buffer.alloc(st.size);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, n);
      if (r === 0) break;
      n += r;
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';

/**
 * One reader for the configuration files a repository carries (`.keysentry-baseline.json`,
 * `.secretlintignore`). Their content is attacker-controlled, and so is their *type*: a committed
 * symlink to `/dev/zero` once made a scan allocate ~16 GB, a FIFO made it wait forever. So:
 * `lstat` first and refuse anything but a regular file (symlinks, FIFOs, devices, sockets,
 * folders); open with O_NOFOLLOW | O_NONBLOCK (a swap between the lstat and the open can neither
 * follow a link nor block on a FIFO); `fstat` the open descriptor and check again; read at most
 * the cap. Never throws for a file that is there: it answers why it refused instead.
 */

/** Config files are small; anything above this is not one we will parse. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

export type ConfigRead =
  | { status: 'missing' }
  | { status: 'ok'; text: string; bytes: Buffer }
  | { status: 'refused'; reason: 'not-a-file' | 'too-large' | 'unreadable'; detail: string };

function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

// O_NOFOLLOW and O_NONBLOCK do not exist on Windows; there the lstat and fstat checks remain.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

export function readConfigFile(file: string, maxBytes = MAX_CONFIG_FILE_BYTES): ConfigRead {
  let st: Stats;
  try {
    st = lstatSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'missing' };
    return { status: 'refused', reason: 'unreadable', detail: code ?? 'error' };
  }
  if (!st.isFile()) return { status: 'refused', reason: 'not-a-file', detail: `${kindOf(st)}, not read` };
  if (st.size > maxBytes) return { status: 'refused', reason: 'too-large', detail: `${st.size} bytes > ${maxBytes}, not read` };
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ELOOP: it became a symlink after the lstat.
    if (code === 'ELOOP') return { status: 'refused', reason: 'not-a-file', detail: 'a symbolic link, not read' };
    if (code === 'ENOENT') return { status: 'missing' };
    return { status: 'refused', reason: 'unreadable', detail: code ?? 'error' };
  }
  try {
    const fst = fstatSync(fd);
    if (!fst.isFile()) return { status: 'refused', reason: 'not-a-file', detail: `${kindOf(fst)}, not read` };
    if (fst.size > maxBytes) return { status: 'refused', reason: 'too-large', detail: `${fst.size} bytes > ${maxBytes}, not read` };
    // Read one byte past the cap: a file that grew since the fstat is refused, never read whole.
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, buf, n, buf.length - n, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return { status: 'refused', reason: 'unreadable', detail: code === 'EAGAIN' ? 'would block, not read' : (code ?? 'error') };
      }
      if (got === 0) break;
      n += got;
      if (n > maxBytes) return { status: 'refused', reason: 'too-large', detail: `more than ${maxBytes} bytes, not read` };
    }
    const bytes = buf.subarray(0, n);
    return { status: 'ok', text: bytes.toString('utf8'), bytes };
  } finally {
    closeSync(fd);
  }
}

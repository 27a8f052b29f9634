import { gunzipSync, inflateRawSync } from 'node:zlib';

// Archives hide what they hold from a plain scan: a gzip'd credentials file or a zip of a project
// (a build artefact, a "backup.zip" committed by mistake) shows no key in its bytes. These
// functions open the three containers that commit histories are full of (zip and its relatives
// jar/apk/docx, gzip, tar, and tar.gz) so the scanner can scan what is inside.
//
// Written here rather than taken from a library: the zip readers on npm (yauzl, fflate, adm-zip)
// inflate an entry to whatever size its header claims or is actually there, and an archive in a
// repository is attacker-controlled (a 42 KB "zip bomb" expands to petabytes; overlapping entries
// make a small zip expand quadratically). Node's own zlib does the inflating here, with
// `maxOutputLength` set to what is left of one budget shared by every entry at every depth, so the
// work and memory are bounded by the budget whatever the archive says. The container formats
// themselves are a few fixed-layout headers (PKWARE APPNOTE 6.3: local file header, central
// directory, end of central directory; POSIX ustar; RFC 1952 gzip).

/** Limits shared by one top-level file and every archive nested in it. */
export interface ArchiveBudget {
  /** Bytes that may still be produced by decompression. */
  bytesLeft: number;
  /** Entries that may still be opened. */
  entriesLeft: number;
}

export const ARCHIVE_LIMITS = {
  /** Decompressed bytes per top-level file, all entries and depths together. */
  bytes: 64 * 1024 * 1024,
  entries: 10_000,
  /** Archives inside archives: a.zip!b.tar.gz!c.env is depth 2. */
  depth: 3,
} as const;

export const newArchiveBudget = (): ArchiveBudget => ({ bytesLeft: ARCHIVE_LIMITS.bytes, entriesLeft: ARCHIVE_LIMITS.entries });

export interface ArchiveEntry {
  /** The entry's name inside the archive, `/` separators (as the archive stores it). */
  name: string;
  bytes: Buffer;
}

export interface ArchiveContents {
  /** xz, bzip2, zstd and 7z are recognised but not opened (Node has no decoder for them): listed in `notOpened`. */
  format: 'zip' | 'gzip' | 'tar' | 'tar.gz' | 'xz' | 'bzip2' | 'zstd' | '7z';
  entries: ArchiveEntry[];
  /** Entries (or the rest of the archive) that were not opened, and why. */
  notOpened: Array<{ name: string; why: string }>;
}

const ZIP_LOCAL = 0x04034b50;
const ZIP_CENTRAL = 0x02014b50;
const ZIP_END = 0x06054b50;

export function archiveFormat(bytes: Buffer): ArchiveContents['format'] | undefined {
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === ZIP_LOCAL) return 'zip';
  // An empty zip is only its end record.
  if (bytes.length >= 22 && bytes.readUInt32LE(0) === ZIP_END) return 'zip';
  if (bytes.length >= 18 && bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 8) return 'gzip';
  if (isTar(bytes)) return 'tar';
  return undefined;
}

/**
 * Compressed formats Node cannot decompress (node:zlib has gzip, deflate and brotli only; zstd
 * arrives in later Node releases), by their magic bytes. Writing a decoder for each is out of
 * scope: such a file is reported as partially scanned instead of passing as clean.
 */
const UNOPENED: Array<{ format: 'xz' | 'bzip2' | 'zstd' | '7z'; test: (b: Buffer) => boolean }> = [
  { format: 'xz', test: (b) => b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) },
  // "BZh" + block size digit + the block (pi) or end-of-stream (sqrt pi) magic: plain text starting with "BZh" is not taken.
  { format: 'bzip2', test: (b) => b.length >= 10 && b.toString('latin1', 0, 3) === 'BZh' && (b[3] ?? 0) >= 0x31 && (b[3] ?? 0) <= 0x39 && ['314159265359', '177245385090'].includes(b.toString('hex', 4, 10)) },
  { format: 'zstd', test: (b) => b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528 },
  { format: '7z', test: (b) => b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) },
];

const isTar = (b: Buffer): boolean => b.length >= 512 && b.toString('latin1', 257, 262) === 'ustar';

/**
 * The entries of an archive, or undefined when the bytes are not one of the formats above.
 * Never throws on malformed input: what cannot be opened is listed in `notOpened`.
 */
export function openArchive(bytes: Buffer, budget: ArchiveBudget): ArchiveContents | undefined {
  const unopened = UNOPENED.find((u) => u.test(bytes));
  if (unopened) return { format: unopened.format, entries: [], notOpened: [{ name: `(${unopened.format} content)`, why: 'compressed format not opened' }] };
  const format = archiveFormat(bytes);
  if (!format) return undefined;
  if (format === 'zip') return openZip(bytes, budget);
  if (format === 'tar') return openTar(bytes, budget, 'tar');
  const out: ArchiveContents = { format: 'gzip', entries: [], notOpened: [] };
  const inner = inflate(() => gunzipSync(bytes, { maxOutputLength: Math.max(1, budget.bytesLeft) }), budget);
  if (typeof inner === 'string') {
    out.notOpened.push({ name: gzipName(bytes), why: inner });
    return out;
  }
  if (isTar(inner)) return { ...openTar(inner, budget, 'tar.gz'), format: 'tar.gz' };
  if (take(budget)) out.entries.push({ name: gzipName(bytes), bytes: inner });
  else out.notOpened.push({ name: gzipName(bytes), why: 'too many archive entries' });
  return out;
}

/** Runs a zlib call within the budget; the error text when it fails or would exceed it. */
function inflate(run: () => Buffer, budget: ArchiveBudget): Buffer | string {
  if (budget.bytesLeft <= 0) return `over the ${ARCHIVE_LIMITS.bytes / 1024 / 1024} MB decompression budget`;
  try {
    const out = run();
    budget.bytesLeft -= out.length;
    return out;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || /maxOutputLength|Cannot create a Buffer larger/i.test(String((e as Error).message))) {
      budget.bytesLeft = 0;
      return `over the ${ARCHIVE_LIMITS.bytes / 1024 / 1024} MB decompression budget`;
    }
    return `corrupt compressed data (${code ?? 'zlib error'})`;
  }
}

function take(budget: ArchiveBudget): boolean {
  if (budget.entriesLeft <= 0) return false;
  budget.entriesLeft--;
  return true;
}

/** The original name a gzip header stores (FNAME), else "(gzip content)". */
function gzipName(b: Buffer): string {
  const flags = b[3] ?? 0;
  let p = 10;
  if (flags & 4) {
    if (p + 2 > b.length) return '(gzip content)';
    p += 2 + b.readUInt16LE(p);
  }
  if (!(flags & 8) || p >= b.length) return '(gzip content)';
  const end = b.indexOf(0, p);
  if (end === -1 || end - p > 1024) return '(gzip content)';
  return b.toString('latin1', p, end) || '(gzip content)';
}

function openZip(b: Buffer, budget: ArchiveBudget): ArchiveContents {
  const out: ArchiveContents = { format: 'zip', entries: [], notOpened: [] };
  // The end record sits in the last 22 + 65,535 (comment) bytes: a bounded backwards search.
  let end = -1;
  for (let p = b.length - 22; p >= Math.max(0, b.length - 22 - 0xffff); p--) {
    if (b.readUInt32LE(p) === ZIP_END) {
      end = p;
      break;
    }
  }
  if (end === -1) {
    out.notOpened.push({ name: '(zip)', why: 'no central directory (truncated or streamed zip)' });
    return out;
  }
  const count = b.readUInt16LE(end + 10);
  const cdOffset = b.readUInt32LE(end + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) {
    out.notOpened.push({ name: '(zip)', why: 'ZIP64 archive (not opened)' });
    return out;
  }
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > b.length || b.readUInt32LE(p) !== ZIP_CENTRAL) {
      out.notOpened.push({ name: '(zip)', why: `central directory ends early (${count - i} of ${count} entries unreadable)` });
      break;
    }
    const flags = b.readUInt16LE(p + 8);
    const method = b.readUInt16LE(p + 10);
    const compSize = b.readUInt32LE(p + 20);
    const nameLen = b.readUInt16LE(p + 28);
    const extraLen = b.readUInt16LE(p + 30);
    const commentLen = b.readUInt16LE(p + 32);
    const local = b.readUInt32LE(p + 42);
    const name = b.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, Math.min(b.length, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    if (flags & 1) {
      out.notOpened.push({ name, why: 'encrypted entry (needs its password)' });
      continue;
    }
    if (method !== 0 && method !== 8) {
      out.notOpened.push({ name, why: `compression method ${method} (only stored and deflate are opened)` });
      continue;
    }
    if (local + 30 > b.length || b.readUInt32LE(local) !== ZIP_LOCAL) {
      out.notOpened.push({ name, why: 'entry header missing' });
      continue;
    }
    const dataStart = local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28);
    const data = b.subarray(Math.min(dataStart, b.length), Math.min(dataStart + compSize, b.length));
    if (!take(budget)) {
      out.notOpened.push({ name: '(zip)', why: `more than ${ARCHIVE_LIMITS.entries} entries: the rest were not opened` });
      break;
    }
    if (method === 0) {
      // Stored: the bytes as they are, still counted against the budget (overlapping entries).
      if (budget.bytesLeft < data.length) {
        budget.bytesLeft = 0;
        out.notOpened.push({ name, why: `over the ${ARCHIVE_LIMITS.bytes / 1024 / 1024} MB decompression budget` });
        break;
      }
      budget.bytesLeft -= data.length;
      out.entries.push({ name, bytes: data });
      continue;
    }
    const inner = inflate(() => inflateRawSync(data, { maxOutputLength: Math.max(1, budget.bytesLeft) }), budget);
    if (typeof inner === 'string') {
      out.notOpened.push({ name, why: inner });
      if (budget.bytesLeft <= 0) break;
      continue;
    }
    out.entries.push({ name, bytes: inner });
  }
  return out;
}

function openTar(b: Buffer, budget: ArchiveBudget, format: 'tar' | 'tar.gz'): ArchiveContents {
  const out: ArchiveContents = { format, entries: [], notOpened: [] };
  let p = 0;
  let longName: string | undefined;
  while (p + 512 <= b.length) {
    const header = b.subarray(p, p + 512);
    if (header.every((x) => x === 0)) break;
    const sizeField = header.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim();
    const size = /^[0-7]+$/.test(sizeField) ? parseInt(sizeField, 8) : NaN;
    if (!Number.isSafeInteger(size)) {
      out.notOpened.push({ name: '(tar)', why: 'unreadable entry header: the rest was not opened' });
      break;
    }
    const type = String.fromCharCode(header[156] ?? 0);
    const prefix = header.toString('latin1', 345, 500).replace(/\0.*$/s, '');
    const base = header.toString('latin1', 0, 100).replace(/\0.*$/s, '');
    const name = longName ?? (prefix ? `${prefix}/${base}` : base);
    const data = b.subarray(p + 512, Math.min(b.length, p + 512 + size));
    p += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    longName = undefined;
    if (type !== '0' && type !== '\0' && type !== '7') continue;
    if (!take(budget)) {
      out.notOpened.push({ name: '(tar)', why: `more than ${ARCHIVE_LIMITS.entries} entries: the rest were not opened` });
      break;
    }
    // tar entries are views of bytes already counted (by the gzip layer or the file's own size).
    out.entries.push({ name, bytes: data });
  }
  return out;
}

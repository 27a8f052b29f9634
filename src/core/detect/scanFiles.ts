import { closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { writeFileAtomic } from '../atomicFile';
import { addToBaseline, parseBaseline, baselineFingerprints, BASELINE_FILE } from './baseline';
import { scanKeyContainer, scanText, type TextScanOptions } from './engine';
import { readConfigFile } from './configFiles';
import { IgnoreMatcher } from './ignoreFile';
import { anchorRegex, isKeyFileName } from './patterns';
import { scanListedName } from './pathNames';
import { ARCHIVE_LIMITS, newArchiveBudget, openArchive, type ArchiveBudget, type ArchiveContents } from './archives';
import { KeysentryError, type Finding, type ScanResult, type SkippedFile } from '../types';
import { displayBytes, escapeControl } from '../escape';

export const DEFAULT_MAX_FILE_SIZE = 50 * 1024 * 1024;

/** Folders of installed dependencies, skipped outside git (inside git, .gitignore decides). */
export const DEPENDENCY_DIRS = new Set(['node_modules', 'bower_components', 'jspm_packages', 'vendor', '.venv', 'venv', '__pycache__', '.tox', '.gradle', 'Pods', '.git', '.hg', '.svn']);

/** A path as node:fs takes it: bytes when the name is not UTF-8 (Linux file names are bytes). */
export type FsPath = string | Buffer;

export interface FileSource {
  /** Repository root containing `dir`, if any. */
  topLevel(dir: string): string | undefined;
  /** Files git would commit under `dir`, relative to it (bytes when not UTF-8), and folders (relative to `dir`) it could not read. */
  committable(dir: string): { files: FsPath[]; unreadable: Array<{ folder: string; detail: string }>; submodules?: FsPath[] };
}

/** A name as read from git or readdir: a string when the bytes are UTF-8 (and round-trip), else the bytes. */
export function nameFromBytes(bytes: Buffer): FsPath {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : Buffer.from(bytes);
}

export interface ScanPathsOptions {
  /** Files or folders; default the current directory. */
  paths: string[];
  /** Base for relative paths in findings (the current directory). */
  cwd: string;
  allFiles?: boolean;
  maxFileSize?: number;
  /** Baseline file; default `.keysentry-baseline.json` in the scan root when present. */
  baselinePath?: string;
  exhaustive?: boolean;
  onProgress?: (done: number, total: number, file: string) => void;
  isCancelled?: () => boolean;
  /** Scan with worker threads too (the CLI passes dist/scanWorker.js); the result is the same as without. */
  parallel?: ParallelOptions;
}

const toPosix = (p: string): string => p.split(path.sep).join('/');

const SEP = Buffer.from(path.sep);
const joinPath = (dir: FsPath, name: FsPath): FsPath =>
  typeof dir === 'string' && typeof name === 'string' ? path.join(dir, name) : nameFromBytes(Buffer.concat([Buffer.from(dir), SEP, Buffer.from(name)]));

/** `abs` relative to `base`, `/` separators, escaped for display (names that are not UTF-8 show their bytes as \xNN). */
export function displayPath(base: string, abs: FsPath): string {
  if (typeof abs === 'string') return escapeControl(toPosix(path.relative(base, abs)));
  // Byte-wise: latin1 maps each byte to one character and back.
  const rel = path.relative(Buffer.from(base).toString('latin1'), abs.toString('latin1'));
  return displayBytes(Buffer.from(toPosix(rel), 'latin1'));
}

/** Files found in the folders walked, and what could not be walked. */
export interface Listing {
  files: FsPath[];
  skipped: SkippedFile[];
}

function walk(root: FsPath, allFiles: boolean, out: Listing, cwd: string): void {
  const stack: Buffer[] = [Buffer.from(root)];
  while (stack.length) {
    const dir = stack.pop() as Buffer;
    let entries;
    try {
      // Names as bytes: a name that is not UTF-8 must still be read (and shown), never dropped.
      entries = readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch (e) {
      out.skipped.push({ file: displayPath(cwd, nameFromBytes(dir)) + '/', reason: 'unreadable', detail: (e as NodeJS.ErrnoException).code ?? 'error' });
      continue;
    }
    for (const e of entries) {
      const full = Buffer.concat([dir, SEP, e.name]);
      const name = e.name.toString('latin1');
      // Symlinks are never followed: no loops, nothing outside the tree.
      if (e.isDirectory()) {
        if (name === '.git' || (!allFiles && DEPENDENCY_DIRS.has(name))) continue;
        stack.push(full);
      } else if (e.isFile()) out.files.push(nameFromBytes(full));
    }
  }
}

/**
 * Lists absolute paths of the files to scan. A symlink given as an argument is followed (the
 * user named it); inside folders symlinks are not. What cannot be listed is in `skipped`.
 */
export function listFiles(opts: ScanPathsOptions, source: FileSource): Listing {
  const listing: Listing = { files: [], skipped: [] };
  for (const p of opts.paths.length ? opts.paths : ['.']) {
    const abs = path.resolve(opts.cwd, p);
    let st;
    try {
      st = statSync(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && lstatSafe(abs)?.isSymbolicLink()) {
        listing.skipped.push({ file: escapeControl(p), reason: 'not-a-file', detail: 'broken symlink' });
        continue;
      }
      if (code === 'ENOENT') throw new KeysentryError(`${escapeControl(p)}: no such file or folder`);
      listing.skipped.push({ file: escapeControl(p), reason: 'unreadable', detail: code ?? 'error' });
      continue;
    }
    if (st.isFile()) {
      // A symlink named on the command line is followed to its target (read without following links).
      listing.files.push(lstatSafe(abs)?.isSymbolicLink() ? realpathSync(abs) : abs);
      continue;
    }
    if (!st.isDirectory()) {
      listing.skipped.push({ file: escapeControl(p), reason: 'not-a-file', detail: 'not a regular file or folder' });
      continue;
    }
    const top = opts.allFiles ? undefined : source.topLevel(abs);
    if (top) {
      const { files, unreadable, submodules = [] } = source.committable(abs);
      listing.files.push(...files.map((f) => joinPath(abs, f)));
      for (const m of submodules) listing.skipped.push({ file: displayPath(opts.cwd, joinPath(abs, m)), reason: 'not-a-file', detail: 'submodule: scan it separately' });
      for (const u of unreadable) listing.skipped.push({ file: displayPath(opts.cwd, path.join(abs, u.folder)) + '/', reason: 'unreadable', detail: escapeControl(u.detail) });
    }
    else walk(abs, !!opts.allFiles, listing, opts.cwd);
  }
  const seen = new Set<string>();
  const key = (f: FsPath): string => (typeof f === 'string' ? f : f.toString('latin1'));
  const files = listing.files.filter((f) => !seen.has(key(f)) && !!seen.add(key(f)));
  const sorted = files.map((f) => [key(f), f] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { files: sorted.map(([, f]) => f), skipped: listing.skipped };
}

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'utf-32le' | 'utf-32be' | 'binary';

/** Share of the sampled code units whose byte at `offset` is zero. */
function zeroShare(head: Buffer, unit: number, offset: number): number {
  let zeros = 0;
  let n = 0;
  for (let i = offset; i < head.length; i += unit, n++) if (head[i] === 0) zeros++;
  return n ? zeros / n : 0;
}

/**
 * How a file's bytes are text: a byte-order mark decides; without one, NUL bytes at fixed
 * positions in the first 8000 bytes mean UTF-16 or UTF-32 (mostly-ASCII text, as configuration
 * is); any other NUL there means binary (git's own heuristic).
 */
export function detectEncoding(bytes: Buffer): { encoding: TextEncoding; bom: number } {
  const b = bytes;
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return { encoding: 'utf-32le', bom: 4 };
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return { encoding: 'utf-32be', bom: 4 };
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return { encoding: 'utf-16le', bom: 2 };
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return { encoding: 'utf-16be', bom: 2 };
  const head = b.subarray(0, 8000);
  if (!head.includes(0)) return { encoding: 'utf-8', bom: b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0 };
  if (b.length % 4 === 0 && zeroShare(head, 4, 3) === 1 && zeroShare(head, 4, 2) > 0.9 && zeroShare(head, 4, 0) < 0.1) return { encoding: 'utf-32le', bom: 0 };
  if (b.length % 4 === 0 && zeroShare(head, 4, 0) === 1 && zeroShare(head, 4, 1) > 0.9 && zeroShare(head, 4, 3) < 0.1) return { encoding: 'utf-32be', bom: 0 };
  if (looksLikeUtf16(head, true)) return { encoding: 'utf-16le', bom: 0 };
  if (looksLikeUtf16(head, false)) return { encoding: 'utf-16be', bom: 0 };
  return { encoding: 'binary', bom: 0 };
}

/**
 * UTF-16 without a byte-order mark, of any length (an editor may leave an odd trailing byte) and
 * any script. Mostly-Latin text: NULs in nearly every high byte and almost never in a low byte.
 * Mostly Cyrillic or CJK text, where high bytes are rarely zero (and low bytes sometimes are:
 * U+4E00 "一"): the sample decodes to text in this byte order (almost no control characters,
 * well-formed surrogate pairs) and holds more whitespace units (tab, newline, space) read this way
 * than read the other way round. Binary formats have NUL pairs (U+0000, a control) everywhere.
 */
function looksLikeUtf16(head: Buffer, le: boolean): boolean {
  const hi = le ? 1 : 0;
  if (zeroShare(head, 2, hi) > 0.9 && zeroShare(head, 2, 1 - hi) < 0.1) return true;
  const units = head.length >> 1;
  const unit = (u: number): number => (le ? head.readUInt16LE(2 * u) : head.readUInt16BE(2 * u));
  let bad = 0;
  let spaces = 0;
  let swappedSpaces = 0;
  for (let u = 0; u < units; u++) {
    const c = unit(u);
    if (c === 9 || c === 10 || c === 13 || c === 32) spaces++;
    else if (c === 0x0900 || c === 0x0a00 || c === 0x0d00 || c === 0x2000) swappedSpaces++;
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 12 && c !== 13) || c === 0xfffe || c === 0xffff) bad++;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = u + 1 < units ? unit(u + 1) : 0xdc00; // a pair cut by the sample's end is fine
      if (next >= 0xdc00 && next <= 0xdfff) u++;
      else bad++;
    } else if (c >= 0xdc00 && c <= 0xdfff) bad++;
  }
  return spaces > swappedSpaces && bad * 50 <= units;
}

/** UTF-32 to a string (invalid code points become U+FFFD); via UTF-16LE, linear. */
function decodeUtf32(bytes: Buffer, bigEndian: boolean): string {
  const units = Math.floor(bytes.length / 4);
  const out = Buffer.alloc(units * 4);
  let o = 0;
  for (let i = 0; i < units; i++) {
    let cp = bigEndian ? bytes.readUInt32BE(i * 4) : bytes.readUInt32LE(i * 4);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
    if (cp < 0x10000) {
      out.writeUInt16LE(cp, o);
      o += 2;
    } else {
      cp -= 0x10000;
      out.writeUInt16LE(0xd800 + (cp >> 10), o);
      out.writeUInt16LE(0xdc00 + (cp & 0x3ff), o + 2);
      o += 4;
    }
  }
  return out.subarray(0, o).toString('utf16le');
}

const isPrintable = (c: number): boolean => (c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a || c === 0x0d;

/** Shortest UTF-16LE run taken as a string inside binary content (strings(1)'s default length). */
const MIN_UTF16_RUN = 4;

/**
 * The printable ASCII of binary content, like strings(1) but position-preserving: every other
 * byte becomes a space, so a key embedded in a binary (an executable, a SQLite file, a zip stored
 * without compression) is found, at its byte offset, and nothing else can join it.
 * UTF-16LE strings (Windows resources, `.reg` exports inside installers, .NET string heaps:
 * `A\0K\0I\0A\0…`) are found too: a run of at least MIN_UTF16_RUN printable characters each
 * followed by a NUL is written compacted at its start and padded with spaces, so it keeps its
 * byte offset and line, and its characters are adjacent as the rules need. Linear: a run shorter
 * than the minimum is re-read from each of its starts at most MIN_UTF16_RUN times.
 */
export function printableText(bytes: Buffer): string {
  const out = Buffer.allocUnsafe(bytes.length);
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && isPrintable(bytes[j] as number) && bytes[j + 1] === 0) j += 2;
    const chars = (j - i) >> 1;
    if (chars >= MIN_UTF16_RUN) {
      for (let k = 0; k < chars; k++) out[i + k] = bytes[i + 2 * k] as number;
      out.fill(0x20, i + chars, j);
      i = j;
      continue;
    }
    const c = bytes[i] as number;
    out[i] = isPrintable(c) ? c : 0x20;
    i++;
  }
  return out.toString('latin1');
}

/** Bytes as the text to scan: UTF-8, UTF-16 and UTF-32 (with or without a byte-order mark) decoded; binary as its printable strings. */
export function decode(bytes: Buffer): { text: string; encoding: TextEncoding } {
  const { encoding, bom } = detectEncoding(bytes);
  const body = bytes.subarray(bom);
  switch (encoding) {
    case 'utf-8':
      return { text: body.toString('utf8'), encoding };
    case 'utf-16le':
    case 'utf-16be':
      return { text: new TextDecoder(encoding).decode(body), encoding };
    case 'utf-32le':
    case 'utf-32be':
      return { text: decodeUtf32(body, encoding === 'utf-32be'), encoding };
    case 'binary':
      return { text: printableText(bytes), encoding };
  }
}

/** One quick look at the raw bytes: can any rule fire in this file at all? */
const byteAnchor = anchorRegex();
export function mayHoldSecret(bytes: Buffer): boolean {
  byteAnchor.lastIndex = 0;
  return byteAnchor.test(bytes.toString('latin1'));
}

/** The `.secretlintignore` of a scan root; empty when there is none. A refused file or pattern is added to `problems`. */
export function loadIgnore(root: string, problems?: SkippedFile[]): IgnoreMatcher {
  const read = readConfigFile(path.join(root, '.secretlintignore'));
  if (read.status === 'refused') problems?.push({ file: '.secretlintignore', reason: read.reason, detail: read.detail });
  const matcher = new IgnoreMatcher(read.status === 'ok' ? read.text : '');
  for (const p of matcher.problems) problems?.push({ file: '.secretlintignore', reason: 'unreadable', detail: p });
  return matcher;
}

/**
 * The baseline's fingerprints. An explicit `file` that is missing or refused is an error; the
 * default one, when refused (a symlink, a FIFO, too large), is left out and added to `problems`.
 */
export function loadBaseline(file: string | undefined, root: string, cwd: string, problems?: SkippedFile[]): Set<string> {
  const explicit = file !== undefined;
  const p = path.resolve(cwd, file ?? path.join(root, BASELINE_FILE));
  const shown = toPosix(path.relative(cwd, p)) || p;
  const read = readConfigFile(p);
  if (read.status === 'missing') {
    if (explicit) throw new KeysentryError(`${file}: baseline file not found`, file);
    return new Set();
  }
  if (read.status === 'refused') {
    if (explicit) throw new KeysentryError(`${shown}: baseline file refused (${read.detail})`, file);
    problems?.push({ file: shown, reason: read.reason, detail: `baseline ${read.detail}` });
    return new Set();
  }
  return baselineFingerprints(parseBaseline(read.text, shown));
}

/**
 * Adds findings to `root`'s baseline file (created when missing) and returns its path. A malformed
 * baseline, or one that is not a regular file, is a KeysentryError and is left as it is, never overwritten.
 */
export function addToBaselineFile(root: string, findings: Finding[], reason?: string): string {
  const file = path.join(root, BASELINE_FILE);
  const read = readConfigFile(file);
  if (read.status === 'refused') throw new KeysentryError(`${BASELINE_FILE}: refused (${read.detail}); left as it is`, BASELINE_FILE);
  const existing = read.status === 'ok' ? parseBaseline(read.text, BASELINE_FILE) : undefined;
  writeFileAtomic(file, addToBaseline(existing, findings, reason));
  return file;
}

/** Scans one file's bytes; shared by the CLI, the workspace scan and the pre-push gate. */
export async function scanBytes(bytes: Buffer, file: string, opts: Pick<TextScanOptions, 'exhaustive' | 'baseline' | 'onIncomplete'>, archive: ArchiveScan = { depth: 0, budget: newArchiveBudget() }): Promise<Finding[] | SkippedFile> {
  const container = isKeyFileName(file) ? scanKeyContainer(bytes, file, opts.baseline) : undefined;
  if (container) return [container];
  // A zip, gzip or tar: what is inside is scanned (see archives.ts for the limits).
  const opened = archive.depth < ARCHIVE_LIMITS.depth ? openArchive(bytes, archive.budget) : undefined;
  if (opened) return scanArchive(opened, bytes, file, opts, archive);
  // UTF-16 and UTF-32 text hides its anchors between NUL bytes: those files are decoded first.
  // Binary content is scanned too, as its printable strings (a NUL byte hides nothing).
  // (A binary's UTF-16LE strings hide their anchors from the raw bytes: binaries are decoded first.)
  const { encoding } = detectEncoding(bytes);
  if (!opts.exhaustive && encoding === 'utf-8' && !mayHoldSecret(bytes)) return [];
  return scanText(decode(bytes).text, file, opts);
}

/** Where scanBytes is inside nested archives, and the decompression budget they share. */
export interface ArchiveScan {
  depth: number;
  budget: ArchiveBudget;
}

/**
 * Each entry of an opened archive is scanned as a file of its own; its findings keep the archive
 * as their file and name the entry in `inArchive` (lines and columns are the entry's). What was
 * not opened (encrypted, over the budget, an unknown method) is reported through onIncomplete, so
 * callers list the archive as partially scanned. An archive nothing could be opened from is
 * scanned as before, as its printable strings.
 */
async function scanArchive(opened: ArchiveContents, bytes: Buffer, file: string, opts: Pick<TextScanOptions, 'exhaustive' | 'baseline' | 'onIncomplete'>, archive: ArchiveScan): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const n of opened.notOpened) opts.onIncomplete?.(`${escapeControl(n.name)} in the ${opened.format} archive was not opened: ${n.why}`);
  for (const entry of opened.entries) {
    // A gzip without a stored name holds the file its own name says: creds.gz holds creds.
    const e = entry.name === '(gzip content)' && /\.gz$/i.test(file) ? { ...entry, name: path.posix.basename(file.replace(/\\/g, '/')).replace(/\.gz$/i, '') } : entry;
    const inner = await scanBytes(e.bytes, e.name, { ...opts, onIncomplete: (why) => opts.onIncomplete?.(`${escapeControl(e.name)} in the ${opened.format} archive: ${why}`) }, { depth: archive.depth + 1, budget: archive.budget });
    if (!Array.isArray(inner)) {
      opts.onIncomplete?.(`${escapeControl(e.name)} in the ${opened.format} archive: ${inner.detail ?? inner.reason}`);
      continue;
    }
    for (const f of inner) findings.push({ ...f, file, inArchive: f.inArchive ? `${e.name}!${f.inArchive}` : e.name });
  }
  if (opened.entries.length === 0) {
    const { encoding } = detectEncoding(bytes);
    if (opts.exhaustive || encoding !== 'utf-8' || mayHoldSecret(bytes)) findings.push(...(await scanText(decode(bytes).text, file, opts)));
  }
  return findings;
}

/** What scanning one listed file came to; applied in listing order, so results never depend on which thread scanned what. */
export type FileOutcome =
  | { t: 'gone' }
  | { t: 'skip'; skip: SkippedFile }
  | { t: 'done'; bytes: number; notes: SkippedFile[]; result: Finding[] | SkippedFile };

/** Reads and scans one listed file (in whichever thread runs it). */
export async function scanListedFile(abs: FsPath, rel: string, maxSize: number, exhaustive?: boolean): Promise<FileOutcome> {
  const read = readRegularFile(abs, maxSize);
  if (read === 'gone') return { t: 'gone' }; // deleted since listing (tracked but removed from the work tree), a symlink or a submodule: nothing to scan
  if (!Buffer.isBuffer(read)) return { t: 'skip', skip: { file: rel, ...read } };
  const notes: SkippedFile[] = [];
  const result = await scanBytes(read, rel, { exhaustive, baseline: undefined, onIncomplete: (why) => notes.push({ file: rel, reason: 'too-large', detail: `partially scanned: ${why}` }) });
  return { t: 'done', bytes: read.length, notes, result };
}

/** A file to scan, its index in the listing and its displayed name. */
export interface ScanJob {
  abs: FsPath;
  rel: string;
}

/** What a batch worker (scanWorker.ts) is given: the jobs, a shared counter the threads take jobs from, and the limits. */
export interface BatchWorkerData {
  keysentryBatch: { jobs: ScanJob[]; counter: SharedArrayBuffer; maxSize: number; exhaustive?: boolean };
}
export type BatchMessage = { i: number; outcome: FileOutcome } | { done: true };

export interface ParallelOptions {
  /** The worker entry: dist/scanWorker.js (or, with `eval`, code that loads it). */
  script: string | URL;
  eval?: boolean;
  /** Threads in all, this one included; default the machine's available parallelism. */
  threads?: number;
  /** Fewer jobs than this are scanned in this thread alone (a worker's start-up would cost more). */
  minJobs?: number;
}

/**
 * Scans the jobs with this thread and `threads - 1` worker threads. Each thread takes the next
 * job from one shared counter (Atomics), so a large file does not hold up a fixed share of the
 * others. Outcomes are stored by job index and applied in order afterwards: the result is the
 * same as a single thread's. A worker that fails or exits early loses nothing: every job without
 * an outcome is scanned here at the end.
 */
async function scanInParallel(jobs: ScanJob[], par: ParallelOptions, maxSize: number, exhaustive: boolean | undefined, isCancelled: (() => boolean) | undefined, progress: (done: number, rel: string) => void): Promise<Array<FileOutcome | undefined>> {
  const outcomes: Array<FileOutcome | undefined> = new Array(jobs.length);
  const counter = new SharedArrayBuffer(4);
  const next = new Int32Array(counter);
  let done = 0;
  const record = (i: number, o: FileOutcome): void => {
    if (outcomes[i] === undefined) {
      outcomes[i] = o;
      progress(++done, (jobs[i] as ScanJob).rel);
    }
  };
  const threads = Math.max(1, Math.min(par.threads ?? availableParallelism(), 8));
  const data: BatchWorkerData = { keysentryBatch: { jobs, counter, maxSize, exhaustive } };
  const finished: Array<Promise<void>> = [];
  for (let w = 1; w < threads; w++) {
    finished.push(
      new Promise<void>((resolve) => {
        let worker: Worker;
        try {
          worker = new Worker(par.script, { eval: par.eval, workerData: data });
        } catch {
          resolve();
          return;
        }
        worker.on('message', (m: BatchMessage) => {
          if ('done' in m) resolve();
          else record(m.i, m.outcome);
        });
        worker.on('error', () => resolve());
        worker.on('exit', () => resolve());
      }),
    );
  }
  for (let i = Atomics.add(next, 0, 1); i < jobs.length; i = Atomics.add(next, 0, 1)) {
    if (isCancelled?.()) {
      Atomics.store(next, 0, jobs.length);
      break;
    }
    const job = jobs[i] as ScanJob;
    record(i, await scanListedFile(job.abs, job.rel, maxSize, exhaustive));
    // Now and then let the workers' answers in, so progress reports keep pace with them.
    if (i % 64 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(finished);
  if (!isCancelled?.()) {
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i] as ScanJob;
      if (outcomes[i] === undefined) record(i, await scanListedFile(job.abs, job.rel, maxSize, exhaustive));
    }
  }
  return outcomes;
}

export async function scanPaths(opts: ScanPathsOptions, source: FileSource): Promise<ScanResult> {
  const started = performance.now();
  const root = path.resolve(opts.cwd, opts.paths.length === 1 && lstatSafe(path.resolve(opts.cwd, opts.paths[0] as string))?.isDirectory() ? (opts.paths[0] as string) : '.');
  const skipped: SkippedFile[] = [];
  const baseline = loadBaseline(opts.baselinePath, root, opts.cwd, skipped);
  const ignore = loadIgnore(root, skipped);
  const maxSize = opts.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const listing = listFiles(opts, source);
  const files = listing.files;
  const findings: Finding[] = [];
  skipped.push(...listing.skipped);
  const jobs: ScanJob[] = [];
  for (const abs of files) {
    if (!ignore.empty && ignore.ignores(displayPath(root, abs))) {
      skipped.push({ file: displayPath(opts.cwd, abs), reason: 'ignored', detail: 'ignored by .secretlintignore' });
      continue;
    }
    jobs.push({ abs, rel: displayPath(opts.cwd, abs) });
  }
  let outcomes: Array<FileOutcome | undefined>;
  const par = opts.parallel;
  if (par && jobs.length >= (par.minJobs ?? 64) && (par.threads ?? availableParallelism()) > 1) {
    outcomes = await scanInParallel(jobs, par, maxSize, opts.exhaustive, opts.isCancelled, (done, rel) => opts.onProgress?.(done - 1, jobs.length, rel));
  } else {
    outcomes = [];
    for (let i = 0; i < jobs.length; i++) {
      if (opts.isCancelled?.()) break;
      const job = jobs[i] as ScanJob;
      opts.onProgress?.(i, jobs.length, job.rel);
      outcomes.push(await scanListedFile(job.abs, job.rel, maxSize, opts.exhaustive));
    }
  }
  let bytesRead = 0;
  let scanned = 0;
  let baselined = 0;
  const namesSeen = new Set<string>();
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i] as ScanJob;
    // A key in the file's (or a folder's) name: see pathNames.ts.
    if (i < outcomes.length) {
      for (const f of await scanListedName(root, job.abs, job.rel, namesSeen)) {
        if (baseline.has(f.fingerprint)) baselined++;
        else findings.push(f);
      }
    }
    const o = outcomes[i];
    if (!o || o.t === 'gone') continue;
    if (o.t === 'skip') {
      skipped.push(o.skip);
      continue;
    }
    skipped.push(...o.notes);
    if (!Array.isArray(o.result)) {
      skipped.push(o.result);
      continue;
    }
    scanned++;
    bytesRead += o.bytes;
    for (const f of o.result) {
      if (baseline.has(f.fingerprint)) baselined++;
      else findings.push(f);
    }
  }
  return { findings, stats: { files: scanned, bytes: bytesRead, skipped, ms: Math.round(performance.now() - started), baselined } };
}

/**
 * A listed file's bytes, opened without following a symlink and without blocking (a FIFO put in
 * its place since listing would hang a plain read); checked to be a regular file on the open
 * descriptor. 'gone' for what is not content to scan (missing, a symlink, a folder).
 */
function readRegularFile(abs: FsPath, maxSize: number): Buffer | 'gone' | Omit<SkippedFile, 'file'> {
  let fd: number;
  try {
    fd = openSync(abs, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'EISDIR' || code === 'ENOTDIR') return 'gone';
    return { reason: 'unreadable', detail: code ?? 'error' };
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return 'gone';
    if (!st.isFile()) return { reason: 'not-a-file', detail: 'not a regular file' };
    if (st.size > maxSize) return { reason: 'too-large', detail: `${st.size} bytes > ${maxSize}` };
    const buf = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } catch (e) {
    return { reason: 'unreadable', detail: (e as NodeJS.ErrnoException).code ?? 'error' };
  } finally {
    closeSync(fd);
  }
}

function lstatSafe(p: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

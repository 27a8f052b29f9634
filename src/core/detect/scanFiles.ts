import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomicFile';
import { addToBaseline, parseBaseline, baselineFingerprints, BASELINE_FILE } from './baseline';
import { scanKeyContainer, scanText, type TextScanOptions } from './engine';
import { readConfigFile } from './configFiles';
import { IgnoreMatcher } from './ignoreFile';
import { anchorRegex, isKeyFileName } from './patterns';
import { KeysentryError, type Finding, type ScanResult, type SkippedFile } from '../types';

export const DEFAULT_MAX_FILE_SIZE = 50 * 1024 * 1024;

/** Folders of installed dependencies, skipped outside git (inside git, .gitignore decides). */
export const DEPENDENCY_DIRS = new Set(['node_modules', 'bower_components', 'jspm_packages', 'vendor', '.venv', 'venv', '__pycache__', '.tox', '.gradle', 'Pods', '.git', '.hg', '.svn']);

export interface FileSource {
  /** Repository root containing `dir`, if any. */
  topLevel(dir: string): string | undefined;
  /** Files git would commit under `dir`, relative to it. */
  committable(dir: string): string[];
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
}

const toPosix = (p: string): string => p.split(path.sep).join('/');

function walk(root: string, allFiles: boolean, out: string[]): void {
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop() as string;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      // Symlinks are never followed: no loops, nothing outside the tree.
      if (e.isDirectory()) {
        if (e.name === '.git' || (!allFiles && DEPENDENCY_DIRS.has(e.name))) continue;
        stack.push(full);
      } else if (e.isFile()) out.push(full);
    }
  }
}

/** Lists absolute paths of the files to scan. */
export function listFiles(opts: ScanPathsOptions, source: FileSource): string[] {
  const files: string[] = [];
  for (const p of opts.paths.length ? opts.paths : ['.']) {
    const abs = path.resolve(opts.cwd, p);
    let st;
    try {
      st = lstatSync(abs);
    } catch {
      throw new KeysentryError(`${p}: no such file or folder`);
    }
    if (st.isFile()) {
      files.push(abs);
      continue;
    }
    if (!st.isDirectory()) continue;
    const top = opts.allFiles ? undefined : source.topLevel(abs);
    if (top) files.push(...source.committable(abs).map((f) => path.join(abs, f)));
    else walk(abs, !!opts.allFiles, files);
  }
  return [...new Set(files)].sort();
}

/** Decodes text, honouring UTF-16 byte-order marks; undefined for binary content. */
const utf16Bom = (bytes: Buffer): 'utf-16le' | 'utf-16be' | undefined =>
  bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : undefined;

/** git's heuristic: a NUL byte in the first 8000 bytes means binary. */
const looksBinary = (bytes: Buffer): boolean => bytes.subarray(0, 8000).includes(0);

export function decode(bytes: Buffer): string | undefined {
  const bom = utf16Bom(bytes);
  if (bom) return new TextDecoder(bom).decode(bytes.subarray(2));
  if (looksBinary(bytes)) return undefined;
  return bytes.toString('utf8');
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
export async function scanBytes(bytes: Buffer, file: string, opts: Pick<TextScanOptions, 'exhaustive' | 'baseline' | 'onIncomplete'>): Promise<Finding[] | SkippedFile> {
  const container = isKeyFileName(file) ? scanKeyContainer(bytes, file, opts.baseline) : undefined;
  if (container) return [container];
  // UTF-16 text hides its anchors between NUL bytes: those files are decoded first.
  if (!opts.exhaustive && !utf16Bom(bytes) && !mayHoldSecret(bytes)) {
    return looksBinary(bytes) ? { file, reason: 'binary' } : [];
  }
  const text = decode(bytes);
  if (text === undefined) return { file, reason: 'binary' };
  return scanText(text, file, opts);
}

export async function scanPaths(opts: ScanPathsOptions, source: FileSource): Promise<ScanResult> {
  const started = performance.now();
  const root = path.resolve(opts.cwd, opts.paths.length === 1 && lstatSafe(path.resolve(opts.cwd, opts.paths[0] as string))?.isDirectory() ? (opts.paths[0] as string) : '.');
  const skipped: SkippedFile[] = [];
  const baseline = loadBaseline(opts.baselinePath, root, opts.cwd, skipped);
  const ignore = loadIgnore(root, skipped);
  const maxSize = opts.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const files = listFiles(opts, source);
  const findings: Finding[] = [];
  let bytesRead = 0;
  let scanned = 0;
  let baselined = 0;
  for (let i = 0; i < files.length; i++) {
    if (opts.isCancelled?.()) break;
    const abs = files[i] as string;
    const rel = toPosix(path.relative(opts.cwd, abs));
    if (!ignore.empty && ignore.ignores(toPosix(path.relative(root, abs)))) continue;
    opts.onProgress?.(i, files.length, rel);
    let st;
    try {
      st = lstatSync(abs);
    } catch {
      continue; // deleted since listing (tracked but removed from the work tree): nothing to scan
    }
    if (!st.isFile()) continue; // symlinks, submodules
    if (st.size > maxSize) {
      skipped.push({ file: rel, reason: 'too-large', detail: `${st.size} bytes > ${maxSize}` });
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = readFileSync(abs);
    } catch (e) {
      skipped.push({ file: rel, reason: 'unreadable', detail: (e as NodeJS.ErrnoException).code ?? 'error' });
      continue;
    }
    const result = await scanBytes(bytes, rel, { exhaustive: opts.exhaustive, baseline: undefined, onIncomplete: (why) => skipped.push({ file: rel, reason: 'too-large', detail: `partially scanned: ${why}` }) });
    if (!Array.isArray(result)) {
      skipped.push(result);
      continue;
    }
    scanned++;
    bytesRead += bytes.length;
    for (const f of result) {
      if (baseline.has(f.fingerprint)) baselined++;
      else findings.push(f);
    }
  }
  return { findings, stats: { files: scanned, bytes: bytesRead, skipped, ms: Math.round(performance.now() - started), baselined } };
}

function lstatSafe(p: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

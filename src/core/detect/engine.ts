import { createHash } from 'node:crypto';
import { accountIdFromKeyId } from './accountId';
import { decodedRegions, MAX_DECODE_DEPTH, MAX_DECODED_PER_TEXT } from './decode';
import { buildExcerpt, PAIR_LINES, toOriginal, wholeText, type Excerpt } from './excerpt';
import { LineIndex } from './lines';
import { maskSecret } from '../mask';
import { runOwnRules, type RawMatch } from './ownRules';
import { isKeyFileName, isKeyIdShape, keyContainerKind } from './patterns';
import { runSecretlint } from './secretlintRules';
import { Suppressions } from './suppress';
import type { Finding } from '../types';
import { isPlausibleKeyId, isPlausibleSecretKey, isPlausibleSessionToken, validPemBody } from './validity';

export interface TextScanOptions {
  /** Run every rule on the whole text instead of only around anchors (for the equivalence test). */
  exhaustive?: boolean;
  /** Fingerprints to leave out (the baseline). */
  baseline?: ReadonlySet<string>;
  /**
   * Called when the text was not fully scanned (more candidate matches than `MAX_MATCHES_PER_FILE`):
   * the findings returned are those among the matches that were checked. Never silent: callers
   * report the file as partially scanned.
   */
  onIncomplete?: (reason: string) => void;
  /** Overrides MAX_MATCHES_PER_FILE (tests). */
  maxMatches?: number;
  /** How many decoding levels deep this text is (decoded text is scanned again, up to MAX_DECODE_DEPTH). */
  depth?: number;
}

/**
 * At most this many candidate matches per rule set (ours, secretlint's) are checked in one file.
 * Every step is linear, so this bounds memory, not time: a 50 MB file of key ids would otherwise
 * hold millions of match objects.
 */
export const MAX_MATCHES_PER_FILE = 200_000;

/** How far (in characters) a secret may sit from a key id and still pair with it. */
const PAIR_CHARS = 1000;

export const sha256 = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex');

interface Located extends RawMatch {
  firstLine: number;
  lastLine: number;
}

/** Scans one text. `file` is the path shown in findings. Never throws on odd content. */
export async function scanText(text: string, file: string, options: TextScanOptions = {}): Promise<Finding[]> {
  const lines = new LineIndex(text);
  const excerpt: Excerpt | undefined = options.exhaustive ? wholeText(text) : buildExcerpt(text, lines);
  if (!excerpt) return [];
  const max = options.maxMatches ?? MAX_MATCHES_PER_FILE;
  const own = runOwnRules(excerpt.text, max);
  const theirs = await runSecretlint(excerpt.text, file, max);
  if (own.truncated || theirs.truncated) options.onIncomplete?.(`more than ${max} candidate matches: only the first ${max} were checked`);
  const raw = [...own.matches, ...theirs.matches];
  const located: Located[] = raw.map((m) => {
    const start = toOriginal(excerpt, m.start);
    const end = start + (m.end - m.start);
    return { ...m, start, end, firstLine: lines.lineOf(start), lastLine: lines.lineOf(Math.max(start, end - 1)) };
  });
  const findings = toFindings(dedupe(located), lines, file, options.baseline);
  const depth = options.depth ?? 0;
  if (depth >= MAX_DECODE_DEPTH) return findings;
  const decoded = await scanDecoded(excerpt, lines, file, depth, options, findings);
  if (decoded.length === 0) return findings;
  // Stable: findings at the same place keep their order.
  return [...findings, ...decoded].sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * Findings inside base64- and percent-encoded values (decode.ts): each candidate's decoded text,
 * behind its line's prefix, is scanned with every rule; what starts in the decoded part is reported
 * at the encoded value's place, `decoded` saying how it was written. Fingerprints are those of the
 * decoded secret, so a baseline entry covers the secret however it is written.
 */
async function scanDecoded(excerpt: Excerpt, lines: LineIndex, file: string, depth: number, options: TextScanOptions, plain: Finding[]): Promise<Finding[]> {
  const { regions, truncated } = decodedRegions(excerpt.text);
  if (truncated) options.onIncomplete?.(`more than ${MAX_DECODED_PER_TEXT} encoded values: only the first ${MAX_DECODED_PER_TEXT} were decoded`);
  if (regions.length === 0) return [];
  const suppressions = new Suppressions(lines);
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const r of regions) {
    const inner = await scanText(r.text, file, { exhaustive: true, depth: depth + 1 });
    const start = toOriginal(excerpt, r.start);
    const end = start + (r.end - r.start);
    const from = lines.position(start);
    const to = lines.position(end);
    const before = (a: { line: number; column: number }, b: { line: number; column: number }): boolean => a.line < b.line || (a.line === b.line && a.column <= b.column);
    // What the plain text already shows inside this value (a key id in a percent-encoded URL) is not reported twice.
    const shown = new Set(plain.filter((p) => before(from, p) && before({ line: p.endLine, column: p.endColumn }, to)).map((p) => `${p.kind}:${p.fingerprint}`));
    for (const f of inner) {
      if (f.line === 1 && f.column - 1 < r.prefixLength) continue; // in the prefix: the plain text's own finding
      if (shown.has(`${f.kind}:${f.fingerprint}`)) continue;
      const key = `${f.kind}:${start}:${f.fingerprint}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (suppressions.isSuppressed(from.line - 1, to.line - 1)) continue;
      if (options.baseline?.has(f.fingerprint)) continue;
      out.push({ ...f, file, line: from.line, column: from.column, endLine: to.line, endColumn: to.column, decoded: f.decoded ?? r.how });
    }
  }
  return out;
}

/**
 * Keeps one match per secret: secretlint's when both found it, ours otherwise. Linear after the
 * sort: same-range matches are found through a map, and private keys (kept when they overlap no
 * earlier one) through the furthest end seen so far.
 */
function dedupe(matches: Located[]): Located[] {
  const out: Located[] = [];
  const byRange = new Map<string, Located>();
  let privateKeyEnd = -Infinity;
  const sorted = [...matches].sort((a, b) => a.start - b.start || (a.rule.startsWith('secretlint') ? -1 : 1));
  for (const m of sorted) {
    if (m.kind === 'private-key') {
      // Sorted by start, so an earlier private key overlaps this one exactly when it ends after this one starts.
      if (privateKeyEnd > m.start && m.start < m.end) continue;
      privateKeyEnd = Math.max(privateKeyEnd, m.end);
      out.push(m);
      continue;
    }
    const key = `${m.kind}:${m.start}:${m.end}`;
    const same = byRange.get(key);
    if (same) {
      if (m.named) same.named = true;
      continue;
    }
    byRange.set(key, m);
    out.push(m);
  }
  return out;
}

/** Length of every id `isKeyIdShape` accepts. */
const KEY_ID_LENGTH = 20;

function toFindings(matches: Located[], lines: LineIndex, file: string, baseline?: ReadonlySet<string>): Finding[] {
  // In start order (dedupe's output order), so the nearest-id search below can binary-search them.
  const ids = matches.filter((m) => m.kind === 'aws-access-key-id' && isKeyIdShape(m.value) && isPlausibleKeyId(m.value));
  const idSet = new Set(ids);
  /**
   * The closest id within PAIR_LINES lines and PAIR_CHARS characters (the first in start order on
   * a tie). Only ids starting in [m.start - PAIR_CHARS - 20, m.end + PAIR_CHARS] can be that close,
   * so only those are looked at.
   */
  const nearestId = (m: Located, prefix?: string): Located | undefined => {
    const from = m.start - PAIR_CHARS - KEY_ID_LENGTH;
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ids[mid] as Located).start < from) lo = mid + 1;
      else hi = mid;
    }
    let best: Located | undefined;
    let bestDistance = Infinity;
    for (let i = lo; i < ids.length; i++) {
      const id = ids[i] as Located;
      if (id.start > m.end + PAIR_CHARS) break;
      if (prefix && !id.value.startsWith(prefix)) continue;
      const distance = id.start < m.start ? m.start - id.end : id.start - m.end;
      if (Math.abs(id.firstLine - m.firstLine) > PAIR_LINES || distance > PAIR_CHARS) continue;
      if (distance < bestDistance) {
        best = id;
        bestDistance = distance;
      }
    }
    return best;
  };
  const suppressions = new Suppressions(lines);
  const findings: Finding[] = [];
  for (const m of matches) {
    let secret = m.value;
    let paired: Located | undefined;
    switch (m.kind) {
      case 'aws-access-key-id':
        if (!idSet.has(m)) continue;
        break;
      case 'aws-secret-access-key':
        if (!isPlausibleSecretKey(m.value)) continue;
        paired = nearestId(m);
        if (!m.named && !paired) continue;
        break;
      case 'aws-session-token':
        if (!isPlausibleSessionToken(m.value)) continue;
        paired = nearestId(m, 'ASIA');
        if (!m.named && !paired) continue;
        break;
      case 'private-key': {
        const body = validPemBody(m.fingerprintSource ?? '', m.rule === 'keysentry/putty-private-key');
        if (body === undefined) continue;
        secret = body;
        break;
      }
    }
    if (suppressions.isSuppressed(m.firstLine, m.lastLine)) continue;
    const fingerprint = sha256(secret);
    if (baseline?.has(fingerprint)) continue;
    const start = lines.position(m.start);
    const end = lines.position(m.end);
    const finding: Finding = {
      file,
      line: start.line,
      column: start.column,
      endLine: end.line,
      endColumn: end.column,
      kind: m.kind,
      rule: m.rule,
      preview: maskSecret(m.kind, m.value),
      fingerprint,
    };
    if (m.kind === 'aws-access-key-id') {
      const accountId = accountIdFromKeyId(m.value);
      if (accountId) finding.accountId = accountId;
    }
    if (paired) finding.pairedKeyId = paired.value;
    findings.push(finding);
  }
  return findings;
}

/**
 * Findings that depend on the file itself rather than its text: binary key containers
 * (PKCS#12 `.p12`/`.pfx`, Java key stores `.jks`/`.keystore`/`.jceks` holding a key, .NET `.snk` key pairs) named as key files.
 */
export function scanKeyContainer(bytes: Uint8Array, file: string, baseline?: ReadonlySet<string>): Finding | undefined {
  const kind = isKeyFileName(file) ? keyContainerKind(file, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) : undefined;
  if (!kind) return undefined;
  const fingerprint = sha256(bytes);
  if (baseline?.has(fingerprint)) return undefined;
  return {
    file,
    line: 1,
    column: 1,
    endLine: 1,
    endColumn: 1,
    kind: 'private-key',
    rule: 'keysentry/key-pair-file',
    preview: `(${kind}, masked)`,
    fingerprint,
  };
}

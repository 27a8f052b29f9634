import { createHash } from 'node:crypto';
import { accountIdFromKeyId } from './accountId';
import { buildExcerpt, PAIR_LINES, toOriginal, wholeText, type Excerpt } from './excerpt';
import { LineIndex } from './lines';
import { maskSecret } from '../mask';
import { runOwnRules, type RawMatch } from './ownRules';
import { isKeyFileName, isKeyIdShape, looksLikePkcs12 } from './patterns';
import { runSecretlint } from './secretlintRules';
import { Suppressions } from './suppress';
import type { Finding } from '../types';
import { isPlausibleKeyId, isPlausiblePemBody, isPlausibleSecretKey, isPlausibleSessionToken, normalisePemBody } from './validity';

export interface TextScanOptions {
  /** Run every rule on the whole text instead of only around anchors (for the equivalence test). */
  exhaustive?: boolean;
  /** Fingerprints to leave out (the baseline). */
  baseline?: ReadonlySet<string>;
}

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
  const raw = [...runOwnRules(excerpt.text), ...(await runSecretlint(excerpt.text, file))];
  const located: Located[] = raw.map((m) => {
    const start = toOriginal(excerpt, m.start);
    const end = start + (m.end - m.start);
    return { ...m, start, end, firstLine: lines.lineOf(start), lastLine: lines.lineOf(Math.max(start, end - 1)) };
  });
  return toFindings(dedupe(located), lines, file, options.baseline);
}

/** Keeps one match per secret: secretlint's when both found it, ours otherwise. */
function dedupe(matches: Located[]): Located[] {
  const out: Located[] = [];
  const sorted = [...matches].sort((a, b) => a.start - b.start || (a.rule.startsWith('secretlint') ? -1 : 1));
  for (const m of sorted) {
    const same = out.find((o) => o.kind === m.kind && (m.kind === 'private-key' ? m.start < o.end && o.start < m.end : o.start === m.start && o.end === m.end));
    if (same) {
      if (m.named) same.named = true;
      continue;
    }
    out.push(m);
  }
  return out;
}

function toFindings(matches: Located[], lines: LineIndex, file: string, baseline?: ReadonlySet<string>): Finding[] {
  const ids = matches.filter((m) => m.kind === 'aws-access-key-id' && isKeyIdShape(m.value) && isPlausibleKeyId(m.value));
  const nearestId = (m: Located, prefix?: string): Located | undefined => {
    let best: Located | undefined;
    let bestDistance = Infinity;
    for (const id of ids) {
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
        if (!ids.includes(m)) continue;
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
        const body = normalisePemBody(m.fingerprintSource ?? '');
        if (!isPlausiblePemBody(body)) continue;
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
 * (PKCS#12 `.p12`/`.pfx`) named as key files.
 */
export function scanKeyContainer(bytes: Uint8Array, file: string, baseline?: ReadonlySet<string>): Finding | undefined {
  if (!isKeyFileName(file) || !looksLikePkcs12(file, bytes)) return undefined;
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
    preview: '(PKCS#12 key container, masked)',
    fingerprint,
  };
}

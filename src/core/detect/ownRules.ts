import type { FindingKind } from '../types';
import {
  keyIdRegex,
  pemPrivateKeyRegex,
  puttyKeyRegex,
  secretCandidateRegex,
  SECRET_NAME_BEFORE,
  SESSION_NAME_BEFORE,
  SESSION_TOKEN_MARKERS,
  sessionTokenRegex,
} from './patterns';

/**
 * A match before pairing and filtering. Offsets are into the text the rules ran on.
 * `named` marks a value written right after a secret/token name, which makes it reportable alone;
 * otherwise it needs a key id nearby (decided later, on the original file's coordinates).
 */
export interface RawMatch {
  kind: FindingKind;
  rule: string;
  start: number;
  end: number;
  value: string;
  named?: boolean;
  /** For private keys: the normalised body the fingerprint is taken from. */
  fingerprintSource?: string;
}

function linePrefix(text: string, at: number): string {
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  return text.slice(Math.max(lineStart, at - 200), at);
}

export function runOwnRules(text: string): RawMatch[] {
  const out: RawMatch[] = [];
  for (const m of text.matchAll(keyIdRegex())) {
    out.push({ kind: 'aws-access-key-id', rule: 'keysentry/aws-access-key-id', start: m.index, end: m.index + m[0].length, value: m[0] });
  }
  for (const m of text.matchAll(secretCandidateRegex())) {
    out.push({
      kind: 'aws-secret-access-key',
      rule: 'keysentry/aws-secret-access-key',
      start: m.index,
      end: m.index + 40,
      value: m[0],
      named: SECRET_NAME_BEFORE.test(linePrefix(text, m.index)),
    });
  }
  for (const m of text.matchAll(sessionTokenRegex())) {
    const value = m[0];
    if (!SESSION_TOKEN_MARKERS.some((marker) => value.includes(marker))) continue;
    out.push({
      kind: 'aws-session-token',
      rule: 'keysentry/aws-session-token',
      start: m.index,
      end: m.index + value.length,
      value,
      named: SESSION_NAME_BEFORE.test(linePrefix(text, m.index)),
    });
  }
  for (const m of text.matchAll(pemPrivateKeyRegex())) {
    out.push({ kind: 'private-key', rule: 'keysentry/private-key', start: m.index, end: m.index + m[0].length, value: m[0], fingerprintSource: m[2] ?? '' });
  }
  for (const m of text.matchAll(puttyKeyRegex())) {
    out.push({ kind: 'private-key', rule: 'keysentry/putty-private-key', start: m.index, end: m.index + m[0].length, value: m[0], fingerprintSource: m[2] ?? '' });
  }
  return out;
}

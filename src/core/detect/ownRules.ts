import type { FindingKind } from '../types';
import {
  AWS_SECRET_CONTEXT,
  keyIdRegex,
  puttyKeyRegex,
  secretCandidateRegex,
  SECRET_NAME_BEFORE,
  SESSION_NAME_BEFORE,
  SESSION_NAME_SOURCE,
  SESSION_TOKEN_MARKERS,
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

/** What a name rule looks at: at most 200 characters before `at`, not past the line start. Constant time, whatever the line's length. */
function linePrefix(text: string, at: number): string {
  const window = text.slice(Math.max(0, at - 200), at);
  return window.slice(window.lastIndexOf('\n') + 1);
}

const VALUE_FIELD = /["']?(?:value|Value|VALUE)["']?\s*[:=]\s*["']?$/;
const NAME_FIELD = /(?:key|Key|KEY|name|Name|NAME|variable|Variable)["']?\s*[:=]\s*["']?([A-Za-z0-9_.-]{1,32})/g;
const SECRET_NAME = /(?:secret|Secret|SECRET)/;
const SESSION_NAME = new RegExp(SESSION_NAME_SOURCE);

/**
 * The name of a value written as a key/value pair's `value` field, its name in the `key` (or
 * `name`) field just before, on the same line or up to two lines above: Postman environments
 * (`{"key": "aws_secret_access_key", "value": "…"}`), Kubernetes and ECS env lists
 * (`- name: AWS_SECRET_ACCESS_KEY` / `value: …`). Looks at most 300 characters back: constant time.
 */
export function pairedFieldName(text: string, at: number): string | undefined {
  const window = text.slice(Math.max(0, at - 300), at);
  const v = VALUE_FIELD.exec(window);
  if (!v) return undefined;
  let name: RegExpExecArray | undefined;
  NAME_FIELD.lastIndex = 0;
  for (let m = NAME_FIELD.exec(window); m && m.index < v.index; m = NAME_FIELD.exec(window)) name = m;
  if (!name) return undefined;
  const gap = window.slice(name.index + name[0].length, v.index);
  // Bounded so that the value starts within the name's anchor window (excerpt.ts: 120 non-space
  // characters from the anchor): a name of at most 32 characters, at most 24 non-space between.
  if ((gap.match(/\n/g) ?? []).length > 2 || /[{}[\]]|value/i.test(gap) || gap.replace(/\s/g, '').length > 24) return undefined;
  return name[1];
}

const PEM_BEGIN = /-----BEGIN[ ]?((?:[A-Z0-9]+ )?PRIVATE KEY(?: BLOCK)?)-----/g;
const PEM_END = /-----END[ ]?(?:[A-Z0-9]+ )?PRIVATE KEY(?: BLOCK)?-----/y;
/** The PEM rule's body bound: `[\s\S]{0,20000}?` in `pemPrivateKeyRegex`. */
const PEM_BODY_MAX = 20_000;

/**
 * Exactly the matches of `pemPrivateKeyRegex()`, in linear time. The regex, for every BEGIN line
 * without an END within 20,000 characters, scans those 20,000 characters again (a file of BEGIN
 * lines costs 20,000 steps per line). Here every place an END line starts is found once (overlaps
 * included), and each BEGIN takes the first END at or after its header, if within the bound.
 */
export function* pemMatches(text: string): Generator<{ index: number; value: string; body: string }> {
  const ends: Array<[number, number]> = [];
  for (let i = text.indexOf('-----END'); i !== -1; i = text.indexOf('-----END', i + 1)) {
    PEM_END.lastIndex = i;
    if (PEM_END.test(text)) ends.push([i, PEM_END.lastIndex]);
  }
  let e = 0;
  PEM_BEGIN.lastIndex = 0;
  for (let m = PEM_BEGIN.exec(text); m; m = PEM_BEGIN.exec(text)) {
    const bodyStart = m.index + m[0].length;
    while (e < ends.length && (ends[e] as [number, number])[0] < bodyStart) e++;
    const end = ends[e];
    if (!end || end[0] - bodyStart > PEM_BODY_MAX) {
      // No match from here: the regex moves on one character (the next BEGIN starts later anyway).
      PEM_BEGIN.lastIndex = m.index + 1;
      continue;
    }
    yield { index: m.index, value: text.slice(m.index, end[1]), body: text.slice(bodyStart, end[0]) };
    PEM_BEGIN.lastIndex = end[1];
  }
}

const isTokenChar = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;

/**
 * Exactly the matches of `sessionTokenRegex()`, without the regex: on a run of several MB of
 * base64 (an embedded blob) the regex's greedy `{100,}` exhausted V8's backtracking stack and the
 * scan threw "Maximum call stack size exceeded". A match is a maximal run of 100 or more
 * `[A-Za-z0-9+/]`, then at most two `=`, not followed by another token character or `=`.
 */
export function* sessionTokenMatches(text: string): Generator<{ index: number; value: string }> {
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isTokenChar(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && isTokenChar(text.charCodeAt(i))) i++;
    let end = i;
    while (end < n && end - i < 3 && text.charCodeAt(end) === 61) end++;
    const eqs = end - i;
    const next = end < n ? text.charCodeAt(end) : -1;
    if (i - start >= 100 && eqs <= 2 && !(next !== -1 && (isTokenChar(next) || next === 61))) yield { index: start, value: text.slice(start, end) };
    i = end > i ? end : i;
  }
}

const PUTTY_HEADER = /PuTTY-User-Key-File-[23]: /g;

/**
 * Exactly the matches of `puttyKeyRegex()`, in linear time. The regex, at every header, reads the
 * rest of the header's line and up to 40 more; many headers on one long line made that quadratic.
 * An attempt that fails from one header fails from every later header on the same line (the rest
 * of the line and the lines after are the same), so after a failure the search moves to the next line.
 */
export function* puttyMatches(text: string): Generator<{ index: number; value: string; body: string }> {
  const full = new RegExp(puttyKeyRegex().source, 'y');
  PUTTY_HEADER.lastIndex = 0;
  for (let m = PUTTY_HEADER.exec(text); m; m = PUTTY_HEADER.exec(text)) {
    full.lastIndex = m.index;
    const r = full.exec(text);
    if (r) {
      yield { index: m.index, value: r[0], body: r[2] ?? '' };
      PUTTY_HEADER.lastIndex = m.index + r[0].length;
    } else {
      const nl = text.slice(m.index).search(/[\r\n]/);
      if (nl === -1) break;
      PUTTY_HEADER.lastIndex = m.index + nl;
    }
  }
}

/**
 * Every own rule's raw matches, in rule order. At most `max` are collected: past that the text is
 * not scanned further and `truncated` says so (the caller reports the file as not fully scanned).
 */
export function runOwnRules(text: string, max = Infinity): { matches: RawMatch[]; truncated: boolean } {
  const out: RawMatch[] = [];
  const full = (): boolean => out.length >= max;
  const done = (): { matches: RawMatch[]; truncated: boolean } => ({ matches: out, truncated: true });
  for (const m of text.matchAll(keyIdRegex())) {
    if (full()) return done();
    out.push({ kind: 'aws-access-key-id', rule: 'keysentry/aws-access-key-id', start: m.index, end: m.index + m[0].length, value: m[0] });
  }
  for (const m of text.matchAll(secretCandidateRegex())) {
    // A run beside a percent escape (`…%2Fabc…`) is a fragment of a percent-encoded value: the
    // decoding step reads the whole value (decode.ts); the fragment is not a secret of its own.
    if (text[m.index - 1] === '%' || text[m.index + 40] === '%') continue;
    if (full()) return done();
    const prefix = linePrefix(text, m.index);
    let named = SECRET_NAME_BEFORE.test(prefix) && AWS_SECRET_CONTEXT.test(prefix);
    if (!named) {
      const field = pairedFieldName(text, m.index);
      named = !!field && SECRET_NAME.test(field) && AWS_SECRET_CONTEXT.test(field);
    }
    out.push({ kind: 'aws-secret-access-key', rule: 'keysentry/aws-secret-access-key', start: m.index, end: m.index + 40, value: m[0], named });
  }
  for (const m of sessionTokenMatches(text)) {
    const value = m.value;
    if (text[m.index - 1] === '%' || text[m.index + value.length] === '%') continue; // a fragment of a percent-encoded token, as above
    // A token assigned to a session-token name is one without the STS marker too; unnamed, it needs the marker.
    let named = SESSION_NAME_BEFORE.test(linePrefix(text, m.index));
    if (!named) named = SESSION_NAME.test(pairedFieldName(text, m.index) ?? '');
    if (!named && !SESSION_TOKEN_MARKERS.some((marker) => value.includes(marker))) continue;
    if (full()) return done();
    out.push({ kind: 'aws-session-token', rule: 'keysentry/aws-session-token', start: m.index, end: m.index + value.length, value, named });
  }
  for (const m of pemMatches(text)) {
    if (full()) return done();
    out.push({ kind: 'private-key', rule: 'keysentry/private-key', start: m.index, end: m.index + m.value.length, value: m.value, fingerprintSource: m.body });
  }
  for (const m of puttyMatches(text)) {
    if (full()) return done();
    out.push({ kind: 'private-key', rule: 'keysentry/putty-private-key', start: m.index, end: m.index + m.value.length, value: m.value, fingerprintSource: m.body });
  }
  return { matches: out, truncated: false };
}

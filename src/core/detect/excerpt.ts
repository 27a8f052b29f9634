import { LineIndex } from './lines';
import { anchorRegex, SESSION_NAME_SOURCE } from './patterns';

const SESSION_NAME = new RegExp(`^${SESSION_NAME_SOURCE}$`);

/**
 * Runs the rules only where a secret can be: the lines around each anchor, joined into one
 * smaller text. A segment separator of "\n\0\n" cannot be part of any rule's match (no rule
 * accepts a NUL), so every match in the excerpt is a match in the original and vice versa,
 * as long as each window holds everything its rule can look at. Those reaches are below.
 */
export interface Segment {
  /** Offset in the excerpt. */
  at: number;
  /** Offset in the original text. */
  from: number;
  length: number;
}

export interface Excerpt {
  text: string;
  segments: Segment[];
}

const SEPARATOR = '\n\0\n';
/** Lines either side of a key id or token: how far a secret may sit from its id and still pair. */
export const PAIR_LINES = 5;
/** Characters a secret-name match may reach past its anchor, whitespace not counted. */
const NAME_REACH = 120;
/** Characters a PEM block may reach past its BEGIN line (the PEM rule's body bound plus headers). */
const PEM_REACH = 20_200;
/** Lines a PuTTY key may reach past its header. */
const PUTTY_LINES = 250;

const SPACE = /\s/;

/** JavaScript's `\s`, with a fast path for ASCII. */
function isSpace(code: number, text: string, i: number): boolean {
  if (code < 128) return code === 32 || (code >= 9 && code <= 13);
  return SPACE.test(text[i] as string);
}

const isB64 = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 61;
/** Base64 with the URL-safe alphabet's `-` and `_`: the run an encoded anchor sits in. */
const isB64Url = (c: number): boolean => isB64(c) || c === 45 || c === 95;

function forwardNonSpace(text: string, from: number, count: number): number {
  let i = from;
  let seen = 0;
  while (i < text.length && seen < count) {
    if (!isSpace(text.charCodeAt(i), text, i)) seen++;
    i++;
  }
  return i;
}

/**
 * Is there a run of `length` value characters in [from, to)? Value characters are base64's, and
 * also `%`, `-` and `_`: a secret may be written percent-encoded (`%2F`) or in URL-safe base64,
 * and the decoding step (decode.ts) reads it from this same window.
 */
function hasRun(text: string, from: number, to: number, length: number): boolean {
  let run = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    const b64 = isB64(c) || c === 37 || c === 45 || c === 95;
    run = b64 ? run + 1 : 0;
    if (run >= length) return true;
  }
  return false;
}


function expandBase64(text: string, start: number, end: number): [number, number] {
  let s = start;
  let e = end;
  while (s > 0 && isB64Url(text.charCodeAt(s - 1))) s--;
  while (e < text.length && isB64Url(text.charCodeAt(e))) e++;
  return [s, e];
}

/** Returns undefined when the text holds no anchor: then no rule can report anything in it. */
export function buildExcerpt(text: string, lines: LineIndex): Excerpt | undefined {
  const windows: Array<[number, number]> = [];
  // The base64 run the last session-token marker sat in: every later marker inside it (a token
  // holds many, a flood of `YXdz` thousands) shares it, so each run is walked once.
  let run: [number, number] = [-1, -1];
  for (const m of text.matchAll(anchorRegex())) {
    const a = m.index;
    const anchor = m[0];
    const line = lines.lineOf(a);
    let firstLine = line;
    let lastLine = line;
    if (anchor.startsWith('A') && anchor.length === 4 && anchor !== 'YXdz') {
      firstLine = line - PAIR_LINES;
      lastLine = line + PAIR_LINES;
    } else if (anchor === 'secret' || anchor === 'Secret' || anchor === 'SECRET') {
      const reach = forwardNonSpace(text, a, NAME_REACH);
      // A secret written after a name is 40 characters of [A-Za-z0-9+/=] within the reach:
      // without such a run there (code like `secretName`), no rule can match from this anchor.
      if (!hasRun(text, a + anchor.length, reach, 40)) continue;
      lastLine = lines.lineOf(reach);
    } else if (SESSION_NAME.test(anchor)) {
      // A named session token: its value starts within ~70 non-space characters of the name
      // (after `=` or a key/value pair's `"value": "`), so a 40-character run of it lies inside the reach.
      const reach = forwardNonSpace(text, a, NAME_REACH);
      if (!hasRun(text, a + anchor.length, reach, 40)) continue;
      lastLine = lines.lineOf(reach);
    } else if (anchor === 'PRIVATE KEY' || anchor === 'PRIVATE%20KEY') {
      lastLine = lines.lineOf(Math.min(text.length, a + PEM_REACH));
    } else if (anchor === 'PuTTY-User-Key-File-') {
      lastLine = line + PUTTY_LINES;
    } else {
      // Session-token markers and encoded anchors: the whole base64 run they sit in, and the lines around it.
      if (!(a >= run[0] && a + anchor.length <= run[1])) run = expandBase64(text, a, a + anchor.length);
      const [s, e] = run;
      firstLine = lines.lineOf(s) - PAIR_LINES;
      lastLine = lines.lineOf(e) + PAIR_LINES;
    }
    windows.push([lines.lineStart(Math.max(0, firstLine)), lines.lineEnd(Math.min(lines.lineCount - 1, lastLine))]);
  }
  if (windows.length === 0) return undefined;
  windows.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const w of windows) {
    const last = merged[merged.length - 1];
    if (last && w[0] <= last[1] + 1) last[1] = Math.max(last[1], w[1]);
    else merged.push([w[0], w[1]]);
  }
  const segments: Segment[] = [];
  const parts: string[] = [];
  let at = 0;
  for (const [from, to] of merged) {
    if (parts.length > 0) {
      parts.push(SEPARATOR);
      at += SEPARATOR.length;
    }
    parts.push(text.slice(from, to));
    segments.push({ at, from, length: to - from });
    at += to - from;
  }
  return { text: parts.join(''), segments };
}

/** The whole text as one segment: the exhaustive mode runs every rule on every whole file. */
export function wholeText(text: string): Excerpt {
  return { text, segments: [{ at: 0, from: 0, length: text.length }] };
}

export function toOriginal(excerpt: Excerpt, offset: number): number {
  const segs = excerpt.segments;
  let lo = 0;
  let hi = segs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((segs[mid] as Segment).at <= offset) lo = mid;
    else hi = mid - 1;
  }
  const seg = segs[lo] as Segment;
  return seg.from + (offset - seg.at);
}

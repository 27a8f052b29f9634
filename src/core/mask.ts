import type { FindingKind } from './types';

/**
 * Masks a secret for display. Access key ids are identifiers AWS consoles show whole;
 * everything else keeps at most its first 4 characters.
 */
export function maskSecret(kind: FindingKind, value: string): string {
  if (kind === 'aws-access-key-id') return value;
  if (kind === 'private-key') {
    const header = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----/.exec(value) ?? /PuTTY-User-Key-File-\d/.exec(value);
    if (header) return `${header[1] ? `-----BEGIN ${header[1]}-----` : header[0]} …(masked)`;
    return '(private key, masked)';
  }
  const shown = value.slice(0, Math.min(4, Math.floor(value.length / 4)));
  return `${shown}${'*'.repeat(Math.max(8, Math.min(16, value.length - shown.length)))}`;
}

/**
 * Removes anything that looks like an AWS secret or a private key from free text
 * (error messages, SDK errors, logs, notices, tags) before it is shown or written anywhere.
 *
 * Attacker-controlled text can split a secret with characters that render as nothing: Unicode
 * format characters (category Cf: U+00AD soft hyphen, U+200B-U+200D, U+2060, U+FEFF, tag
 * characters…) or a line break (a wrapped header, a pasted block). So matching runs on a view of
 * the text without those characters (a line break is dropped only between two base64
 * characters, and not next to a whole access key id, which stays readable), and each match masks
 * the whole original span, invisible characters included. Every pass is linear: one walk to build
 * the view (with an index back into the text), the same linear-time patterns as before on it, one
 * walk to rebuild.
 */
const TOKEN = String.raw`(?:[A-Za-z0-9+/]|%2[BbFf]|%3[Dd]|&#[xX]0*2[BbFf];|&#0*4[37];|&sol;|&plus;)`;
const SECRET_RUN = new RegExp(String.raw`(?<![A-Za-z0-9+/%&#;])(${TOKEN}{4})${TOKEN}{36,}(?:=|%3[Dd]){0,2}(?![A-Za-z0-9+/])`, 'g');
const PEM = /-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|$)/g;
// A plain run right after `%`, `&`, `#` or `;` that starts no encoded character (a file named
// `creds/AKIA…%<secret>.txt`): SECRET_RUN's look-behind skips it, so it is masked here.
const PLAIN_RUN = /(?<![A-Za-z0-9+/])([A-Za-z0-9+/]{4})[A-Za-z0-9+/]{36,}={0,2}(?![A-Za-z0-9+/])/g;

export function redact(text: string): string {
  let out = maskPass(text, PEM, () => '-----BEGIN PRIVATE KEY----- …(masked)');
  // 40+ characters of the base64 alphabet, also when `/`, `+` and `=` are written as %2F, %2B,
  // %3D or HTML character references (a secret pasted into a URL, a subject, an HTML notice).
  out = maskPass(out, SECRET_RUN, (m) => `${m[1]}****************`);
  return maskPass(out, PLAIN_RUN, (m) => `${m[1]}****************`);
}

/** Unicode format characters (invisible: soft hyphen, zero-width, bidi, BOM, tags). */
const FORMAT_AT = /\p{Cf}/uy;
const HIDING = /[\p{Cf}\r\n\u0085\u2028\u2029]/u;
const HIDING_ALL = /\p{Cf}+|\r\n|[\r\n\u0085\u2028\u2029]/gu;
const isTok = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9+/]$/.test(c);
const KEY_ID = /^(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[A-Z0-9]{16}$/;

/** Length of the line break at `i` (0 when none). */
function breakAt(text: string, i: number): number {
  const c = text[i];
  if (c === '\r') return text[i + 1] === '\n' ? 2 : 1;
  return c === '\n' || c === '\u0085' || c === '\u2028' || c === '\u2029' ? 1 : 0;
}

/** Length of the format character at `i` (0 when none). */
function formatAt(text: string, i: number): number {
  FORMAT_AT.lastIndex = i;
  return FORMAT_AT.test(text) ? FORMAT_AT.lastIndex - i : 0;
}

/**
 * The text without its format characters and soft line breaks, as contiguous chunks: `view`,
 * and for each chunk where it starts in the view and in the text (to map a match back).
 */
function invisibleFreeView(text: string): { view: string; segView: number[]; segText: number[] } {
  const chunks: string[] = [];
  const segView: number[] = [];
  const segText: number[] = [];
  let viewLen = 0;
  let tail = ''; // the last characters of the view so far (bounded: never the whole view)
  let from = 0; // start of the text not yet copied
  /** Copies the text from `from` to `end` into the view (the caller then moves `from`). */
  const keep = (end: number): void => {
    if (end <= from) return;
    const chunk = text.slice(from, end);
    chunks.push(chunk);
    segView.push(viewLen);
    segText.push(from);
    viewLen += chunk.length;
    tail = (tail + chunk.slice(-24)).slice(-24);
  };
  HIDING_ALL.lastIndex = 0;
  for (let m = HIDING_ALL.exec(text); m; m = HIDING_ALL.exec(text)) {
    const i = m.index;
    if (!breakAt(m[0], 0)) {
      // format characters: always dropped
      keep(i);
      from = i + m[0].length;
      continue;
    }
    // a line break: dropped, with the blank lines, indentation (a folded header) and invisible
    // characters around it, when it stands between two base64 characters; otherwise kept
    let j = i;
    for (;;) {
      const n = breakAt(text, j) || (text[j] === ' ' || text[j] === '\t' ? 1 : formatAt(text, j));
      if (!n) break;
      j += n;
    }
    keep(i);
    from = i;
    if (isTok(tail[tail.length - 1]) && isTok(text[j]) && !keyIdBefore(tail) && !keyIdAfter(text, j)) {
      from = j;
      HIDING_ALL.lastIndex = j;
    }
  }
  keep(text.length);
  return { view: chunks.join(''), segView, segText };
}

/** Where view position `v` is in the text (binary search over the chunks). */
function toText(segView: number[], segText: number[], v: number): number {
  let lo = 0;
  let hi = segView.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((segView[mid] as number) <= v) lo = mid;
    else hi = mid - 1;
  }
  return (segText[lo] as number) + v - (segView[lo] as number);
}

/** The base64 run that ends the view so far (its last characters, `tail`) is exactly an access key id. */
function keyIdBefore(tail: string): boolean {
  const m = /[A-Za-z0-9+/]+$/.exec(tail);
  return !!m && m[0].length === 20 && KEY_ID.test(m[0]);
}

/** The base64 run starting at `j` is exactly an access key id (bounded look-ahead). */
function keyIdAfter(text: string, j: number): boolean {
  let run = '';
  let k = j;
  while (k < text.length && isTok(text[k]) && run.length <= 20) run += text[k++];
  return run.length === 20 && !isTok(text[k]) && KEY_ID.test(run);
}

/** Replaces each match of `re` (global) in the invisible-free view, masking the whole original span. */
function maskPass(text: string, re: RegExp, replace: (m: RegExpMatchArray) => string): string {
  if (!HIDING.test(text)) return text.replace(re, (...args) => replace(args.slice(0, -2) as unknown as RegExpMatchArray));
  const { view, segView, segText } = invisibleFreeView(text);
  let out = '';
  let last = 0;
  let any = false;
  for (const m of view.matchAll(re)) {
    const s = m.index as number;
    const e = s + m[0].length;
    if (e === s) continue;
    const os = toText(segView, segText, s);
    if (os < last) continue;
    out += text.slice(last, os) + replace(m);
    last = toText(segView, segText, e - 1) + 1;
    any = true;
  }
  return any ? out + text.slice(last) : text;
}

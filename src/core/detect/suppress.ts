import type { LineIndex } from './lines';

/**
 * Inline suppressions users already know from other scanners, and Keysentry's own marker:
 *   same line:  secretlint-disable-line, gitleaks:allow, pragma: allowlist secret, keysentry:ignore
 *   next line:  secretlint-disable-next-line, pragma: allowlist nextline secret, keysentry:ignore-next-line
 *   block:      secretlint-disable ... secretlint-enable
 *
 * A marker counts only in a comment: right after a comment token (`//`, `#`, `/*`, `<!--`, `--`,
 * `;`, `REM`, or `*` opening a line), with only blanks between, the token at the start of the
 * line or after a blank or code punctuation. Prose that mentions "secretlint-disable", or a
 * minified bundle holding the string "gitleaks:allow", hides nothing. A block disable hides keys
 * only up to its `secretlint-enable`: one never ended in the file hides nothing (see
 * {@link Suppressions.unterminated}).
 */
const SAME_LINE = /secretlint-disable-line|gitleaks:allow|pragma: allowlist secret|keysentry:ignore(?!-next-line)/g;
const NEXT_LINE = /secretlint-disable-next-line|pragma: allowlist nextline secret|keysentry:ignore-next-line/g;
const TOKENS = ['<!--', '//', '/*', '--', '#', ';', 'REM'];
const isBlank = (ch: string | undefined): boolean => ch === ' ' || ch === '\t';

/** Does the marker at `at` in `text` follow a comment token (see above)? Constant work per marker. */
export function inCommentContext(text: string, at: number): boolean {
  let p = at;
  while (p > 0 && isBlank(text[p - 1])) p--;
  for (const token of TOKENS) {
    const start = p - token.length;
    if (start < 0 || text.slice(start, p) !== token) continue;
    const before = text[start - 1];
    if (before === undefined || before === '\n' || before === '\r' || isBlank(before) || (token !== 'REM' && /[;,)}\]]/.test(before))) return true;
  }
  // A continuation line of a block comment: ` * secretlint-disable`.
  if (p > 0 && text[p - 1] === '*') {
    let q = p - 1;
    while (q > 0 && isBlank(text[q - 1])) q--;
    if (q === 0 || text[q - 1] === '\n' || text[q - 1] === '\r') return true;
  }
  return false;
}

function lineHasMarker(line: string, re: RegExp): boolean {
  re.lastIndex = 0;
  for (const m of line.matchAll(re)) if (inCommentContext(line, m.index as number)) return true;
  return false;
}
const BLOCK_START = /secretlint-disable(?!-line|-next-line)/;
const BLOCK_END = /secretlint-enable/;
const ANY_MARKER = /secretlint-|gitleaks:allow|pragma: allowlist|keysentry:ignore/;

export class Suppressions {
  private readonly blocks: Array<[number, number]> = [];
  private hasMarkers = false;
  /** Per line: does it carry a same-line / next-line marker. A line is tested once, however many findings it holds (a 5 MB line with thousands). */
  private readonly sameLine = new Map<number, boolean>();
  private readonly nextLine = new Map<number, boolean>();
  /** 1-based line of a block disable never ended by `secretlint-enable` (it hides nothing), if any. */
  unterminated?: number;

  constructor(private readonly lines: LineIndex) {
    const text = lines.text;
    if (!ANY_MARKER.test(text)) return;
    let open: number | undefined;
    for (const m of text.matchAll(/secretlint-(?:disable|enable)(?:-next-line|-line)?/g)) {
      if (!inCommentContext(text, m.index)) continue;
      const line = lines.lineOf(m.index);
      if (BLOCK_START.test(m[0])) {
        if (open === undefined) open = line;
      } else if (BLOCK_END.test(m[0]) && open !== undefined) {
        this.blocks.push([open, line]);
        open = undefined;
      }
    }
    // Never ended: hides nothing (a stray or quoted disable must not blind the rest of the file).
    if (open !== undefined) this.unterminated = open + 1;
    this.hasMarkers = true;
  }

  /** 0-based lines of the finding's first and last line. */
  isSuppressed(firstLine: number, lastLine: number): boolean {
    if (!this.hasMarkers) return false;
    if (this.test(this.sameLine, SAME_LINE, firstLine) || this.test(this.sameLine, SAME_LINE, lastLine)) return true;
    if (firstLine > 0 && this.test(this.nextLine, NEXT_LINE, firstLine - 1)) return true;
    // Blocks are disjoint and in order: the last one starting at or before the line is the only candidate.
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.blocks[mid] as [number, number])[0] <= firstLine) lo = mid + 1;
      else hi = mid;
    }
    const block = this.blocks[lo - 1];
    return !!block && firstLine <= block[1];
  }

  private test(cache: Map<number, boolean>, re: RegExp, line: number): boolean {
    let hit = cache.get(line);
    if (hit === undefined) {
      hit = lineHasMarker(this.lines.lineText(line), re);
      cache.set(line, hit);
    }
    return hit;
  }
}

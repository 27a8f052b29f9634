import type { LineIndex } from './lines';

/**
 * Inline suppressions users already know from other scanners, and Keysentry's own marker:
 *   same line:  secretlint-disable-line, gitleaks:allow, pragma: allowlist secret, keysentry:ignore
 *   next line:  secretlint-disable-next-line, pragma: allowlist nextline secret, keysentry:ignore-next-line
 *   block:      secretlint-disable ... secretlint-enable
 */
const SAME_LINE = /secretlint-disable-line|gitleaks:allow|pragma: allowlist secret|keysentry:ignore(?!-next-line)/;
const NEXT_LINE = /secretlint-disable-next-line|pragma: allowlist nextline secret|keysentry:ignore-next-line/;
const BLOCK_START = /secretlint-disable(?!-line|-next-line)/;
const BLOCK_END = /secretlint-enable/;
const ANY_MARKER = /secretlint-|gitleaks:allow|pragma: allowlist|keysentry:ignore/;

export class Suppressions {
  private readonly blocks: Array<[number, number]> = [];
  private hasMarkers = false;
  /** Per line: does it carry a same-line / next-line marker. A line is tested once, however many findings it holds (a 5 MB line with thousands). */
  private readonly sameLine = new Map<number, boolean>();
  private readonly nextLine = new Map<number, boolean>();

  constructor(private readonly lines: LineIndex) {
    const text = lines.text;
    if (!ANY_MARKER.test(text)) return;
    let open: number | undefined;
    for (const m of text.matchAll(/secretlint-(?:disable|enable)(?:-next-line|-line)?/g)) {
      const line = lines.lineOf(m.index);
      if (BLOCK_START.test(m[0])) {
        if (open === undefined) open = line;
      } else if (BLOCK_END.test(m[0]) && open !== undefined) {
        this.blocks.push([open, line]);
        open = undefined;
      }
    }
    if (open !== undefined) this.blocks.push([open, lines.lineCount]);
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
      hit = re.test(this.lines.lineText(line));
      cache.set(line, hit);
    }
    return hit;
  }
}

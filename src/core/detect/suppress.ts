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
    if (SAME_LINE.test(this.lines.lineText(firstLine)) || SAME_LINE.test(this.lines.lineText(lastLine))) return true;
    if (firstLine > 0 && NEXT_LINE.test(this.lines.lineText(firstLine - 1))) return true;
    return this.blocks.some(([s, e]) => firstLine >= s && firstLine <= e);
  }
}

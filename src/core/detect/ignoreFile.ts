import ignore, { type Ignore } from 'ignore';

/**
 * gitignore-style patterns, as `.secretlintignore` uses them, matched by the maintained `ignore`
 * package (git's wildmatch semantics, linear-time matching: a pattern such as
 * `a*a*a*a*a*a*a*a*a*a*a*a*b` cannot make a match backtrack). Each line is its own rule: a line
 * that cannot be a pattern is reported in `problems` and left out, and the others still apply.
 */

/** A longer line is not a path pattern; it is refused rather than compiled. */
const MAX_PATTERN_LENGTH = 4096;

/** A bracket range written backwards (`[z-a]`) matches nothing in git: almost surely a mistake. */
function reversedRange(line: string): string | undefined {
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\') {
      i++;
      continue;
    }
    if (line[i] !== '[') continue;
    let j = i + 1;
    if (line[j] === '!' || line[j] === '^') j++;
    if (line[j] === ']') j++;
    const close = line.indexOf(']', j);
    if (close === -1) return undefined;
    for (let k = i + 1; k + 2 < close; k++) {
      if (line[k + 1] === '-' && (line.codePointAt(k) as number) > (line.codePointAt(k + 2) as number)) return line.slice(k, k + 3);
    }
    i = close;
  }
  return undefined;
}

/** Why a line cannot be a pattern, or undefined when it can. */
function invalidReason(line: string): string | undefined {
  if (line.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
  if (line.includes('\0')) return 'contains a NUL character';
  // git never matches a pattern ending in a lone backslash.
  const trailing = /\\+$/.exec(line.replace(/\s+$/, ''))?.[0].length ?? 0;
  if (trailing % 2 === 1) return 'ends in a lone backslash';
  const reversed = reversedRange(line);
  if (reversed) return `has the reversed range [${reversed}], which matches nothing`;
  return undefined;
}

/** `line: reason` for messages; the pattern itself is shortened so a huge line stays a short message. */
const describe = (n: number, line: string, why: string): string => `line ${n}: pattern ${JSON.stringify(line.length > 60 ? line.slice(0, 60) + '…' : line)} ${why}; not applied, the other patterns are`;

export class IgnoreMatcher {
  private readonly ig: Ignore = ignore();
  private count = 0;
  /** Lines that were not applied, and why. */
  readonly problems: string[] = [];

  constructor(text = '') {
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (!line.trim() || line.startsWith('#')) continue;
      const why = invalidReason(line);
      if (why) {
        this.problems.push(describe(i + 1, line, why));
        continue;
      }
      try {
        this.ig.add(line);
        this.count++;
      } catch (e) {
        this.problems.push(describe(i + 1, line, `is invalid (${(e as Error).message})`));
      }
    }
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** `relPath` uses `/` and is relative to the ignore file's folder; paths outside it are never ignored. */
  ignores(relPath: string): boolean {
    if (this.count === 0 || !ignore.isPathValid(relPath)) return false;
    try {
      return this.ig.ignores(relPath);
    } catch {
      return false;
    }
  }
}

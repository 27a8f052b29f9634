import { creator as awsRule } from '@secretlint/secretlint-rule-aws';
import { creator as privateKeyRule } from '@secretlint/secretlint-rule-privatekey';
import { creator as filterCommentsRule } from '@secretlint/secretlint-rule-filter-comments';
import type { RawMatch } from './ownRules';
import { pemPrivateKeyRegex } from './patterns';

/**
 * secretlint's AWS, private-key and comment-filter rules, driven through the rule API they are
 * written against (`create(context, options).file(source)`, `context.report`, `context.ignore`)
 * rather than through `@secretlint/core`'s `lintSource`. The rules do the matching exactly as in
 * secretlint; what is replaced is core's message post-processing, which is quadratic in the
 * number of messages (`filterDuplicatedMessages` compares every message with every later one,
 * `filterIgnoredMessages` every message with every ignore range): a CloudTrail export with one key
 * id per event took 268 s at 20,000 events. Here the ignore ranges are applied in O(log n) per
 * message, duplicates are left to the engine's keyed dedupe, and messages are sorted as core
 * sorts them. Side benefits: no message text is ever formatted (secretlint's messages embed the
 * raw secret), and core's profiler, which grows without bound in a long-lived process
 * (secretlint issue #1653), is never reached.
 */

interface RuleCreator {
  meta: { id: string };
  create(context: unknown, options: unknown): { file?: (source: unknown) => void | Promise<void> };
}

interface Report {
  ruleId: string;
  messageId: string;
  range: [number, number];
}

interface IgnoreRange {
  range: [number, number];
  targetRuleId: string;
}

const rules: Array<{ creator: RuleCreator; options: Record<string, unknown> }> = [
  { creator: awsRule as unknown as RuleCreator, options: { enableIDScanRule: true } },
  { creator: privateKeyRule as unknown as RuleCreator, options: {} },
];

/**
 * The comment filter's own bookkeeping is quadratic in the number of `secretlint-` comments
 * (each `secretlint-enable` walks back over every range recorded so far). Beyond this many
 * markers in one text it is not run; the engine's own Suppressions, which read the same
 * markers linearly, still apply to every finding.
 */
export const MAX_COMMENT_MARKERS = 1000;

/** The source object secretlint's rules read: the content and its line positions (lines end at \r\n, \r, \n, U+2028, U+2029). */
class RuleSource {
  readonly contentType = 'text';
  readonly ext = '';
  readonly hasBOM: boolean;
  readonly content: string;
  private readonly starts: number[] = [0];

  constructor(
    text: string,
    readonly filePath: string,
  ) {
    this.hasBOM = text.charCodeAt(0) === 0xfeff;
    this.content = this.hasBOM ? text.slice(1) : text;
    const re = /\r\n?|[\n\u2028\u2029]/g;
    for (let m = re.exec(this.content); m; m = re.exec(this.content)) this.starts.push(m.index + m[0].length);
  }

  getFilePath(): string {
    return this.filePath;
  }

  getPhysicalFilePath(): undefined {
    return undefined;
  }

  /** 1-based line, 0-based column. */
  indexToPosition(index: number): { line: number; column: number } {
    // Number of line starts <= index.
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.starts[mid] as number) <= index) lo = mid + 1;
      else hi = mid;
    }
    return { line: lo, column: index - (this.starts[lo - 1] as number) };
  }

  positionToIndex(pos: { line: number; column: number }): number {
    return (this.starts[pos.line - 1] as number) + pos.column;
  }

  locationToRange(loc: { start: { line: number; column: number }; end: { line: number; column: number } }): [number, number] {
    return [this.positionToIndex(loc.start), this.positionToIndex(loc.end)];
  }

  rangeToLocation(range: [number, number]): { start: { line: number; column: number }; end: { line: number; column: number } } {
    return { start: this.indexToPosition(range[0]), end: this.indexToPosition(range[1]) };
  }
}

function countMarkers(text: string, cap: number): number {
  let n = 0;
  for (let i = text.indexOf('secretlint-'); i !== -1 && n <= cap; i = text.indexOf('secretlint-', i + 1)) n++;
  return n;
}

/** For each target rule id, ignore ranges sorted by start with the running maximum of their ends. */
class IgnoreIndex {
  private readonly byTarget = new Map<string, { starts: number[]; maxEnds: number[] }>();

  constructor(ignores: IgnoreRange[]) {
    const groups = new Map<string, IgnoreRange[]>();
    for (const i of ignores) {
      const g = groups.get(i.targetRuleId) ?? [];
      g.push(i);
      groups.set(i.targetRuleId, g);
    }
    for (const [target, list] of groups) {
      list.sort((a, b) => a.range[0] - b.range[0]);
      const starts: number[] = [];
      const maxEnds: number[] = [];
      let max = -Infinity;
      for (const i of list) {
        max = Math.max(max, i.range[1]);
        starts.push(i.range[0]);
        maxEnds.push(max);
      }
      this.byTarget.set(target, { starts, maxEnds });
    }
  }

  /** secretlint's rule: ignored when some range of this rule (or of `*`) contains both ends of the message's range. */
  ignores(report: Report): boolean {
    return this.covered('*', report.range) || this.covered(report.ruleId, report.range);
  }

  private covered(target: string, [s, e]: [number, number]): boolean {
    const g = this.byTarget.get(target);
    if (!g) return false;
    let lo = 0;
    let hi = g.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((g.starts[mid] as number) <= s) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && (g.maxEnds[lo - 1] as number) >= e;
  }
}

async function runRule(creator: RuleCreator, options: Record<string, unknown>, source: RuleSource, reports: Report[], ignores: IgnoreRange[], max = Infinity): Promise<boolean> {
  const ruleId = creator.meta.id;
  let truncated = false;
  const context = {
    sharedOptions: {},
    // Only the message id is kept: formatting a message would put the raw secret in a string.
    createTranslator: () => (messageId: string) => ({ messageId }),
    report: (d: { message: { messageId: string }; range: [number, number] }) => {
      if (reports.length >= max) truncated = true;
      else reports.push({ ruleId, messageId: d.message.messageId, range: d.range });
    },
    ignore: (d: { range: [number, number]; targetRuleId?: string }) => ignores.push({ range: d.range, targetRuleId: d.targetRuleId ?? '*' }),
  };
  await creator.create(context, options).file?.(source);
  return truncated;
}

// secretlint reports a secret key's range from the start of `aws_secret_access_key`, not the key.
// This is its own pattern, sticky at the reported start, so the key's own range can be recovered.
const SECRETLINT_SECRET = /["']?(?:AWS|aws|Aws)?_?(?:SECRET|secret|Secret)_?(?:ACCESS|access|Access)_?(?:KEY|key|Key)["']?\s*(?::|=>|=)\s*["']?([A-Za-z0-9/+=]{40})["']?\b/dy;

/**
 * Runs secretlint's AWS, private-key and comment-filter rules and maps their reports to raw
 * matches. At most `max` reports are kept; `truncated` says when more were dropped.
 */
export async function runSecretlint(text: string, filePath: string, max = Infinity): Promise<{ matches: RawMatch[]; truncated: boolean }> {
  const source = new RuleSource(text, filePath);
  // A leading byte-order mark is not part of what the rules see: their offsets are shifted back here.
  const shift = source.hasBOM ? 1 : 0;
  const reports: Report[] = [];
  const ignores: IgnoreRange[] = [];
  let truncated = false;
  for (const r of rules) if (await runRule(r.creator, r.options, source, reports, ignores, max)) truncated = true;
  if (countMarkers(source.content, MAX_COMMENT_MARKERS) <= MAX_COMMENT_MARKERS) {
    await runRule(filterCommentsRule as unknown as RuleCreator, {}, source, reports, ignores);
  }
  const index = new IgnoreIndex(ignores);
  const kept = reports.filter((r) => !index.ignores(r));
  // As @secretlint/core orders its messages: by start, then end (a stable sort).
  kept.sort((a, b) => a.range[0] - b.range[0] || a.range[1] - b.range[1]);
  const out: RawMatch[] = [];
  for (const msg of kept) {
    const start = msg.range[0] + shift;
    const end = msg.range[1] + shift;
    if (msg.messageId === 'AWSAccessKeyID') {
      out.push({ kind: 'aws-access-key-id', rule: 'secretlint/aws', start, end, value: text.slice(start, end) });
    } else if (msg.messageId === 'AWSSecretAccessKey') {
      SECRETLINT_SECRET.lastIndex = start;
      const m = SECRETLINT_SECRET.exec(text);
      const span = m?.indices?.[1];
      if (!m || !span) continue;
      out.push({ kind: 'aws-secret-access-key', rule: 'secretlint/aws', start: span[0], end: span[1], value: m[1] as string, named: true });
    } else if (msg.messageId === 'PrivateKey') {
      const value = text.slice(start, end);
      const body = pemPrivateKeyRegex().exec(value)?.[2] ?? '';
      out.push({ kind: 'private-key', rule: 'secretlint/privatekey', start, end, value, fingerprintSource: body });
    }
    // AWSAccountID and principal ids (AIDA, AROA, ...) are not credentials: not reported.
  }
  return { matches: out, truncated };
}

import { KIND_TITLES } from '../detect/report';
import type { PushFinding, PushScanResult } from './prepush';

/** The line the editor's push-error handler looks for in git's stderr. */
export const BLOCKED_MARKER = 'keysentry: push blocked';

/** Where the hook leaves its last result for the editor, relative to the git dir (`git rev-parse --git-path`). */
export const PUSH_RESULT_FILE = 'keysentry/last-push.json';

export interface PushResultFile {
  version: 1;
  time: string;
  remote: string;
  blocked: boolean;
  /** Set when the scan itself failed. */
  error?: string;
  result?: PushScanResult;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const short = (sha: string): string => sha.slice(0, 10);

export function formatPushReport(result: PushScanResult, remote: string, color: boolean): string {
  const c = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const pushed = result.refs.filter((r) => !r.deleted).map((r) => r.localRef.replace(/^refs\/(?:heads|tags)\//, '')).join(', ') || 'no refs';
  const skipped = result.skipped.length ? `\n${result.skipped.map((s) => `keysentry: not scanned: ${short(s.commit)} ${s.file}: ${s.reason}`).join('\n')}` : '';
  if (result.findings.length === 0) {
    return `keysentry: ${plural(result.commits, 'outgoing commit')} to ${remote} (${pushed}) scanned in ${result.ms} ms: no credentials${result.baselined ? ` (${result.baselined} baselined)` : ''}.${skipped}`;
  }
  const byCommit = new Map<string, PushFinding[]>();
  for (const f of result.findings) byCommit.set(f.commit, [...(byCommit.get(f.commit) ?? []), f]);
  const out: string[] = [
    c('1;31', `${BLOCKED_MARKER}: ${plural(result.findings.length, 'credential')} in ${plural(byCommit.size, 'outgoing commit')} to ${remote} (${pushed})`),
    '',
  ];
  for (const [commit, findings] of byCommit) {
    const f0 = findings[0] as PushFinding;
    out.push(`  ${c('33', short(commit))}  ${f0.subject}${f0.ref ? c('2', `  [${f0.ref.replace(/^refs\/(?:heads|tags)\//, '')}]`) : ''}`);
    for (const f of findings) {
      const where = f.file.startsWith('(') ? f.file : `${f.file}:${f.line}:${f.column}`;
      const extra = f.pairedKeyId ? ` (key ${f.pairedKeyId})` : f.accountId ? ` (account ${f.accountId})` : '';
      out.push(`      ${where}  ${c('1', KIND_TITLES[f.kind])}  ${f.preview}${extra}`);
    }
  }
  const keyIds = [...new Set(result.findings.flatMap((f) => (f.kind === 'aws-access-key-id' ? [f.preview] : f.pairedKeyId ? [f.pairedKeyId] : [])))];
  const oldest = [...byCommit.keys()][0] as string;
  out.push(
    '',
    'What to do:',
    `  1. Treat the key as exposed if it was ever shared: rotate it${keyIds.length ? ` (keysentry rotate ${keyIds[0]}, or "Keysentry: Rotate This Key")` : ''}.`,
    `  2. Take it out of the commits before pushing: a key deleted in a later commit is still in the history you push.`,
    `       last commit only:  edit the file, then git commit --amend`,
    `       older commits:     git rebase -i ${short(oldest)}^   (edit each listed commit)`,
    `  3. Not a real key (a test fixture, a placeholder)? Accept exactly these findings:`,
    `       keysentry allowlist --last-push   (adds their fingerprints to .keysentry-baseline.json)`,
    `     or, before committing, end the line with a "keysentry:ignore" comment.`,
    `  git push --no-verify skips this check; do that only for findings you have confirmed are not keys.`,
  );
  return out.join('\n') + skipped;
}

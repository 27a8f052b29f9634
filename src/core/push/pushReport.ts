import { KIND_TITLES } from '../detect/report';
import { escapeControl } from '../escape';
import { redact } from '../mask';
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

/**
 * The push result as it may be shown or stored (the report, `last-push.json`, `--format json`):
 * file and ref names are repository-controlled and can hold a secret (`deploy-<secret>`), so each
 * goes through redact(). Subjects are masked by the scan already.
 */
export function redactPushResult(result: PushScanResult): PushScanResult {
  return {
    ...result,
    refs: result.refs.map((r) => ({ ...r, localRef: redact(r.localRef), remoteRef: redact(r.remoteRef) })),
    findings: result.findings.map((f) => ({ ...f, file: redact(f.file), ref: redact(f.ref), subject: redact(f.subject), ...(f.inArchive !== undefined ? { inArchive: redact(f.inArchive) } : {}) })),
    skipped: result.skipped.map((k) => ({ ...k, file: redact(k.file), reason: redact(k.reason) })),
    ...(result.assumedOnRemote ? { assumedOnRemote: redact(result.assumedOnRemote) } : {}),
    ...(result.ignored ? { ignored: result.ignored.map((p) => redact(p)) } : {}),
    ...(result.submodules ? { submodules: result.submodules.map((m) => ({ ...m, path: redact(m.path), ...(m.hookFile ? { hookFile: redact(m.hookFile) } : {}) })) } : {}),
  };
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const short = (sha: string): string => sha.slice(0, 10);

/**
 * How the user can run Keysentry's CLI from the terminal the report is read in: `keysentry` when
 * it is on PATH; else the command line that ran this hook (the Node or VS Code binary the editor
 * installed the hook with, and the extension's CLI script), which works whether or not the CLI
 * was ever installed. `editor` says whether the editor's commands are the other way.
 */
export interface CliInvocation {
  command: string;
  editor: boolean;
}

/** The push report; every repository-controlled string in it (names, subjects, refs) is escaped. */
export function formatPushReport(result: PushScanResult, remote: string, color: boolean, failOpen = false, cli: CliInvocation = { command: 'keysentry', editor: false }): string {
  const c = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const e = escapeControl;
  result = redactPushResult(result);
  remote = redact(remote);
  const pushed = e(result.refs.filter((r) => !r.deleted).map((r) => r.localRef.replace(/^refs\/(?:heads|tags)\//, '')).join(', ') || 'no refs');
  remote = e(remote);
  const notScanned = result.skipped.map((s) => `keysentry: not scanned: ${short(s.commit)} ${e(s.file)}: ${e(s.reason)}`).join('\n');
  const skipped = !result.skipped.length
    ? ''
    : failOpen
      ? `\n${c('33', `keysentry: ${plural(result.skipped.length, 'file')} could not be scanned; pushing anyway (fail-open):`)}\n${notScanned}`
      : `\n${c('1;31', `keysentry: scan failed, push stopped (fail-closed): ${plural(result.skipped.length, 'file')} in the push could not be scanned:`)}\n${notScanned}\n` +
        'keysentry: take them out of the commits, list them in .secretlintignore, or push with --no-verify once you have checked them.';
  const ignoredList = result.ignored ?? [];
  const subs =
    formatSubmodules(result, c, failOpen) +
    (result.assumedOnRemote ? `\nkeysentry: ${e(redact(result.assumedOnRemote))}` : '') +
    (ignoredList.length ? `\n${c('33', `keysentry: ignored by .secretlintignore: ${plural(ignoredList.length, 'file')}`)}: ${ignoredList.slice(0, 20).map((p) => e(redact(p))).join(', ')}${ignoredList.length > 20 ? ` and ${ignoredList.length - 20} more` : ''}` : '') +
    (result.ignoreFileNotHonoured ? `\n${c('33', 'keysentry: .secretlintignore not honoured for this push: the pushed commits add or change it')}` : '');
  if (result.findings.length === 0) {
    return `keysentry: ${plural(result.commits, 'outgoing commit')} to ${remote} (${pushed}) scanned in ${result.ms} ms: ${result.skipped.length ? 'no credentials in what was scanned' : 'no credentials'}${result.baselined ? ` (${result.baselined} baselined)` : ''}.${skipped}${subs}`;
  }
  const byCommit = new Map<string, PushFinding[]>();
  for (const f of result.findings) byCommit.set(f.commit, [...(byCommit.get(f.commit) ?? []), f]);
  const out: string[] = [
    c('1;31', `${BLOCKED_MARKER}: ${plural(result.findings.length, 'credential')} in ${plural(byCommit.size, 'outgoing commit')} to ${remote} (${pushed})`),
    '',
  ];
  for (const [commit, findings] of byCommit) {
    const f0 = findings[0] as PushFinding;
    out.push(`  ${c('33', short(commit))}  ${e(redact(f0.subject))}${f0.ref ? c('2', `  [${e(f0.ref.replace(/^refs\/(?:heads|tags)\//, ''))}]`) : ''}`);
    for (const f of findings) {
      const where = e(f.file.startsWith('(') ? f.file : `${f.file}${f.inArchive !== undefined ? `!${redact(f.inArchive)}` : ''}:${f.line}:${f.column}`);
      const extra = f.pairedKeyId ? ` (key ${f.pairedKeyId})` : f.accountId ? ` (account ${f.accountId})` : '';
      out.push(`      ${where}  ${c('1', KIND_TITLES[f.kind])}  ${e(f.preview)}${e(extra)}`);
    }
  }
  const keyIds = [...new Set(result.findings.flatMap((f) => (f.kind === 'aws-access-key-id' ? [f.preview] : f.pairedKeyId ? [f.pairedKeyId] : [])))];
  const oldest = [...byCommit.keys()][0] as string;
  // A first commit has no parent: "<sha>^" does not exist, --root rewrites from the start.
  const rebase = result.rootCommits?.includes(oldest) ? 'git rebase -i --root' : `git rebase -i ${short(oldest)}^`;
  const ks = cli.command;
  const inEditor = (name: string): string => (cli.editor ? `, or "${name}" in VS Code` : '');
  out.push(
    '',
    'What to do:',
    `  1. Treat the key as exposed if it was ever shared: rotate it${keyIds.length ? ` (${ks} rotate ${keyIds[0]}${inEditor('Keysentry: Rotate This Key')})` : ''}.`,
    `  2. Take it out of the commits before pushing: a key deleted in a later commit is still in the history you push.`,
    `       last commit only:  edit the file, then git commit --amend`,
    `       older commits:     ${rebase}   (edit each listed commit)`,
    `  3. Not a real key (a test fixture, a placeholder)? Accept exactly these findings:`,
    `       ${ks} allowlist --last-push   (adds their fingerprints to .keysentry-baseline.json${cli.editor ? '; or "Allowlist" on the editor\'s notice' : ''})`,
    `     or, before committing, end the line with a "keysentry:ignore" comment.`,
    `  git push --no-verify skips this check; do that only for findings you have confirmed are not keys.`,
  );
  return out.join('\n') + skipped + subs;
}

/** What was checked in each submodule the push points into, and what nobody scans (an unguarded submodule). */
function formatSubmodules(result: PushScanResult, c: (code: string, s: string) => string, failOpen: boolean): string {
  const e = escapeControl;
  const lines: string[] = [];
  for (const m of result.submodules ?? []) {
    if (m.note) lines.push(`keysentry: submodule ${e(m.path)}: ${e(m.note)}`);
    if (m.commits) lines.push(`keysentry: submodule ${e(m.path)}: ${plural(m.commits, 'commit')} it records that are on none of its remote-tracking branches scanned here`);
    if (m.unguarded) {
      lines.push(
        c(failOpen ? '33' : '1;31', `keysentry: submodule ${e(m.path)} is not guarded${failOpen ? ' (pushing anyway, fail-open)' : ': push stopped (fail-closed)'}: `) +
          `"git push --recurse-submodules" pushes it through its own hooks folder${m.hookFile ? ` (${e(m.hookFile)})` : ''}, where Keysentry is not installed, so whatever else that push sends is not scanned. ` +
          'Run "keysentry install-hook --submodules" (or push the submodule first from inside it, with its hook installed).',
      );
    }
  }
  return lines.length ? `\n${lines.join('\n')}` : '';
}

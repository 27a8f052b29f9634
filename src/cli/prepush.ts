import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomicFile';
import { BASELINE_FILE } from '../core/detect/baseline';
import { escapeLines } from '../core/escape';
import { redact } from '../core/mask';
import { toSarif } from '../core/detect/report';
import { formatPushReport, PUSH_RESULT_FILE, redactPushResult, type CliInvocation, type PushResultFile } from '../core/push/pushReport';
import { scanPush } from '../core/push/pushScan';
import { addToBaselineFile, loadBaseline, loadIgnore } from '../core/detect/scanFiles';
import { KeysentryError } from '../core/types';
import { git, gitPath, gitTopLevelAsync, GitHistory, refuseGrafts, refuseUnsafePartialClone } from '../git/history';
import { trackingRefsTrust } from '../git/remoteTrust';
import { hookStatus, installHook, uninstallHook } from '../git/hooks';
import { checkedOutSubmodules, installInSubmodules, scanSubmodules } from '../git/submodules';
import { formatFlag, parseArgs } from './args';
import type { Io } from './io';

export const PREPUSH_USAGE = `usage: keysentry pre-push [--fail-closed|--fail-open] [--format text|json|sarif] [--no-record] -- REMOTE_NAME REMOTE_URL
       keysentry pre-push --from-env [...]   (run by the pre-commit framework: the ref comes in PRE_COMMIT_* variables)

Run by git's pre-push hook (see keysentry install-hook). Reads git's ref lines on standard input
and scans what the push adds to the remote: the lines and key files each outgoing commit adds
(binary files as their printable strings), commit messages, annotated tag messages, and blobs
and trees that tags point at. The remote's name and URL come after "--": a remote may be named
like an option. Exit status: 0 clean, 1 findings, 2 the scan failed or, fail-closed, something
could not be scanned (too large, unreadable); with --fail-open those pass with a warning.
A new branch excludes commits on the remote's remote-tracking refs only when those were fetched
from the URL pushed to (same url and pushurl, fetched since Keysentry last saw the URL change);
otherwise it is scanned down to its first commit. A .secretlintignore the pushed commits add or
change is not honoured; files one skips are listed. The
result is recorded in the git directory (keysentry/last-push.json, mode 0600) for the editor,
unless --no-record.`;

export const INSTALL_USAGE = `usage: keysentry install-hook [--uninstall | --status] [--fail-open] [--submodules] [--node PATH] [--cli PATH]

Adds a marked block to the repository's pre-push hook (.husky/pre-push in Husky repositories,
else the folder "git rev-parse --git-path hooks" names, so core.hooksPath and worktrees work).
An existing hook is kept: the block runs first and hands git's input on to it. Running it again
updates the block; --uninstall removes only the block. --fail-open lets a push through when
the scan itself cannot run (default: fail closed, stop the push). --submodules also installs it
in each checked-out submodule's own hooks folder, which "git push --recurse-submodules" uses.`;

export const ALLOWLIST_USAGE = `usage: keysentry allowlist --last-push

Adds the findings of the last push the hook blocked to .keysentry-baseline.json, so they no
longer block (for test fixtures and placeholders; rotate real keys instead).`;

export async function resultFilePath(cwd: string): Promise<string> {
  return gitPath(cwd, PUSH_RESULT_FILE);
}

/** The findings file holds findings (masked) and commit subjects (redacted): readable by its owner only. */
function writeResult(file: string, data: PushResultFile): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, JSON.stringify(data, null, 2) + '\n', 0o600);
}

/**
 * Hooks installed before the remote's name went after "--" run `pre-push <mode> "$1" "$2"`: a
 * remote named "--help" or "--fail-open" must not be read as an option there either. That exact
 * shape (a mode, then two arguments, no "--") is read positionally.
 */
export function legacyHookArgs(argv: string[]): string[] {
  if (argv.length === 3 && (argv[0] === '--fail-closed' || argv[0] === '--fail-open') && !argv.includes('--')) return [argv[0], '--', argv[1] as string, argv[2] as string];
  return argv;
}

const shq = (s: string): string => (/^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The command a user can type to run this CLI (the report's advice): `keysentry` when it is on
 * PATH, else the exact command line that runs this script (an extension-only user has no
 * `keysentry` command: the hook runs the extension's CLI with VS Code's own binary as Node).
 */
export function cliInvocation(scriptPath: string | undefined, env: NodeJS.ProcessEnv = process.env, execPath = process.execPath, electron = !!process.versions.electron): CliInvocation {
  const names = process.platform === 'win32' ? ['keysentry.cmd', 'keysentry.exe', 'keysentry'] : ['keysentry'];
  const onPath = (env.PATH ?? '').split(path.delimiter).some((dir) => dir && names.some((n) => {
    try {
      const st = statSync(path.join(dir, n));
      return st.isFile() && (process.platform === 'win32' || (st.mode & 0o111) !== 0);
    } catch {
      return false;
    }
  }));
  const editor = electron || /[\\/]extensions[\\/]/.test(scriptPath ?? '');
  if (onPath || !scriptPath) return { command: 'keysentry', editor };
  return { command: `${electron ? 'ELECTRON_RUN_AS_NODE=1 ' : ''}${shq(execPath)} ${shq(scriptPath)}`, editor };
}

export async function prePushCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(legacyHookArgs(argv), ['format'], ['fail-open', 'fail-closed', 'no-record', 'from-env', 'ignore-submodule-hooks', 'help']);
  if (args.flags.has('help')) {
    io.out(PREPUSH_USAGE);
    return 0;
  }
  if (args.flags.has('fail-open') && args.flags.has('fail-closed')) throw new KeysentryError('pre-push takes --fail-closed or --fail-open, not both');
  const failOpen = args.flags.has('fail-open');
  const format = formatFlag(args, ['text', 'json', 'sarif'] as const);
  const fromEnv = args.flags.has('from-env');
  const [remote] = fromEnv ? [process.env.PRE_COMMIT_REMOTE_NAME] : args.positional;
  if (!remote && fromEnv) throw new KeysentryError(PRE_COMMIT_ENV_NEEDED);
  if (!remote) throw new KeysentryError(`pre-push needs the remote name and URL that git passes to the hook\n\n${PREPUSH_USAGE}`);
  // Pushing to a URL rather than a named remote, git passes the URL as the name too.
  // A push URL can hold credentials (https://ID:SECRET@host/): redacted wherever it is shown or stored.
  const remoteLabel = redact(remote);
  let resultFile: string | undefined;
  try {
    const top = await gitTopLevelAsync(io.cwd);
    // --no-record: a look at the outgoing commits (the editor's status), not a push attempt.
    if (!args.flags.has('no-record')) resultFile = await resultFilePath(top);
    await refuseGrafts(top);
    await refuseUnsafePartialClone(top);
    const input = fromEnv ? await preCommitInput(top, process.env) : io.readStdin ? await io.readStdin() : '';
    const gitlinks = new Map<string, Set<string>>();
    const scanned = await scanPush(new GitHistory(top), {
      remote,
      input,
      // Remote-tracking refs count as "on the remote" only when fetched from the URL pushed to.
      tracking: await trackingRefsTrust(top, remote, fromEnv ? undefined : args.positional[1], { record: !args.flags.has('no-record') }),
      baseline: loadBaseline(undefined, top, top),
      ignore: loadIgnore(top),
      onProgress: (m) => io.err(`keysentry: ${m}`),
      onGitlink: (p, c) => gitlinks.set(p, (gitlinks.get(p) ?? new Set()).add(c)),
    });
    // Submodule commits the push records: scanned in their own repositories (see ../git/submodules.ts).
    if (gitlinks.size) await scanSubmodules(top, gitlinks, scanned);
    // Names (files, refs) can hold secrets too: everything below shows or stores the redacted copy.
    const result = redactPushResult(scanned);
    // Content that could not be scanned never passes silently: fail-closed stops the push.
    // CI (the GitHub Action) pushes nothing from submodules: their own hooks do not matter there.
    const unguarded = !args.flags.has('ignore-submodule-hooks') && (result.submodules ?? []).some((s) => s.unguarded);
    const unscannedStops = (result.skipped.length > 0 || unguarded) && !failOpen;
    const blocked = result.findings.length > 0 || unscannedStops;
    if (resultFile) writeResult(resultFile, { version: 1, time: new Date().toISOString(), remote: remoteLabel, blocked, result });
    if (format === 'json') io.out(JSON.stringify(result, null, 2));
    if (format === 'sarif') io.out(toSarif({ findings: result.findings, stats: { files: result.commits, bytes: 0, skipped: [], ms: result.ms } }, io.version));
    // Hook output goes to stderr: git and GUI clients show it with the push's own messages.
    if (format === 'text' || blocked || result.skipped.length || unguarded) io.err(formatPushReport(result, remoteLabel, io.color, failOpen, cliInvocation(io.scriptPath)));
    return result.findings.length > 0 ? 1 : unscannedStops ? 2 : 0;
  } catch (e) {
    const message = escapeLines(redact(e instanceof KeysentryError ? e.message : String((e as Error)?.stack ?? e)));
    if (resultFile) {
      try {
        if (resultFile) writeResult(resultFile, { version: 1, time: new Date().toISOString(), remote: remoteLabel, blocked: !failOpen, error: message });
      } catch {
        // the report below still says what happened
      }
    }
    if (failOpen) {
      io.err(`keysentry: the pre-push scan failed, pushing unscanned (fail-open): ${message}`);
      return 0;
    }
    io.err(`keysentry: scan failed, push stopped (fail-closed): ${message}\nFix the cause and push again; "git push --no-verify" skips the check.`);
    return 2;
  }
}

/**
 * The ref line of a pre-push run by the pre-commit framework (`keysentry pre-push --from-env`, see
 * .pre-commit-hooks.yaml): pre-commit reads git's input itself and passes one ref in environment
 * variables (PRE_COMMIT_LOCAL_BRANCH, _TO_REF, _REMOTE_BRANCH, _FROM_REF, _REMOTE_NAME). Without
 * _FROM_REF (pre-commit's "all files": the push starts at a first commit) the branch is new.
 */
const PRE_COMMIT_ENV_NEEDED = '--from-env needs the variables the pre-commit framework sets for a pre-push hook (PRE_COMMIT_REMOTE_NAME, PRE_COMMIT_LOCAL_BRANCH): run it from pre-commit, or run "keysentry pre-push" from git\'s own hook';

export async function preCommitInput(top: string, env: NodeJS.ProcessEnv): Promise<string> {
  const local = env.PRE_COMMIT_LOCAL_BRANCH;
  const remoteBranch = env.PRE_COMMIT_REMOTE_BRANCH ?? local;
  if (!local || !env.PRE_COMMIT_REMOTE_NAME) throw new KeysentryError(PRE_COMMIT_ENV_NEEDED);
  let to = env.PRE_COMMIT_TO_REF;
  if (!to) to = (await git(top, ['rev-parse', '--verify', '--end-of-options', `${local}^{commit}`])).toString('utf8').trim();
  const zero = '0'.repeat(to.length === 64 ? 64 : 40);
  return `${local} ${to} ${remoteBranch} ${env.PRE_COMMIT_FROM_REF || zero}\n`;
}

export async function installHookCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, ['node', 'cli'], ['uninstall', 'status', 'fail-open', 'submodules', 'help']);
  if (args.flags.has('help')) {
    io.out(INSTALL_USAGE);
    return 0;
  }
  if (args.positional.length) throw new KeysentryError(`install-hook takes no arguments (got "${args.positional[0]}")\n\n${INSTALL_USAGE}`);
  if (args.flags.has('status')) {
    const s = await hookStatus(io.cwd);
    if (s.installed && s.outdated) {
      io.out(`installed in ${s.location.file}, but outdated: a remote named like an option can skip it. Run "keysentry install-hook" again.`);
      return 1;
    }
    io.out(s.installed ? `installed in ${s.location.file} (runs ${s.cli ?? 'unknown'})` : `not installed (${s.location.file})`);
    return s.installed ? 0 : 1;
  }
  if (args.flags.has('uninstall')) {
    const { location, action } = await uninstallHook(io.cwd);
    const said = { absent: 'was not installed in', deleted: 'removed; deleted the hook it had created,', restored: 'removed; restored the original hook', removed: 'removed from' }[action];
    io.out(`keysentry: pre-push hook ${said} ${location.file}`);
    return 0;
  }
  const cli = path.resolve(io.cwd, (args.flags.get('cli') as string | undefined) ?? io.scriptPath ?? '');
  if (!existsSync(cli)) throw new KeysentryError(`cannot find the Keysentry CLI at ${cli}: pass --cli PATH`);
  const node = path.resolve((args.flags.get('node') as string | undefined) ?? process.execPath);
  const { location, action, tracked } = await installHook(io.cwd, { node, cli, failOpen: args.flags.has('fail-open') });
  const said = { created: 'installed in new hook', added: 'added to the existing hook', updated: 'updated in', unchanged: 'already installed in', chained: 'installed; the existing hook now runs after it, from' }[action];
  io.out(`keysentry: pre-push hook ${said} ${location.file}${location.husky ? ' (Husky)' : ''}`);
  if (location.note) io.out(`keysentry: ${location.note}`);
  // Each submodule pushes through its own hooks folder (git push --recurse-submodules): see ../git/submodules.ts.
  if (args.flags.has('submodules')) {
    for (const r of await installInSubmodules(location.top, { node, cli, failOpen: args.flags.has('fail-open') })) {
      io.out(r.error ? `keysentry: submodule ${escapeLines(r.path)}: not installed: ${escapeLines(r.error)}` : `keysentry: submodule ${escapeLines(r.path)}: pre-push hook ${r.action} (${r.file})`);
    }
  } else {
    const subs = await checkedOutSubmodules(location.top).catch(() => []);
    if (subs.length) {
      io.out(
        `keysentry: this repository has ${subs.length} checked-out submodule(s) (${subs.slice(0, 3).map((s) => escapeLines(s.path)).join(', ')}${subs.length > 3 ? ', …' : ''}); ` +
          '"git push --recurse-submodules" pushes each through its own hooks folder. Run "keysentry install-hook --submodules" to guard them too (a push that records unpushed submodule commits is stopped until then, fail-closed).',
      );
    }
  }
  if (location.shared) {
    io.out(
      `keysentry: ${path.relative(location.top, location.file)} is in the work tree${tracked ? ' and tracked by git: committing it shares it with everyone who clones' : ', so it may be committed and shared'}. ` +
        'It holds no path of this machine: each clone finds its own Keysentry (recorded by "keysentry install-hook", else on PATH, else node_modules/.bin); ' +
        'a machine without Keysentry pushes unscanned with a warning (KEYSENTRY_REQUIRED=1 stops it instead).',
    );
  }
  return 0;
}

export async function allowlistCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, ['reason'], ['last-push', 'help']);
  if (args.flags.has('help') || !args.flags.has('last-push')) {
    io.out(ALLOWLIST_USAGE);
    return args.flags.has('help') ? 0 : 2;
  }
  const top = await gitTopLevelAsync(io.cwd);
  const file = await resultFilePath(top);
  if (!existsSync(file)) throw new KeysentryError('no push has been scanned in this repository yet');
  let last: PushResultFile;
  try {
    last = JSON.parse(readFileSync(file, 'utf8')) as PushResultFile;
  } catch {
    throw new KeysentryError(`${file} is not valid JSON: push again to rewrite it`);
  }
  const findings = last.result?.findings ?? [];
  if (!findings.length) {
    io.out('keysentry: the last push had no findings; nothing to allowlist');
    return 0;
  }
  addToBaselineFile(top, findings, (args.flags.get('reason') as string | undefined) ?? 'allowlisted after a blocked push');
  io.out(`keysentry: added ${findings.length} finding(s) to ${BASELINE_FILE}; commit it so teammates and CI share it`);
  return 0;
}

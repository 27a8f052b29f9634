import { spawn, spawnSync } from 'node:child_process';
import { KeysentryError } from '../core/types';

/**
 * The one way Keysentry runs git. A repository's own `.git/config` is attacker-controlled (a
 * cloned or downloaded folder, opened in Restricted Mode or not), and several settings there name
 * programs that git runs for the read-only commands Keysentry uses. Every one is switched off on
 * the command line, which outranks every config file (and `include.path`):
 *
 * - `core.fsmonitor`: run by anything that reads the index and the work tree (`ls-files`,
 *   `check-ignore`, `status`). Confirmed: a plain `git ls-files` runs it twice.
 * - `log.showSignature` + `gpg.program` / `gpg.<format>.program`: `git log` of a signed commit
 *   (the pre-push scan) runs the configured verifier. Confirmed with a forged `gpgsig` header.
 * - `core.hooksPath`: no command used here runs a hook today (`post-index-change` runs when the
 *   index is written); pointing hooks at /dev/null keeps it so if git changes.
 * - `diff.external`, `diff.<driver>.textconv` / `.command`: callers of diffing commands add
 *   `--no-ext-diff --no-textconv` (see {@link NO_DIFF_PROGRAMS}); `diff.external` is emptied here.
 * - `filter.<driver>.clean/smudge/process` (via .gitattributes): applied only by commands that
 *   convert content (`status`, `diff` against the work tree, `cat-file --filters`, `checkout`);
 *   none is used. The Restricted Mode test keeps a filter configured to prove it.
 * - Transports (lazy fetches of a partial clone, `ext::` URLs): `protocol.allow=never`,
 *   `GIT_NO_LAZY_FETCH`, and no ssh command, credential helper or askpass program.
 * - `core.pager` / `pager.<cmd>`: `--no-pager`, and output is a pipe anyway.
 *
 * - `refs/replace/*` (and `GIT_REPLACE_REF_BASE`): every reading command would see the substitute
 *   object while `git push` (pack-objects) sends the original, so a replacement hides a secret from
 *   the scan. `--no-replace-objects` and `GIT_NO_REPLACE_OBJECTS=1` read the real objects.
 *   `info/grafts` has no such switch: the pre-push gate refuses a repository that has one.
 *
 * `safe.directory` is left alone: a repository owned by someone else is refused by git, and
 * callers fall back to reading files without git.
 */
const HARDENING: readonly string[] = [
  '--no-pager',
  '--no-replace-objects',
  '-c', 'core.fsmonitor=false',
  '-c', 'core.untrackedCache=false',
  '-c', 'log.showSignature=false',
  '-c', 'gpg.program=false',
  '-c', 'gpg.openpgp.program=false',
  '-c', 'gpg.x509.program=false',
  '-c', 'gpg.ssh.program=false',
  '-c', 'diff.external=',
  '-c', 'protocol.allow=never',
  // protocol.<name>.allow outranks protocol.allow, from any config file (a repository's
  // `protocol.ext.allow=always` would re-enable ext:: for a lazy fetch): each one is pinned here.
  ...['ext', 'file', 'ssh', 'http', 'https', 'git'].flatMap((p) => ['-c', `protocol.${p}.allow=never`]),
  // Output formats the scan parses: config must not change them (log.showRoot=false hides a root
  // commit's files, an i18n.logOutputEncoding of UTF-16 makes the log unparseable, quoted or
  // relative paths, submodules left out of diffs). Reading commands also pass the switches.
  '-c', 'log.showRoot=true',
  '-c', 'i18n.logOutputEncoding=UTF-8',
  '-c', 'core.quotePath=false',
  '-c', 'diff.relative=false',
  '-c', 'diff.ignoreSubmodules=none',
  '-c', 'diff.noprefix=false',
  '-c', 'log.follow=false',
  '-c', 'core.sshCommand=false',
  '-c', 'credential.helper=',
  '-c', 'core.askPass=',
  '-c', 'core.editor=false',
  '-c', 'sequence.editor=false',
];
const NO_HOOKS: readonly string[] = ['-c', 'core.hooksPath=/dev/null'];

/** Options for commands that diff (`log --raw`, `diff-tree`): no external diff, no textconv, no signature checks. */
export const NO_DIFF_PROGRAMS: readonly string[] = ['--no-ext-diff', '--no-textconv', '--no-show-signature'];

/** Options that pin `log --raw` output whatever the config says (see HARDENING): root commits list their files, UTF-8, every submodule change. */
export const PINNED_LOG_FORMAT: readonly string[] = ['--root', '--encoding=UTF-8', '--ignore-submodules=none', '--no-relative'];

export interface GitRunOptions {
  /** Standard input for git. */
  input?: string | Buffer;
  /**
   * Leave `core.hooksPath` as the repository sets it: only for *reading* where the hooks are
   * (`rev-parse --git-path hooks`, `config --get core.hooksPath`), never for running anything.
   */
  keepHooksPath?: boolean;
  maxBuffer?: number;
  /** Receives git's standard error of a successful run (its warnings). */
  onStderr?: (text: string) => void;
}

/** The arguments and environment git runs with; exported for the tests. */
export function gitInvocation(args: readonly string[], opts: GitRunOptions = {}): { args: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_NO_LAZY_FETCH: '1', GIT_PAGER: 'cat', PAGER: 'cat', LC_ALL: 'C', GIT_NO_REPLACE_OBJECTS: '1' };
  // Programs named by the environment are the user's, but nothing here needs them.
  for (const v of ['GIT_EXTERNAL_DIFF', 'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_ASKPASS', 'SSH_ASKPASS', 'GIT_EDITOR', 'GIT_SEQUENCE_EDITOR']) delete env[v];
  return { args: [...HARDENING, ...(opts.keepHooksPath ? [] : NO_HOOKS), ...args], env };
}

const MAX_BUFFER = 512 * 1024 * 1024;

function failure(args: readonly string[], code: number | null, stderr: Buffer | string): KeysentryError {
  const first = String(stderr).trim().split('\n').slice(0, 3).join(' ');
  return new KeysentryError(`git ${args[0] ?? ''} failed (exit ${code ?? 'signal'}): ${first}`);
}

/** Runs git and returns its raw stdout (file names are bytes, not necessarily UTF-8). Throws on a non-zero exit. */
export function gitSync(cwd: string, args: readonly string[], opts: GitRunOptions = {}): Buffer {
  const inv = gitInvocation(args, opts);
  const r = spawnSync('git', inv.args, { cwd, env: inv.env, input: opts.input, maxBuffer: opts.maxBuffer ?? MAX_BUFFER, stdio: ['pipe', 'pipe', 'pipe'] });
  if (r.error) throw new KeysentryError(`cannot run git: ${r.error.message}`);
  if (r.status !== 0) throw failure(args, r.status, r.stderr ?? '');
  if (r.stderr?.length) opts.onStderr?.(r.stderr.toString('utf8'));
  return r.stdout;
}

/** Runs git, feeding `input`, and returns stdout. Fails with git's own message (never the input). */
export function gitAsync(cwd: string, args: readonly string[], opts: GitRunOptions = {}): Promise<Buffer> {
  const inv = gitInvocation(args, opts);
  return new Promise((resolve, reject) => {
    const child = spawn('git', inv.args, { cwd, env: inv.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => reject(new KeysentryError(`cannot run git: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(failure(args, code, Buffer.concat(err)));
    });
    child.stdin.on('error', () => {}); // git may exit before reading all input; its exit code tells.
    child.stdin.end(opts.input ?? '');
  });
}

/** Exit status only (for commands that answer with it, like `check-ignore -q`); -1 when git cannot run. */
export function gitStatus(cwd: string, args: readonly string[]): Promise<number> {
  const inv = gitInvocation(args);
  return new Promise((resolve) => {
    const child = spawn('git', inv.args, { cwd, env: inv.env, stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('error', () => resolve(-1));
    child.on('close', (code) => resolve(code ?? -1));
  });
}

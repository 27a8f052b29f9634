/**
 * The pre-push hook block Keysentry adds to a repository, and how it goes into and comes out of an
 * existing hook without touching anything else in it. Pure text; src/git/hooks.ts does the files.
 */
export const BLOCK_BEGIN = '# >>> keysentry pre-push >>>';
export const BLOCK_END = '# <<< keysentry pre-push <<<';
/** A non-shell hook is kept under this name and called by a small shell wrapper. */
export const CHAINED_SUFFIX = '.keysentry-original';
export const CREATED_SHEBANG = '#!/bin/sh\n';
/** Ends a hook file Keysentry created, so uninstall can tell it from a user's own empty hook. */
const CREATED_TRAILER = '# (this file was created by keysentry install-hook)\n';

export interface HookOptions {
  /** Absolute path of the node (or Electron, run as node) that ran the installer. */
  node: string;
  /** Absolute path of Keysentry's CLI script. */
  cli: string;
  failOpen: boolean;
}

const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * POSIX sh. Reads git's stdin once, hands it to the scan, then gives it back to the rest of the
 * hook (a here-document on fd 0), so a hook that follows still sees every ref line.
 */
export function hookBlock(o: HookOptions, shared = false): string {
  return shared ? sharedHookBlock(o.failOpen) : machineHookBlock(o);
}

/** Where a shared hook finds this clone's node and CLI (relative to the git dir; never committed). */
export const HOOK_PATHS_FILE = 'keysentry/hook-paths';

function machineHookBlock(o: HookOptions): string {
  const mode = o.failOpen ? '--fail-open' : '--fail-closed';
  return [
    BLOCK_BEGIN,
    '# Added by Keysentry: blocks pushes that carry AWS keys or private keys. Remove with',
    '# "keysentry install-hook --uninstall" or "Keysentry: Uninstall Pre-Push Hook"; other lines are untouched.',
    'keysentry_input=$(cat)',
    `keysentry_cli=${sq(o.cli)}`,
    `keysentry_node=${sq(o.node)}`,
    '[ -x "$keysentry_node" ] || keysentry_node=$(command -v node 2>/dev/null || true)',
    '[ -n "$keysentry_node" ] || keysentry_node=${VSCODE_GIT_ASKPASS_NODE:-}',
    'if [ -n "$keysentry_node" ] && [ -f "$keysentry_cli" ]; then',
    `  printf '%s\\n' "$keysentry_input" | ELECTRON_RUN_AS_NODE=1 "$keysentry_node" "$keysentry_cli" pre-push ${mode} -- "$1" "$2" || exit $?`,
    'else',
    '  echo "keysentry: cannot run the pre-push scan (node: ${keysentry_node:-not found}; cli: $keysentry_cli). Reinstall the hook with \\"keysentry install-hook\\"." >&2',
    o.failOpen ? '  echo "keysentry: pushing unscanned (fail-open)" >&2' : '  echo "keysentry: scan failed, push stopped (fail-closed)" >&2; exit 1',
    'fi',
    'exec 0<<KEYSENTRY_INPUT_END',
    '$keysentry_input',
    'KEYSENTRY_INPUT_END',
    BLOCK_END,
    '',
  ].join('\n');
}

/**
 * The block for a hook file others share (Husky's `.husky/pre-push`, a core.hooksPath folder in
 * the work tree): no path of this machine in it. Each clone records its own node and CLI in the
 * git dir ({@link HOOK_PATHS_FILE}, written by install-hook and the editor); else `keysentry` on
 * PATH, else the project's node_modules/.bin. A teammate without Keysentry is told the push was
 * not scanned and is not blocked (the hook cannot protect a machine it cannot run on), unless
 * KEYSENTRY_REQUIRED=1. Once the CLI runs, fail-closed / fail-open apply as usual.
 */
function sharedHookBlock(failOpen: boolean): string {
  const mode = failOpen ? '--fail-open' : '--fail-closed';
  const run = (cmd: string): string => `  printf '%s\\n' "$keysentry_input" | ${cmd} pre-push ${mode} -- "$1" "$2" || exit $?`;
  return [
    BLOCK_BEGIN,
    '# Added by Keysentry (shared hook: no machine paths here). Blocks pushes that carry AWS keys or',
    '# private keys. Each clone records its CLI with "keysentry install-hook"; remove with --uninstall.',
    'keysentry_input=$(cat)',
    'keysentry_node=; keysentry_cli=',
    `keysentry_paths=$(git rev-parse --git-path ${HOOK_PATHS_FILE} 2>/dev/null || true)`,
    'if [ -n "$keysentry_paths" ] && [ -f "$keysentry_paths" ]; then { IFS= read -r keysentry_node; IFS= read -r keysentry_cli; } < "$keysentry_paths"; fi',
    '[ -x "$keysentry_node" ] || keysentry_node=$(command -v node 2>/dev/null || true)',
    '[ -n "$keysentry_node" ] || keysentry_node=${VSCODE_GIT_ASKPASS_NODE:-}',
    'if [ -n "$keysentry_node" ] && [ -n "$keysentry_cli" ] && [ -f "$keysentry_cli" ]; then',
    run('ELECTRON_RUN_AS_NODE=1 "$keysentry_node" "$keysentry_cli"'),
    'elif command -v keysentry >/dev/null 2>&1; then',
    run('keysentry'),
    'elif [ -x ./node_modules/.bin/keysentry ]; then',
    run('./node_modules/.bin/keysentry'),
    'elif [ "${KEYSENTRY_REQUIRED:-}" = 1 ]; then',
    '  echo "keysentry: Keysentry is not installed on this machine and KEYSENTRY_REQUIRED=1: push stopped" >&2; exit 1',
    'else',
    '  echo "keysentry: Keysentry is not installed on this machine: this push was NOT scanned for keys (install the Keysentry extension or CLI, then run \\"keysentry install-hook\\")" >&2',
    'fi',
    'exec 0<<KEYSENTRY_INPUT_END',
    '$keysentry_input',
    'KEYSENTRY_INPUT_END',
    BLOCK_END,
    '',
  ].join('\n');
}

const SHELLS = /^#!\s*(?:\/usr)?\/bin\/(?:env\s+)?(?:sh|bash|dash|zsh|ksh|ash)\b|^#!\s*\/bin\/busybox\s+sh\b/;

export type InstallPlan =
  | { kind: 'create'; content: string }
  | { kind: 'insert'; content: string }
  | { kind: 'replace'; content: string }
  /** Not a shell script: keep it under CHAINED_SUFFIX, and write `content` (a wrapper that runs it after the scan). */
  | { kind: 'chain'; content: string };

export function findBlock(content: string): { start: number; end: number } | undefined {
  const start = content.indexOf(BLOCK_BEGIN + '\n');
  if (start === -1 || (start > 0 && content[start - 1] !== '\n')) return undefined;
  const endAt = content.indexOf(BLOCK_END + '\n', start);
  if (endAt === -1) return undefined;
  return { start, end: endAt + BLOCK_END.length + 1 };
}

export function planInstall(existing: string | undefined, block: string): InstallPlan {
  if (existing === undefined) return { kind: 'create', content: CREATED_SHEBANG + block + CREATED_TRAILER };
  const found = findBlock(existing);
  if (found) return { kind: 'replace', content: existing.slice(0, found.start) + block + existing.slice(found.end) };
  const firstNl = existing.indexOf('\n');
  if (existing.startsWith('#!')) {
    // After the shebang line; a non-shell interpreter, or a file of one line, is chained instead.
    if (!SHELLS.test(existing) || firstNl === -1) return { kind: 'chain', content: chainWrapper(block) };
    return { kind: 'insert', content: existing.slice(0, firstNl + 1) + block + existing.slice(firstNl + 1) };
  }
  // No shebang: git runs it with the shell.
  return { kind: 'insert', content: block + existing };
}

export function chainWrapper(block: string): string {
  return `${CREATED_SHEBANG}${block}exec "$(dirname -- "$0")/pre-push${CHAINED_SUFFIX}" "$@"\n`;
}

export type RemovePlan =
  | { kind: 'absent' }
  /** The file was ours alone: delete it. */
  | { kind: 'delete' }
  /** A wrapper around a chained hook: put the original back. */
  | { kind: 'unchain' }
  | { kind: 'rewrite'; content: string };

export function planRemove(content: string): RemovePlan {
  const found = findBlock(content);
  if (!found) return { kind: 'absent' };
  const rest = content.slice(0, found.start) + content.slice(found.end);
  if (rest === CREATED_SHEBANG + CREATED_TRAILER) return { kind: 'delete' };
  if (rest === `${CREATED_SHEBANG}exec "$(dirname -- "$0")/pre-push${CHAINED_SUFFIX}" "$@"\n`) return { kind: 'unchain' };
  return { kind: 'rewrite', content: rest };
}

/**
 * Whether an installed block predates the remote's name going after "--" (a remote named
 * "--help" skipped the scan there): such a block is rewritten on the next install or editor start.
 */
export function blockOutdated(content: string): boolean {
  const found = findBlock(content);
  return !!found && !content.slice(found.start, found.end).includes(' -- "$1" "$2"');
}

/** The CLI path a block calls, to tell whether an installed block is current. */
export function blockCli(content: string): string | undefined {
  const found = findBlock(content);
  if (!found) return undefined;
  const m = /^keysentry_cli='((?:[^']|'\\'')*)'$/m.exec(content.slice(found.start, found.end));
  return m?.[1]?.replace(/'\\''/g, "'");
}

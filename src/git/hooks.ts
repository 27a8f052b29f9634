import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomicFile';
import { blockCli, blockOutdated, CHAINED_SUFFIX, HOOK_PATHS_FILE, findBlock, hookBlock, planInstall, planRemove, type HookOptions } from '../core/push/hookBlock';
import { readConfigFile } from '../core/detect/configFiles';
import { escapeControl } from '../core/escape';
import { KeysentryError } from '../core/types';
import { gitTracks } from './files';
import { git, gitPath, gitTopLevelAsync } from './history';

export interface HookLocation {
  /** The pre-push file Keysentry edits. */
  file: string;
  /** Husky keeps hooks in `.husky/` (run by its own wrapper). */
  husky: boolean;
  /** The repository's work tree root. */
  top: string;
  /** The hook file is in the work tree (Husky, a core.hooksPath folder there): others may share it, so it holds no machine paths. */
  shared: boolean;
  /** Why the hook is not where the user might expect it (a `.husky/` folder git does not run). */
  note?: string;
}

/**
 * Where git really runs this repository's pre-push hook. `.husky/pre-push` only when git is
 * configured to run Husky's hooks (core.hooksPath `.husky` for Husky 5-8, `.husky/_` for Husky 9,
 * whose wrapper runs `.husky/pre-push`); a `.husky/` folder alone (Husky not installed in this
 * clone: no `npm install` yet, or Husky removed) is a folder git never reads, so the hook goes
 * where `git rev-parse --git-path hooks` says (core.hooksPath, worktrees) and `note` says why.
 */
export async function locatePrePushHook(cwd: string): Promise<HookLocation> {
  const top = await gitTopLevelAsync(cwd);
  let hooksPath = '';
  try {
    hooksPath = (await git(top, ['config', '--get', 'core.hooksPath'], undefined, { keepHooksPath: true })).toString('utf8').trim();
  } catch {
    // not set
  }
  const huskyDir = path.join(top, '.husky');
  const huskyFolder = existsSync(huskyDir) && statSync(huskyDir).isDirectory();
  const huskyRuns = /^(?:\.\/)?\.husky(?:\/_)?\/?$/.test(hooksPath) || (!!hooksPath && samePath(path.resolve(top, hooksPath), huskyDir, path.join(huskyDir, '_')));
  if (huskyFolder && huskyRuns) return { file: path.join(huskyDir, 'pre-push'), husky: true, top, shared: true };
  const file = path.join(await gitPath(top, 'hooks'), 'pre-push');
  // Inside the work tree and outside the git dir: a folder of hooks the project keeps (and may commit).
  const gitDir = path.dirname(await gitPath(top, 'HEAD'));
  const inside = (dir: string): boolean => !path.relative(dir, file).startsWith('..') && !path.isAbsolute(path.relative(dir, file));
  const note = huskyFolder
    ? `.husky/ exists but git does not run it (core.hooksPath is ${hooksPath ? `"${escapeControl(hooksPath)}"` : 'not set'}: Husky is not installed in this clone), so the hook went where git runs hooks. ` +
      'If Husky gets installed later (npm install runs its "prepare" script), run "keysentry install-hook" again: git will then run .husky/ instead.'
    : undefined;
  return { file, husky: false, top, shared: inside(top) && !inside(gitDir), ...(note ? { note } : {}) };
}

function samePath(p: string, ...candidates: string[]): boolean {
  return candidates.some((c) => path.relative(c, p) === '');
}

/** A hook script is small; anything above this is not one Keysentry edits. */
const MAX_HOOK_BYTES = 1024 * 1024;

/**
 * The hook file's bytes, or undefined when there is none. A hook can be committed (`.husky/`, a
 * core.hooksPath folder in the work tree), so its type is attacker-controlled: a symlink would
 * make an install write wherever it points (outside the repository: a shell profile), a link to
 * `/dev/zero` or a FIFO would make reading it never end. Only a regular file is read (through the
 * safe reader of config files) or written; anything else is refused with what to do.
 */
function readHook(file: string): Buffer | undefined {
  const r = readConfigFile(file, MAX_HOOK_BYTES);
  if (r.status === 'missing') return undefined;
  if (r.status === 'ok') return r.bytes;
  throw new KeysentryError(
    `${escapeControl(file)} is ${r.detail.replace(/, not read$/, '')}: Keysentry only reads and edits a hook that is a regular file (a link could point outside the repository). Replace it with a regular file, then run again.`,
  );
}

/** A shared hooks folder (in the work tree) must really be there, not a symlink leading out of it. */
function refuseEscapingFolder(location: HookLocation): void {
  if (!location.shared) return;
  let dir = path.dirname(location.file);
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const real = realpathSync(dir);
  const top = realpathSync(location.top);
  const rel = path.relative(top, real);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new KeysentryError(`${escapeControl(path.dirname(location.file))} leads outside the repository (to ${escapeControl(real)}) through a symbolic link: Keysentry does not write a hook there. Make it a real folder, then run again.`);
  }
}

/** A file Keysentry is about to rename or replace must not be a symlink (the rename would move the link, the write would follow it). */
function refuseLink(file: string): void {
  try {
    if (!lstatSync(file).isFile()) throw new KeysentryError(`${escapeControl(file)} is not a regular file: Keysentry does not move or write it. Replace it with a regular file, then run again.`);
  } catch (e) {
    if (e instanceof KeysentryError) throw e;
  }
}

export type InstallAction = 'created' | 'added' | 'updated' | 'unchanged' | 'chained';
export type UninstallAction = 'removed' | 'deleted' | 'restored' | 'absent';

const isExecutable = (mode: number): boolean => (mode & 0o111) !== 0;

/** A text's UTF-8 bytes as a latin1 string (one character per byte), to splice into a hook read as latin1. */
const utf8AsBytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

/** This clone's node and CLI, for a shared hook block to find (kept in the git dir, never committed). */
async function recordHookPaths(top: string, options: HookOptions): Promise<void> {
  const file = await gitPath(top, HOOK_PATHS_FILE);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `${options.node}\n${options.cli}\n`, 0o600);
}

export async function installHook(cwd: string, options: HookOptions): Promise<{ location: HookLocation; action: InstallAction; tracked: boolean }> {
  const location = await locatePrePushHook(cwd);
  const r = await installHookAt(location, options);
  return { ...r, tracked: location.shared && gitTracks(location.file, location.top) };
}

/**
 * Hook managers that write the whole hook file from their own config (pre-commit, lefthook,
 * simple-git-hooks): a block inserted there is erased by their next install, so Keysentry goes
 * into their config instead. Each is recognised by what its generated file always contains.
 */
export const HOOK_MANAGERS: ReadonlyArray<{ name: string; marker: RegExp; advice: string }> = [
  {
    name: 'pre-commit',
    marker: /File generated by pre-commit|pre-commit\.com|INSTALL_PYTHON=/,
    advice:
      'add Keysentry to .pre-commit-config.yaml instead:\n' +
      '  - repo: https://github.com/keysentry/keysentry\n    rev: <release tag>\n    hooks:\n      - id: keysentry-pre-push\n' +
      'then run "pre-commit install --hook-type pre-push" (the hook needs the keysentry command on PATH).',
  },
  {
    name: 'lefthook',
    marker: /\blefthook\b|LEFTHOOK/,
    advice:
      'add Keysentry to lefthook.yml instead:\n' +
      '  pre-push:\n    commands:\n      keysentry:\n        run: keysentry pre-push --fail-closed -- {1} {2}\n        use_stdin: true\n' +
      'then run "lefthook install".',
  },
  {
    name: 'Husky 4',
    // Husky 4's own file in .git/hooks (Husky 5-8's .husky/pre-push sources "_/husky.sh" and is the user's).
    marker: /Hook created by Husky|husky-run|\$0"?\)\/husky\.sh/,
    advice: 'upgrade to Husky 9 ("npx husky init"; its hooks live in .husky/), then run "keysentry install-hook" again: it adds to .husky/pre-push, which Husky keeps.',
  },
  {
    name: 'simple-git-hooks',
    marker: /SKIP_SIMPLE_GIT_HOOKS|simple-git-hooks/,
    advice:
      'add Keysentry to the "simple-git-hooks" section of package.json instead:\n' +
      '  "pre-push": "keysentry pre-push --fail-closed -- \\"$1\\" \\"$2\\""\n' +
      'then run "npx simple-git-hooks".',
  },
];

/** The hook manager that generated `content`, if any (a block of ours inside it counts as theirs too). */
export function hookManager(content: string): (typeof HOOK_MANAGERS)[number] | undefined {
  const found = findBlock(content);
  const theirs = found ? content.slice(0, found.start) + content.slice(found.end) : content;
  return HOOK_MANAGERS.find((m) => m.marker.test(theirs));
}

async function installHookAt(location: HookLocation, options: HookOptions): Promise<{ location: HookLocation; action: InstallAction }> {
  const { file, husky } = location;
  refuseEscapingFolder(location);
  const bytes = readHook(file);
  // .husky/pre-push is the user's own file (Husky runs it, never rewrites it).
  const manager = bytes && !husky && hookManager(bytes.toString('latin1'));
  if (manager) {
    throw new KeysentryError(`${escapeControl(file)} is generated by ${manager.name}, which rewrites it on its next install (a block added there would be erased). To run Keysentry, ${manager.advice}`);
  }
  if (location.shared) await recordHookPaths(location.top, options);
  const exists = bytes !== undefined;
  // Byte for byte: latin1 maps each byte to one character and back, so a hook that is not UTF-8
  // (Latin-1 comments, stray bytes) keeps every byte it had; the block goes in as its UTF-8 bytes.
  const existing = bytes?.toString('latin1');
  const mode = exists ? lstatSync(file).mode & 0o7777 : 0o755;
  if (exists && !husky && !isExecutable(mode) && !findBlock(existing ?? '')) {
    throw new KeysentryError(`${file} exists but is not executable, so git ignores it. Make it executable (chmod +x) or remove it, then install again.`);
  }
  const plan = planInstall(existing, utf8AsBytes(hookBlock(options, location.shared)));
  if (plan.content === existing) return { location, action: 'unchanged' };
  mkdirSync(path.dirname(file), { recursive: true });
  if (plan.kind === 'chain') {
    const kept = file + CHAINED_SUFFIX;
    if (existsSync(kept) || lstatOrUndefined(kept)) throw new KeysentryError(`${escapeControl(kept)} already exists: remove or rename it, then install again.`);
    renameSync(file, kept);
    writeFileAtomic(file, Buffer.from(plan.content, 'latin1'), 0o755);
    return { location, action: 'chained' };
  }
  writeFileAtomic(file, Buffer.from(plan.content, 'latin1'), plan.kind === 'create' ? 0o755 : mode);
  return { location, action: plan.kind === 'create' ? 'created' : plan.kind === 'insert' ? 'added' : 'updated' };
}

function lstatOrUndefined(file: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

export async function uninstallHook(cwd: string): Promise<{ location: HookLocation; action: UninstallAction }> {
  const location = await locatePrePushHook(cwd);
  const { file } = location;
  refuseEscapingFolder(location);
  const bytes = readHook(file);
  if (bytes === undefined) return { location, action: 'absent' };
  const plan = planRemove(bytes.toString('latin1'));
  switch (plan.kind) {
    case 'absent':
      return { location, action: 'absent' };
    case 'delete':
      unlinkSync(file);
      return { location, action: 'deleted' };
    case 'unchain':
      refuseLink(file + CHAINED_SUFFIX);
      renameSync(file + CHAINED_SUFFIX, file);
      return { location, action: 'restored' };
    case 'rewrite':
      writeFileAtomic(file, Buffer.from(plan.content, 'latin1'), statSync(file).mode & 0o7777);
      return { location, action: 'removed' };
  }
}

/** Whether Keysentry's block is in the repository's pre-push hook, and which CLI it calls. */
export async function hookStatus(cwd: string): Promise<{ location: HookLocation; installed: boolean; cli?: string; outdated?: boolean }> {
  const location = await locatePrePushHook(cwd);
  const bytes = readHook(location.file);
  if (bytes === undefined) return { location, installed: false };
  const content = bytes.toString('latin1');
  const named = blockCli(content);
  let cli = named === undefined ? undefined : Buffer.from(named, 'latin1').toString('utf8');
  if (location.shared && cli === undefined) {
    // A shared block names no CLI: this clone's is recorded in the git dir.
    try {
      cli = readFileSync(await gitPath(location.top, HOOK_PATHS_FILE), 'utf8').split('\n')[1] || undefined;
    } catch {
      cli = undefined;
    }
  }
  return { location, installed: !!findBlock(content), cli, outdated: blockOutdated(content) };
}

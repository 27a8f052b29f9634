import { existsSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomicFile';
import { blockCli, blockOutdated, CHAINED_SUFFIX, HOOK_PATHS_FILE, findBlock, hookBlock, planInstall, planRemove, type HookOptions } from '../core/push/hookBlock';
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
}

/** Where this repository's pre-push hook lives: `.husky/pre-push`, else `git rev-parse --git-path hooks` (core.hooksPath, worktrees). */
export async function locatePrePushHook(cwd: string): Promise<HookLocation> {
  const top = await gitTopLevelAsync(cwd);
  let hooksPath = '';
  try {
    hooksPath = (await git(top, ['config', '--get', 'core.hooksPath'], undefined, { keepHooksPath: true })).toString('utf8').trim();
  } catch {
    // not set
  }
  const huskyDir = path.join(top, '.husky');
  const husky = existsSync(huskyDir) && statSync(huskyDir).isDirectory() && (!hooksPath || /^(?:\.\/)?\.husky(?:\/_)?\/?$/.test(hooksPath));
  if (husky) return { file: path.join(huskyDir, 'pre-push'), husky, top, shared: true };
  const file = path.join(await gitPath(top, 'hooks'), 'pre-push');
  // Inside the work tree and outside the git dir: a folder of hooks the project keeps (and may commit).
  const gitDir = path.dirname(await gitPath(top, 'HEAD'));
  const inside = (dir: string): boolean => !path.relative(dir, file).startsWith('..') && !path.isAbsolute(path.relative(dir, file));
  return { file, husky, top, shared: inside(top) && !inside(gitDir) };
}

export type InstallAction = 'created' | 'added' | 'updated' | 'unchanged' | 'chained';
export type UninstallAction = 'removed' | 'deleted' | 'restored' | 'absent';

const isExecutable = (mode: number): boolean => (mode & 0o111) !== 0;

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

async function installHookAt(location: HookLocation, options: HookOptions): Promise<{ location: HookLocation; action: InstallAction }> {
  const { file, husky } = location;
  if (location.shared) await recordHookPaths(location.top, options);
  const exists = existsSync(file);
  const existing = exists ? readFileSync(file, 'utf8') : undefined;
  const mode = exists ? statSync(file).mode & 0o7777 : 0o755;
  if (exists && !husky && !isExecutable(mode) && !findBlock(existing ?? '')) {
    throw new KeysentryError(`${file} exists but is not executable, so git ignores it. Make it executable (chmod +x) or remove it, then install again.`);
  }
  const plan = planInstall(existing, hookBlock(options, location.shared));
  if (plan.content === existing) return { location, action: 'unchanged' };
  mkdirSync(path.dirname(file), { recursive: true });
  if (plan.kind === 'chain') {
    const kept = file + CHAINED_SUFFIX;
    if (existsSync(kept)) throw new KeysentryError(`${kept} already exists: remove or rename it, then install again.`);
    renameSync(file, kept);
    writeFileAtomic(file, plan.content, 0o755);
    return { location, action: 'chained' };
  }
  writeFileAtomic(file, plan.content, plan.kind === 'create' ? 0o755 : mode);
  return { location, action: plan.kind === 'create' ? 'created' : plan.kind === 'insert' ? 'added' : 'updated' };
}

export async function uninstallHook(cwd: string): Promise<{ location: HookLocation; action: UninstallAction }> {
  const location = await locatePrePushHook(cwd);
  const { file } = location;
  if (!existsSync(file)) return { location, action: 'absent' };
  const plan = planRemove(readFileSync(file, 'utf8'));
  switch (plan.kind) {
    case 'absent':
      return { location, action: 'absent' };
    case 'delete':
      unlinkSync(file);
      return { location, action: 'deleted' };
    case 'unchain':
      renameSync(file + CHAINED_SUFFIX, file);
      return { location, action: 'restored' };
    case 'rewrite':
      writeFileAtomic(file, plan.content, statSync(file).mode & 0o7777);
      return { location, action: 'removed' };
  }
}

/** Whether Keysentry's block is in the repository's pre-push hook, and which CLI it calls. */
export async function hookStatus(cwd: string): Promise<{ location: HookLocation; installed: boolean; cli?: string; outdated?: boolean }> {
  const location = await locatePrePushHook(cwd);
  if (!existsSync(location.file)) return { location, installed: false };
  const content = readFileSync(location.file, 'utf8');
  let cli = blockCli(content);
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

import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { loadBaseline, loadIgnore } from '../core/detect/scanFiles';
import type { PushFinding, PushScanResult, SubmoduleCheck } from '../core/push/prepush';
import { scanPush } from '../core/push/pushScan';
import { ALL_REMOTES, git, GitHistory, gitTopLevelAsync, refuseGrafts, refuseUnsafePartialClone } from './history';
import { hookStatus, installHook, type InstallAction } from './hooks';
import type { HookOptions } from '../core/push/hookBlock';

/**
 * Submodules and the pre-push gate.
 *
 * `git push --recurse-submodules=on-demand` (or push.recurseSubmodules / submodule.recurse) runs
 * `git push` inside each submodule whose recorded commits are not on any of its remote-tracking
 * refs, and that push runs the *submodule's* hooks (`.git/modules/<name>/hooks`, or its own
 * core.hooksPath), not the superproject's. `=check` pushes nothing there but refuses the push when
 * such commits exist. Git runs the superproject's pre-push hook first, before any submodule is
 * pushed (transport_push: run_pre_push_hook, then push_unpushed_submodules), so a block here stops
 * the submodule pushes too. A hook cannot see the command-line flags, so the gate assumes the push
 * may recurse whenever it records submodule commits that are not pushed yet.
 *
 * What the superproject's hook does, for every gitlink the outgoing commits record:
 * 1. Finds the submodule's repository where git would push from: the checked-out submodule in the
 *    work tree (a real folder that is the top of its own repository). Not checked out, or the
 *    commit missing there: git itself pushes nothing from it (submodule_needs_pushing answers "no"
 *    when it cannot find the commits), so there is nothing to scan; this is reported as a note.
 * 2. Scans, in that repository, exactly the commits git's check looks for: those reachable from
 *    the recorded commits and from no remote-tracking ref (`rev-list <commits> --not --remotes`),
 *    with the same scan as any push (content, names, messages, headers; its own baseline and
 *    ignore file), recursively for submodules of submodules (up to MAX_DEPTH levels).
 * 3. The submodule's own push (on-demand) may send more than that (its branch beyond the recorded
 *    commit, other refs its refspec names), through its own hooks. When the submodule's hook holds
 *    a current Keysentry block, that push is scanned there. When it does not, that part is not
 *    scanned by anyone: it is reported, and fail-closed stops the push ("keysentry install-hook
 *    --submodules" installs the block in each checked-out submodule's hooks folder; git's
 *    `submodule foreach` is not used because it runs the repository's config and shell).
 *
 * Every git command here goes through the hardened runner (./run.ts), in the submodule's folder.
 */
export const MAX_DEPTH = 8;

/** The checked-out repository of a submodule at `rel` in `top`, or why there is none. */
async function submoduleRepository(top: string, rel: string): Promise<{ dir: string } | { note: string; unscanned?: boolean }> {
  const dir = path.join(top, rel);
  // A gitlink path that leaves the work tree (`..`) or runs through a symlink is not one git pushes from.
  if (rel.split('/').some((s) => s === '..' || s === '' || s === '.')) return { note: 'its path is not a plain path in the work tree' };
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return { note: 'not checked out in this clone: a push cannot send its commits from here' };
  }
  // A symlink: git follows it to push from wherever it leads, so it is not scanned here and not guarded.
  if (st.isSymbolicLink()) return { note: 'a symbolic link in the work tree: its commits are not scanned here (git would push from where it leads)', unscanned: true };
  if (!st.isDirectory()) return { note: 'not a folder in the work tree: git cannot push it from here' };
  try {
    const subTop = await gitTopLevelAsync(dir);
    if (realpathSync(subTop) !== realpathSync(dir)) return { note: 'not checked out in this clone: a push cannot send its commits from here' };
  } catch {
    return { note: 'not checked out in this clone: a push cannot send its commits from here' };
  }
  return { dir };
}

const shown = (sub: string, f: PushFinding | { file: string }): string => (f.file.startsWith('(') ? `${f.file} [submodule ${sub}]` : `${sub}/${f.file}`);

/**
 * Scans the submodule commits a push records (`gitlinks`: submodule path → recorded commits) and
 * merges what it finds into `result` (findings and skipped files under the submodule's path,
 * commit counts, one SubmoduleCheck per submodule).
 */
export async function scanSubmodules(top: string, gitlinks: Map<string, Set<string>>, result: PushScanResult, depth = 0, prefix = ''): Promise<void> {
  const checks: SubmoduleCheck[] = (result.submodules ??= []);
  for (const [rel, commits] of gitlinks) {
    const name = prefix + rel;
    const repo = await submoduleRepository(top, rel);
    if ('note' in repo) {
      checks.push({ path: name, commits: 0, guarded: false, unguarded: !!repo.unscanned, note: repo.note });
      continue;
    }
    if (depth >= MAX_DEPTH) {
      checks.push({ path: name, commits: 0, guarded: false, unguarded: true, note: `nested more than ${MAX_DEPTH} submodules deep: not scanned` });
      continue;
    }
    await refuseGrafts(repo.dir);
    await refuseUnsafePartialClone(repo.dir);
    const history = new GitHistory(repo.dir);
    const present = await history.peel([...commits]);
    const wanted = [...commits].filter((c) => present.get(c)?.type === 'commit');
    const missing = commits.size - wanted.length;
    const zero = '0'.repeat(40);
    const input = wanted.map((c, i) => `refs/keysentry/gitlink/${i} ${c} refs/keysentry/gitlink/${i} ${c.length === 64 ? '0'.repeat(64) : zero}`).join('\n') + '\n';
    const nested = new Map<string, Set<string>>();
    const sub = wanted.length
      ? await scanPush(history, {
          remote: ALL_REMOTES,
          input,
          baseline: loadBaseline(undefined, repo.dir, repo.dir),
          ignore: loadIgnore(repo.dir),
          onGitlink: (p, c) => nested.set(p, (nested.get(p) ?? new Set()).add(c)),
        })
      : undefined;
    // The synthetic ref lines are not pushed: findings in their names cannot exist (refs/keysentry/…).
    let guarded = false;
    let hookFile: string | undefined;
    try {
      const status = await hookStatus(repo.dir);
      guarded = status.installed && !status.outdated;
      hookFile = status.location.file;
    } catch {
      guarded = false;
    }
    const outgoing = sub?.commits ?? 0;
    checks.push({
      path: name,
      commits: outgoing,
      guarded,
      ...(hookFile ? { hookFile } : {}),
      unguarded: outgoing > 0 && !guarded,
      ...(missing ? { note: `${missing} recorded commit(s) are not in its repository here: git cannot push them from this clone` } : {}),
    });
    if (!sub) continue;
    result.commits += sub.commits;
    result.baselined += sub.baselined;
    for (const f of sub.findings) result.findings.push({ ...f, file: shown(name, f), ref: f.ref.startsWith('refs/keysentry/gitlink/') ? `submodule ${name}` : f.ref });
    for (const k of sub.skipped) result.skipped.push({ ...k, file: shown(name, k) });
    if (nested.size) await scanSubmodules(repo.dir, nested, result, depth + 1, `${name}/`);
  }
}

/** The checked-out submodules of the repository at `top` (gitlinks in the index whose folder is a repository), recursively. */
export async function checkedOutSubmodules(top: string, depth = 0): Promise<Array<{ path: string; dir: string }>> {
  if (depth >= MAX_DEPTH) return [];
  const out: Array<{ path: string; dir: string }> = [];
  const staged = (await git(top, ['ls-files', '-z', '--stage'])).toString('utf8').split('\0');
  for (const e of staged) {
    if (!e.startsWith('160000 ')) continue;
    const rel = e.slice(e.indexOf('\t') + 1);
    const repo = await submoduleRepository(top, rel);
    if ('note' in repo) continue;
    out.push({ path: rel, dir: repo.dir });
    for (const n of await checkedOutSubmodules(repo.dir, depth + 1)) out.push({ path: `${rel}/${n.path}`, dir: n.dir });
  }
  return out;
}

/** Installs the hook block in each checked-out submodule's own hooks folder (where its pushes run hooks). */
export async function installInSubmodules(top: string, options: HookOptions): Promise<Array<{ path: string; file?: string; action?: InstallAction; error?: string }>> {
  const results: Array<{ path: string; file?: string; action?: InstallAction; error?: string }> = [];
  for (const s of await checkedOutSubmodules(top)) {
    try {
      const r = await installHook(s.dir, options);
      results.push({ path: s.path, file: r.location.file, action: r.action });
    } catch (e) {
      results.push({ path: s.path, error: (e as Error).message });
    }
  }
  return results;
}

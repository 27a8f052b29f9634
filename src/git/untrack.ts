import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomicFile';
import { KeysentryError } from '../core/types';
import { gitStatus, gitSync, NO_DIFF_PROGRAMS } from './run';
import { gitTopLevel } from './files';

/** How git sees a file a rotation would write the new secret into. */
export interface GitExposure {
  file: string;
  repo: string;
  /** Path relative to the repository, with `/`. */
  rel: string;
  /** In the index: the next commit takes the new secret. */
  tracked: boolean;
  /** In some commit (of any branch, pushed or not): the file's content has left this machine, or will. */
  committed: boolean;
  /** Ignored by .gitignore / info/exclude: git would not take it unless forced. */
  ignored: boolean;
}

/**
 * Whether writing a secret into `file` would put it into git: tracked now, or committed before and
 * not ignored (a `git add .` takes it again). Undefined outside a repository. Every git call goes
 * through the hardened runner (no repository-configured program runs).
 */
export async function gitExposure(file: string): Promise<GitExposure | undefined> {
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return undefined;
  }
  const repo = gitTopLevel(path.dirname(real));
  if (!repo) return undefined;
  const rel = path.relative(repo, real).split(path.sep).join('/');
  if (rel.startsWith('../')) return undefined;
  let tracked = false;
  let committed = false;
  try {
    tracked = gitSync(repo, ['ls-files', '-z', '--', `:(literal)${rel}`]).length > 0;
  } catch {
    tracked = false;
  }
  try {
    committed = gitSync(repo, ['log', '--all', '-1', '--format=%H', ...NO_DIFF_PROGRAMS, '--', `:(literal)${rel}`]).toString('utf8').trim() !== '';
  } catch {
    committed = false; // no commit yet
  }
  const ignored = !tracked && (await gitStatus(repo, ['check-ignore', '-q', '--', rel])) === 0;
  return { file, repo, rel, tracked, committed, ignored };
}

/** True when a new secret written into the file would go into git. */
export const exposesSecret = (e: GitExposure | undefined): boolean => !!e && (e.tracked || (e.committed && !e.ignored));

/**
 * Stops tracking the file and ignores it: `git rm --cached` (the file stays on disk; the removal
 * is staged for the user to commit) and `/rel` appended to the repository's top `.gitignore`
 * unless git ignores the file already.
 */
export async function untrackAndIgnore(e: GitExposure): Promise<void> {
  const ignoreFile = path.join(e.repo, '.gitignore');
  // A pattern matches only this path: glob characters and a leading '!' or '#' are escaped.
  const pattern = '/' + e.rel.replace(/[\\*?[\]!#]/g, (c) => `\\${c}`).replace(/ $/, '\\ ');
  const ignoredAlready = (await gitStatus(e.repo, ['check-ignore', '-q', '--no-index', '--', e.rel])) === 0;
  let text: string | undefined;
  let st: ReturnType<typeof lstatSync> | undefined;
  try {
    st = lstatSync(ignoreFile);
  } catch {
    st = undefined;
  }
  if (!ignoredAlready && st) {
    // The repository is untrusted: a .gitignore that is a symlink (to ~/.bashrc…) or not a file is
    // never written through. Checked before anything changes.
    if (!st.isFile() || st.size > 1024 * 1024) throw new KeysentryError(`${ignoreFile} is not a regular file (or over 1 MB): Keysentry does not write through it. Add ${pattern} to it yourself, or untrack ${e.rel} yourself (git rm --cached), then rotate again`);
    text = readFileSync(ignoreFile, 'utf8');
  }
  if (e.tracked) gitSync(e.repo, ['rm', '--cached', '--quiet', '--', `:(literal)${e.rel}`]);
  if (ignoredAlready) return;
  writeFileAtomic(ignoreFile, text === undefined ? `${pattern}\n` : `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${pattern}\n`);
}

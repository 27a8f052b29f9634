import { spawn } from 'node:child_process';
import { isKeyIdShape } from '../core/detect/patterns';
import { KeysentryError } from '../core/types';
import { gitInvocation, NO_DIFF_PROGRAMS, PINNED_LOG_FORMAT } from './run';

export interface FirstAdded {
  commit: string;
  /** Committer date (ISO): when the key entered this history. */
  date: string;
}

/** How long the pickaxe may run: it reads every diff of the history once (linear in its size). */
export const EXPOSURE_TIMEOUT_MS = 20_000;

/**
 * The first commit (in every ref) whose diff added the key id, with git's pickaxe
 * (`git log -S<id>`: commits that change the number of occurrences), through the hardened runner
 * (no fsmonitor, no external diff, no textconv, no replace refs). Linear in the size of the
 * history's diffs (bench/investigate-exposure.mjs measures it) and bounded by `timeoutMs`:
 * undefined when the key is not in the history, the folder is not a repository, or it takes too long.
 */
export function firstCommitAdding(cwd: string, keyId: string, timeoutMs = EXPOSURE_TIMEOUT_MS): Promise<FirstAdded | undefined> {
  if (!isKeyIdShape(keyId)) throw new KeysentryError('not an access key id');
  const inv = gitInvocation(['log', '--all', ...NO_DIFF_PROGRAMS, ...PINNED_LOG_FORMAT, '--no-renames', `-S${keyId}`, '--format=%H %cI', '--reverse']);
  return new Promise((resolve) => {
    const child = spawn('git', inv.args, { cwd, env: inv.env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8');
    // --reverse prints the oldest first, but only once git has walked everything: keep the head only.
    child.stdout.on('data', (d: string) => {
      if (out.length < 4096) out += d;
    });
    child.on('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return resolve(undefined);
      // The earliest committer date wins (branches can interleave in git's order).
      let best: FirstAdded | undefined;
      for (const m of out.matchAll(/^([0-9a-f]{40,64}) (\S+)$/gm)) {
        const t = new Date(m[2] as string);
        if (!Number.isNaN(t.getTime()) && (!best || t.toISOString() < best.date)) best = { commit: m[1] as string, date: t.toISOString() };
      }
      resolve(best);
    });
  });
}

import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomicFile';
import { git, gitPath } from './history';

/**
 * Which remote-tracking refs the pre-push scan may take as "already on the remote" for a new ref
 * (or a remote tip it does not know). `refs/remotes/<name>/*` are evidence of what a server has
 * only when they were fetched from the server being pushed to:
 *
 * - the push goes to a named remote whose fetch URL (`git remote get-url`, insteadOf applied) is
 *   the URL git passes the hook, and whose push URL is the same (a pushurl or pushInsteadOf that
 *   differs means the refs describe another server);
 * - and the refs were fetched since that URL was set: Keysentry records, per remote, the URL it
 *   last saw (git dir keysentry/remote-urls.json). When the URL is new to it (first run, or after
 *   `git remote set-url`), every tracking ref present then is marked stale and stays untrusted
 *   until a fetch or push moves it.
 *
 * Anything else: nothing is assumed, and a new ref is scanned from its tip down to its root
 * commits (what git's pre-push.sample does), which is linear in the history. A branch deleted on
 * the server but not pruned locally is still trusted once moved since the URL was seen: its
 * commits were on this server (the scan does not re-check what this server once had).
 */
export interface TrackingTrust {
  /** Ids of the tracking refs trusted, to exclude from the walk of new refs. */
  tips: string[];
  /** Which commits were assumed already on the remote, and why (for the report). */
  note: string;
}

const RECORD = 'keysentry/remote-urls.json';
interface Record {
  [remote: string]: { url: string; stale: { [ref: string]: string } };
}

async function configured(top: string, args: string[]): Promise<string | undefined> {
  try {
    return (await git(top, args)).toString('utf8').trim();
  } catch {
    return undefined;
  }
}

export async function trackingRefsTrust(top: string, remote: string, pushUrl: string | undefined, opts: { record: boolean }): Promise<TrackingTrust> {
  const none = (why: string): TrackingTrust => ({ tips: [], note: `no remote-tracking ref taken as on the remote (${why}): new branches scanned down to their first commit` });
  // git refuses these characters in remote names; anything else (a URL pushed to directly) is no named remote.
  if (!/^[A-Za-z0-9._-][A-Za-z0-9._/-]*$/.test(remote) || remote.includes('..')) return none('pushing to a URL, not a named remote');
  const fetchUrl = await configured(top, ['remote', 'get-url', '--', remote]);
  if (fetchUrl === undefined) return none(`"${remote}" is not a configured remote`);
  const pushUrls = ((await configured(top, ['remote', 'get-url', '--push', '--all', '--', remote])) ?? '').split('\n').filter(Boolean);
  if (pushUrls.some((u) => u !== fetchUrl)) return none(`remote "${remote}" pushes to a URL other than the one it fetches from`);
  // The editor passes the remote's name as its URL: the URL git would push to is the configured one.
  const target = pushUrl === undefined || pushUrl === remote ? fetchUrl : pushUrl;
  if (target !== fetchUrl) return none(`the push goes to a URL other than the one remote "${remote}" fetches from`);

  const refsOut = (await configured(top, ['for-each-ref', '--format=%(objectname) %(refname)', `refs/remotes/${remote}/`])) ?? '';
  const refs = new Map<string, string>();
  for (const line of refsOut.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0 && !line.endsWith('/HEAD')) refs.set(line.slice(sp + 1), line.slice(0, sp));
  }
  const file = await gitPath(top, RECORD);
  let record: Record = {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) record = parsed as Record;
  } catch {
    // absent or unreadable: every remote URL is new
  }
  const seen = Object.prototype.hasOwnProperty.call(record, remote) ? record[remote] : undefined;
  const entry = seen && seen.url === target && seen.stale && typeof seen.stale === 'object' ? seen : { url: target, stale: Object.fromEntries(refs) };
  // A stale ref that moved or went away since has been fetched (or pushed) from this URL, or is gone.
  const stale: { [ref: string]: string } = {};
  for (const [ref, id] of Object.entries(entry.stale)) if (refs.get(ref) === id) stale[ref] = id;
  if (opts.record) {
    try {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const next: Record = { ...record, [remote]: { url: target, stale } };
      writeFileAtomic(file, JSON.stringify(next, null, 2) + '\n', 0o600);
    } catch {
      // not recorded: the next run treats the URL as new again (scans more, never less)
    }
  }
  const trusted = [...refs].filter(([ref]) => !(ref in stale));
  const staleNames = Object.keys(stale).map((r) => r.slice('refs/remotes/'.length));
  if (!trusted.length) return none(staleNames.length ? `${staleNames.length} remote-tracking ref(s) of "${remote}" predate its current URL and were not fetched from it since` : `remote "${remote}" has no remote-tracking refs`);
  const names = trusted.map(([ref]) => ref.slice('refs/remotes/'.length));
  const shown = names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');
  return {
    tips: trusted.map(([, id]) => id),
    note: `commits on ${shown} (fetched from the URL pushed to) taken as already on the remote${staleNames.length ? `; ${staleNames.length} older ref(s) not trusted` : ''}`,
  };
}

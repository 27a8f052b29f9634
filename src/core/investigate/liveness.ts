/**
 * Is a found access key live, and whose is it? Decided from what STS and IAM said when asked with
 * the user's own identity (never the key itself). Pure: src/aws/keyLookup.ts makes the calls.
 */

export type LiveStatus = 'active' | 'inactive' | 'deleted' | 'other-account' | 'unknown';

export interface LastUse {
  date: string;
  service: string | null;
  region: string | null;
}

/** The `keysentry check` JSON shape, also `live` on a key-id finding of `keysentry scan --check-live`. */
export interface KeyLiveness {
  keyId: string;
  /** The account that owns the key (STS GetAccessKeyInfo, else decoded from the id offline). */
  accountId: string | null;
  status: LiveStatus;
  user: string | null;
  created: string | null;
  lastUsed: LastUse | null;
  /** One plain sentence: why this status, or what could not be checked. */
  reason: string;
}

/** A call that failed: denied, not found, or anything else (throttled past retries, unreachable). */
export interface CallFailure {
  kind: 'denied' | 'not-found' | 'error';
  /** The permission it needed, e.g. `iam:GetAccessKeyLastUsed`. */
  permission: string;
  message: string;
}

/** What the lookup learned, call by call. */
export interface KeyLookupFacts {
  keyId: string;
  /** Who signed: the user's own identity. */
  caller?: { account: string; arn: string };
  callerFailure?: CallFailure;
  /** The credentials Keysentry would sign with are this very key: nothing was asked. */
  signerIsKey?: boolean;
  /** STS GetAccessKeyInfo. */
  keyAccount?: string;
  keyAccountFailure?: CallFailure;
  /** Decoded offline from the id (undefined for ids that predate the encoding). */
  decodedAccount?: string;
  /** The id decodes to a known canary-token account: nothing was asked. */
  canary?: { account: string; what: string };
  /** IAM GetAccessKeyLastUsed. */
  owner?: { userName: string; lastUsed?: { date?: string; service?: string; region?: string } };
  ownerFailure?: CallFailure;
  /** IAM ListAccessKeys for the owner: this key's entry, or undefined when it is not listed. */
  listed?: { status: 'Active' | 'Inactive'; created?: string };
  listFailure?: CallFailure;
}

const couldNot = (f: CallFailure): string => (f.kind === 'denied' ? `could not check: ${f.permission} denied` : `could not check: ${f.message}`);

function lastUseOf(f: KeyLookupFacts): LastUse | null {
  const u = f.owner?.lastUsed;
  // IAM answers "N/A" for the service and region of a key never used.
  if (!u?.date) return null;
  const clean = (s?: string): string | null => (s && s !== 'N/A' ? s : null);
  return { date: u.date, service: clean(u.service), region: clean(u.region) };
}

export function judgeLiveness(f: KeyLookupFacts): KeyLiveness {
  const accountId = f.keyAccount ?? f.decodedAccount ?? null;
  const base: KeyLiveness = { keyId: f.keyId, accountId, status: 'unknown', user: null, created: null, lastUsed: null, reason: '' };
  if (f.canary) {
    return { ...base, accountId: f.canary.account, status: 'other-account', reason: `${f.canary.what} (account ${f.canary.account}): any use of it alerts whoever planted it; do not try it` };
  }
  if (f.signerIsKey) {
    return { ...base, reason: 'it is the key Keysentry would sign with: choose another profile (an administrator or SSO role) to check it without using it' };
  }
  if (!f.caller) return { ...base, reason: f.callerFailure ? couldNot(f.callerFailure) : 'could not check: no AWS identity to sign with' };
  if (accountId && accountId !== f.caller.account) {
    return { ...base, status: 'other-account', reason: `the key belongs to account ${accountId}; you sign as account ${f.caller.account}, which cannot read its status` };
  }
  if (!accountId && f.keyAccountFailure && !f.owner) return { ...base, reason: couldNot(f.keyAccountFailure) };
  if (f.ownerFailure) {
    if (f.ownerFailure.kind === 'not-found') {
      return { ...base, accountId: accountId ?? f.caller.account, status: 'deleted', reason: `no IAM user of account ${f.caller.account} has this key: it was deleted (or never existed)` };
    }
    return { ...base, reason: couldNot(f.ownerFailure) };
  }
  if (!f.owner) return { ...base, reason: 'could not check: IAM did not name an owner' };
  const user = f.owner.userName;
  const lastUsed = lastUseOf(f);
  if (user === 'root' || user.endsWith(':root')) {
    return { ...base, user: 'root', lastUsed, reason: "a key of the account's root user: IAM users cannot see its status; delete it while signed in as root" };
  }
  if (f.listFailure) return { ...base, user, lastUsed, reason: couldNot(f.listFailure) };
  if (!f.listed) return { ...base, accountId: accountId ?? f.caller.account, status: 'deleted', user, lastUsed, reason: `${user} no longer has this key: it was deleted` };
  const status = f.listed.status === 'Active' ? 'active' : 'inactive';
  return {
    ...base,
    accountId: accountId ?? f.caller.account,
    status,
    user,
    created: f.listed.created ?? null,
    lastUsed,
    reason: status === 'active' ? `an active key of IAM user ${user}: anyone holding its secret can use it` : `an inactive key of IAM user ${user}: it cannot sign until someone reactivates it`,
  };
}

/** "3 h ago", "2 days ago", for a date before `now`. */
export function ago(iso: string, now = Date.now()): string {
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  if (ms < 0) return 'just now';
  const min = Math.round(ms / 60_000);
  if (min < 60) return min <= 1 ? 'just now' : `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

/** One line for a person: "active key of IAM user deploy-bot, last used 2 h ago by s3 in eu-west-1". */
export function describeLiveness(l: KeyLiveness, now = Date.now()): string {
  const use = l.lastUsed ? `last used ${ago(l.lastUsed.date, now)}${l.lastUsed.service ? ` by ${l.lastUsed.service}` : ''}${l.lastUsed.region ? ` in ${l.lastUsed.region}` : ''}` : 'never used';
  switch (l.status) {
    case 'active':
      return `active key of IAM user ${l.user}${l.accountId ? ` (account ${l.accountId})` : ''}, ${use}`;
    case 'inactive':
      return `inactive key of IAM user ${l.user}${l.accountId ? ` (account ${l.accountId})` : ''}, ${use}`;
    case 'deleted':
      return `deleted: ${l.reason}`;
    case 'other-account':
      return `in another account: ${l.reason}`;
    case 'unknown':
      return l.reason;
  }
}

/** Exit status of `keysentry check`: 1 when any key is active, else 2 when any could not be checked, else 0. */
export function checkExitCode(results: KeyLiveness[]): number {
  if (results.some((r) => r.status === 'active')) return 1;
  if (results.some((r) => r.status === 'unknown')) return 2;
  return 0;
}

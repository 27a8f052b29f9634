import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { snapshotAccount } from '../aws/account';
import { resolveTarget } from '../aws/clients';
import { checkAccount, DEFAULT_CHECKS } from '../core/incidents/checks';
import { redactDeep } from '../core/incidents/book';
import { isUsableNotice, noticeIncident, noticeTooLarge, parseNoticeAsync } from '../core/incidents/notice';
import { worse } from '../core/incidents/book';
import { formatAudit, formatNotice } from '../core/incidents/report';
import { KeysentryError } from '../core/types';
import { formatFlag, parseArgs } from './args';
import type { Io } from './io';

export const AUDIT_USAGE = `usage: keysentry audit [--profile P] [--region R] [--regions LIST] [--home-regions LIST]
         [--endpoint-url URL] [--max-key-age DAYS] [--unused-key-days DAYS] [--recent-days DAYS]
         [--format text|json]

Checks an AWS account the way the editor's Incidents view does, with read-only calls: security
groups open to 0.0.0.0/0 or ::/0 on SSH, RDP or all ports; running instances outside the home
regions or launched recently; access keys that are old, unused or one of two active on a user;
IAM users without MFA; root access keys; users AWS quarantined (AWSCompromisedKeyQuarantine*).

  --regions LIST        comma-separated regions to scan (default: every enabled region, DescribeRegions)
  --home-regions LIST   regions the account is meant to use (default: --region / the profile's region)
  --max-key-age DAYS    flag active keys older than this (default ${DEFAULT_CHECKS.maxKeyAgeDays})
  --unused-key-days D   flag active keys unused this long (default ${DEFAULT_CHECKS.unusedKeyDays})
  --recent-days DAYS    list instances launched within this many days (default ${DEFAULT_CHECKS.recentLaunchDays})
Credentials follow AWS's conventions (env, --profile / AWS_PROFILE, SSO, AWS_ENDPOINT_URL).
Exit status: 0 nothing found, 1 incidents found, 2 error (or nothing found but some checks failed).`;

export const NOTICE_USAGE = `usage: keysentry notice FILE|- [--format text|json]

Reads an AWS abuse notice (a saved .eml, or the email's text; - reads standard input) and prints
what it understood: abuse type, instance ids, IP addresses, region, time window, case number and
the reply deadline, and what it could not find. The editor's "Import AWS Abuse Notice" uses the same parser.
Exit status: 0 understood, 1 not recognisable as a notice, 2 error.`;

const list = (v: string | true | undefined): string[] | undefined =>
  typeof v === 'string'
    ? v
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

function days(v: string | true | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n < 0) throw new KeysentryError(`--${name} needs a number of days, not "${String(v)}"`);
  return n;
}

export async function auditCommand(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(argv, ['profile', 'region', 'regions', 'home-regions', 'endpoint-url', 'format', 'max-key-age', 'unused-key-days', 'recent-days'], ['help']);
  if (a.flags.has('help')) {
    io.out(AUDIT_USAGE);
    return 0;
  }
  if (a.positional.length) throw new KeysentryError(`audit takes no arguments (got "${a.positional[0]}")\n\n${AUDIT_USAGE}`);
  const fmt = formatFlag(a, ['text', 'json'] as const);
  const checks = {
    maxKeyAgeDays: days(a.flags.get('max-key-age'), 'max-key-age', DEFAULT_CHECKS.maxKeyAgeDays),
    unusedKeyDays: days(a.flags.get('unused-key-days'), 'unused-key-days', DEFAULT_CHECKS.unusedKeyDays),
    recentLaunchDays: days(a.flags.get('recent-days'), 'recent-days', DEFAULT_CHECKS.recentLaunchDays),
  };
  const target = resolveTarget({ profile: a.flags.get('profile') as string | undefined, region: a.flags.get('region') as string | undefined, endpoint: a.flags.get('endpoint-url') as string | undefined });
  const snapshot = await snapshotAccount(target, {
    regions: list(a.flags.get('regions')),
    homeRegions: list(a.flags.get('home-regions')),
    onProgress: (done, total, what) => io.progress?.(done === total ? '' : `keysentry: checked ${what} (${done}/${total})`),
  });
  // A severity that depends on a fact the audit could not read is shown at its worst case, never lower.
  const drafts = checkAccount(snapshot, { ...checks, now: new Date() }).map((d) => (d.uncertain ? { ...d, severity: worse(d.severity, d.uncertain.worst) } : d));
  if (fmt === 'json') io.out(JSON.stringify({ account: snapshot.account, caller: snapshot.caller, regions: snapshot.regions, homeRegions: snapshot.homeRegions, incidents: drafts, errors: snapshot.errors }, null, 2));
  else io.out(formatAudit(snapshot, drafts));
  if (drafts.length) return 1;
  return snapshot.errors.length ? 2 : 0;
}

export async function noticeCommand(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(argv, ['format'], ['help']);
  if (a.flags.has('help')) {
    io.out(NOTICE_USAGE);
    return 0;
  }
  const fmt = formatFlag(a, ['text', 'json'] as const);
  const [file, extra] = a.positional;
  if (!file || extra) throw new KeysentryError(`notice takes one FILE (or - for standard input)\n\n${NOTICE_USAGE}`);
  let input: string | Buffer;
  if (file === '-') {
    input = io.readStdin ? await io.readStdin() : '';
    const big = noticeTooLarge(Buffer.byteLength(input), 'standard input');
    if (big) throw new KeysentryError(big);
  } else {
    const p = path.resolve(io.cwd, file);
    if (!existsSync(p)) throw new KeysentryError(`no such file: ${file}`);
    const st = statSync(p);
    if (!st.isFile()) throw new KeysentryError(`not a file: ${file}`);
    const big = noticeTooLarge(st.size, file);
    if (big) throw new KeysentryError(big);
    input = readFileSync(p);
  }
  // Async: a notice forwarded as an attachment (message/rfc822) is opened with postal-mime.
  const n = await parseNoticeAsync(input);
  const usable = isUsableNotice(n);
  if (fmt === 'json') {
    const { text: _text, ...fields } = n;
    // parseNotice masks secrets before reading fields out; redactDeep is the second line.
    io.out(JSON.stringify(redactDeep({ ...fields, usable, incident: usable ? noticeIncident(n) : undefined }), null, 2));
  } else io.out(formatNotice(n));
  return usable ? 0 : 1;
}

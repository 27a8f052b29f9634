import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { snapshotAccount } from '../aws/account';
import { resolveTarget } from '../aws/clients';
import { checkAccount, DEFAULT_CHECKS } from '../core/incidents/checks';
import { DEFAULT_TRAFFIC, trafficFigures, type TrafficFigures } from '../core/incidents/dataTransfer';
import { formatBytes } from '../core/investigate/traffic';
import { oneLine } from '../core/incidents/escape';
import { redact } from '../core/mask';
import { redactDeep } from '../core/incidents/book';
import { isUsableNotice, noticeIncident, noticeTooLarge, parseNoticeAsync } from '../core/incidents/notice';
import { worse } from '../core/incidents/book';
import { formatAudit, formatNotice } from '../core/incidents/report';
import { KeysentryError } from '../core/types';
import { formatFlag, parseArgs } from './args';
import type { Io } from './io';

export const AUDIT_USAGE = `usage: keysentry audit [--profile P] [--region R] [--regions LIST] [--home-regions LIST]
         [--endpoint-url URL] [--max-key-age DAYS] [--unused-key-days DAYS] [--recent-days DAYS]
         [--traffic] [--traffic-days DAYS] [--traffic-ratio N] [--traffic-min-gb GB]
         [--costs] [--cost-days DAYS] [--no-hardening] [--format text|json]

Checks an AWS account the way the editor's Incidents view does, with read-only calls: security
groups open to 0.0.0.0/0 or ::/0 on SSH, RDP or all ports; running instances outside the home
regions or launched recently; access keys that are old, unused or one of two active on a user;
IAM users without MFA; root access keys; users AWS quarantined (AWSCompromisedKeyQuarantine*);
and hardening: GuardDuty off, no multi-region CloudTrail trail logging, no billing alarm and no
budget, no security contact.

  --traffic             unexpected data transfer: each instance's NetworkOut (CloudWatch GetMetricData)
                        over --traffic-days (default 14); an hour --traffic-ratio times (default ${DEFAULT_TRAFFIC.factor})
                        its median hour and over --traffic-min-gb (default ${DEFAULT_TRAFFIC.minBytes / 1e9}) opens an incident
  --costs               the bill's data-transfer usage types by day (Cost Explorer GetCostAndUsage,
                        over --cost-days, default 14). Each Cost Explorer call costs USD 0.01.
  --no-hardening        skip the hardening checks

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
  const a = parseArgs(argv, ['profile', 'region', 'regions', 'home-regions', 'endpoint-url', 'format', 'max-key-age', 'unused-key-days', 'recent-days', 'traffic-days', 'traffic-ratio', 'traffic-min-gb', 'cost-days'], ['help', 'traffic', 'costs', 'no-hardening']);
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
  const traffic = {
    factor: positive(a.flags.get('traffic-ratio'), 'traffic-ratio', DEFAULT_TRAFFIC.factor),
    minBytes: positive(a.flags.get('traffic-min-gb'), 'traffic-min-gb', DEFAULT_TRAFFIC.minBytes / 1e9) * 1e9,
    minCost: DEFAULT_TRAFFIC.minCost,
    // The windows are said in the user's local time.
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  };
  const trafficDays = a.flags.has('traffic') || a.flags.has('traffic-days') ? Math.min(63, Math.max(1, days(a.flags.get('traffic-days'), 'traffic-days', 14))) : undefined;
  const costDays = a.flags.has('costs') || a.flags.has('cost-days') ? Math.min(365, Math.max(1, days(a.flags.get('cost-days'), 'cost-days', 14))) : undefined;
  const target = resolveTarget({ profile: a.flags.get('profile') as string | undefined, region: a.flags.get('region') as string | undefined, endpoint: a.flags.get('endpoint-url') as string | undefined });
  const snapshot = await snapshotAccount(target, {
    regions: list(a.flags.get('regions')),
    homeRegions: list(a.flags.get('home-regions')),
    onProgress: (done, total, what) => io.progress?.(done === total ? '' : `keysentry: checked ${what} (${done}/${total})`),
    trafficDays,
    trafficThresholds: traffic,
    costDays,
    hardening: !a.flags.has('no-hardening'),
  });
  // A severity that depends on a fact the audit could not read is shown at its worst case, never lower.
  const drafts = checkAccount(snapshot, { ...checks, traffic, now: new Date() }).map((d) => (d.uncertain ? { ...d, severity: worse(d.severity, d.uncertain.worst) } : d));
  const figures = trafficFigures(snapshot, traffic);
  if (fmt === 'json') io.out(JSON.stringify(redactDeep({ account: snapshot.account, caller: snapshot.caller, regions: snapshot.regions, homeRegions: snapshot.homeRegions, ...figures, incidents: drafts, errors: snapshot.errors }), null, 2));
  else io.out([formatAudit(snapshot, drafts), formatFigures(figures)].filter(Boolean).join('\n\n'));
  if (drafts.length) return 1;
  return snapshot.errors.length ? 2 : 0;
}

function positive(v: string | true | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n <= 0) throw new KeysentryError(`--${name} needs a positive number, not "${String(v)}"`);
  return n;
}

/** The traffic and bill figures, after the incidents. */
function formatFigures(f: TrafficFigures): string {
  const lines: string[] = [];
  if (f.traffic) {
    lines.push(`Traffic: ${f.traffic.instancesChecked} instance(s), NetworkOut over ${f.traffic.days} day(s), ${f.traffic.getMetricDataCalls} GetMetricData call(s); ${f.traffic.spikes.length} unusual window(s)`);
    for (const x of f.traffic.spikes) lines.push(`  ${oneLine(x.instanceId)} (${oneLine(x.region)}): ${oneLine(x.window)}; peak hour ${formatBytes(x.peakHourBytes)}`);
  }
  if (f.costs) {
    lines.push(`Costs: data transfer over ${f.costs.days} day(s), ${f.costs.getCostAndUsageCalls} Cost Explorer call(s) (USD ${f.costs.costUsd.toFixed(2)}); ${f.costs.spikes.length} spike(s)`);
    for (const c of f.costs.spikes) lines.push(`  ${oneLine(c.day)} ${oneLine(c.usageType)} (${oneLine(c.route)}): ${c.gigabytes.toFixed(1)} GB, USD ${c.costUsd.toFixed(2)} (usually ${c.usualGigabytes.toFixed(1)} GB, USD ${c.usualCostUsd.toFixed(2)})`);
  }
  return redact(lines.join('\n'));
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

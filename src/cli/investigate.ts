import { enabledRegions, lookupEvents, signerCheck } from '../aws/cloudtrail';
import { investigate, type Exposure, type Investigation } from '../core/investigate/investigation';
import { firstCommitAdding } from '../git/exposure';
import { resolveTarget } from '../aws/clients';
import { isKeyIdShape } from '../core/detect/patterns';
import { byTime, type TrailSummary } from '../core/investigate/trail';
import { redact } from '../core/mask';
import { KeysentryError } from '../core/types';
import { formatFlag, parseArgs } from './args';
import { printable } from './check';
import type { Io } from './io';

export const INVESTIGATE_USAGE = `usage: keysentry investigate ACCESS_KEY_ID | --user NAME [--since DATE] [--repo DIR] [--regions LIST]
         [--profile P] [--region R] [--endpoint-url URL] [--format text|json]

What a leaked key (or an IAM user) did, from CloudTrail event history (LookupEvents, the last 90
days, no trail needed), in every enabled region, signed with YOUR identity: calls by name and
region, source IP addresses and tools (those seen before the exposure are taken as the owner's),
denied calls (probing), first and last activity, and every resource its calls created or changed
(users, access keys, login profiles, policies, roles, instances, spot requests, key pairs,
security-group rules, Lambda functions), then the activity of every access key the attacker
created. Each thing left behind is marked as yours (made before the exposure, or from your own IP
address and tool) or not, with the action that removes it (run it from the incident in the editor).
Nothing is changed.

  --since DATE    when the key was exposed (ISO date or time). Default: the date of the first
                  commit that added the key in the git repository DIR (--repo, default the current
                  folder), else 90 days ago. Calls before it are the baseline of the owner's own use.
  --repo DIR      the repository that leaked the key (for the exposure date)
  --regions LIST  comma-separated regions (default: every region enabled for the account)
Permissions: cloudtrail:LookupEvents, ec2:DescribeRegions. AWS's quarantine policy denies
LookupEvents to the quarantined user itself: sign as another principal.
Exit status: 0 no activity in the window, 1 activity, 2 error.`;

const DAY = 86_400_000;

function parseDate(s: string): Date {
  const d = new Date(/^\d{4}-\d\d-\d\d$/.test(s) ? `${s}T00:00:00Z` : s);
  if (Number.isNaN(d.getTime())) throw new KeysentryError(`--since: "${printable(s.slice(0, 40))}" is not a date (use 2026-11-20 or 2026-11-20T03:15:00Z)`);
  return d;
}

export function formatInvestigation(subject: string, s: TrailSummary, failures: Array<{ region: string; message: string }>, inv?: Investigation): string {
  const out: string[] = [];
  out.push(`keysentry: ${subject}: ${s.events} call(s) from ${s.from.slice(0, 16)} to ${s.to.slice(0, 16)} UTC${s.first ? ` (first ${s.first}, last ${s.last})` : ''}.`);
  for (const v of s.verdict) out.push(`  - ${printable(v)}`);
  if (inv) out.push(`Exposure from ${inv.exposure.since.slice(0, 16)} UTC: ${printable(inv.exposure.detail)}`);
  if (inv?.signerNote) out.push(`note: ${printable(inv.signerNote)}`);
  if (s.byName.length) {
    out.push('Calls:');
    for (const b of s.byName.slice(0, 40)) out.push(`  ${String(b.count).padStart(5)}  ${printable(b.name)} (${printable(b.region)})${b.failed ? `, ${b.failed} failed` : ''}`);
    if (s.byName.length > 40) out.push(`  … ${s.byName.length - 40} more (--format json lists them all)`);
  }
  if (s.ips.length) out.push('Source IP addresses:', ...s.ips.slice(0, 20).map((i) => `  ${String(i.count).padStart(5)}  ${printable(i.ip)}${i.known ? ' (seen before the exposure)' : ''}`));
  if (s.userAgents.length) out.push('Tools (user agents):', ...s.userAgents.slice(0, 10).map((a) => `  ${String(a.count).padStart(5)}  ${printable(a.agent.slice(0, 120))}${a.known ? ' (seen before the exposure)' : ''}`));
  if (inv) {
    for (const f of inv.followed) out.push(`Access key ${printable(f.keyId)}${f.user ? ` (${printable(f.user)})` : ''}, created by the attacker: ${f.events} call(s)${f.verdict.length ? `; ${f.verdict.map(printable).join('; ')}` : ''}`);
    if (inv.resources.length) {
      out.push('Created or changed:');
      for (const c of inv.resources) {
        out.push(`  ${c.type.padEnd(20)} ${printable(c.id)} (${printable(c.region)}, ${c.eventName} at ${c.eventTime})${c.ownership === 'attacker' ? '' : c.ownership === 'attacker-changed' ? ' [changed by the attacker; existed before?]' : ' [yours]'}`);
        if (c.removal) out.push(`      remove: ${printable(c.removal.label)}`);
        else if (c.note) out.push(`      ${printable(c.note)}`);
      }
      if (inv.resources.some((c) => c.removal)) out.push('Remove them from the incident in the editor (each plan is shown and confirmed), or with the AWS CLI.');
    }
  } else if (s.created.length) {
    out.push('Created or changed:');
    for (const c of s.created) out.push(`  ${c.type.padEnd(20)} ${printable(c.id)} (${printable(c.region)}, ${c.eventName} at ${c.eventTime})`);
  }
  for (const f of failures) out.push(`warning: ${printable(f.region)}: ${printable(f.message)}`);
  return out.join('\n');
}

export async function investigateCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, ['user', 'since', 'repo', 'regions', 'profile', 'region', 'endpoint-url', 'format'], ['help']);
  if (args.flags.has('help')) {
    io.out(INVESTIGATE_USAGE);
    return 0;
  }
  const format = formatFlag(args, ['text', 'json'] as const);
  const opt = (name: string): string | undefined => args.flags.get(name) as string | undefined;
  const user = opt('user');
  const [keyId, ...extra] = args.positional;
  if (extra.length) throw new KeysentryError(`unexpected argument "${printable(extra[0] as string)}"`);
  if (!!keyId === !!user) throw new KeysentryError(`investigate needs an access key id or --user NAME (one of them)\n\n${INVESTIGATE_USAGE}`);
  if (keyId && !isKeyIdShape(keyId)) throw new KeysentryError(`"${printable(keyId.slice(0, 40))}" is not an AWS access key id`);
  if (user !== undefined && !/^[\w+=,.@-]{1,64}$/.test(user)) throw new KeysentryError('--user: an IAM user name has 1 to 64 letters, digits and +=,.@_-');
  const now = new Date();
  const oldest = new Date(now.getTime() - 90 * DAY);
  let exposure: Exposure;
  if (opt('since')) {
    const since = parseDate(opt('since') as string);
    if (since > now) throw new KeysentryError('--since is in the future');
    exposure = { since: since.toISOString(), source: 'flag', detail: 'given with --since' };
  } else {
    const added = keyId ? await firstCommitAdding(opt('repo') ?? io.cwd, keyId) : undefined;
    exposure = added
      ? { since: added.date, source: 'git', detail: `commit ${added.commit.slice(0, 12)} (${added.date}) first added the key to the repository` }
      : { since: oldest.toISOString(), source: 'default', detail: 'unknown (no commit adds the key here): the last 90 days, all CloudTrail keeps' };
  }
  // CloudTrail keeps 90 days: the window is capped in time (never in events).
  if (exposure.since < oldest.toISOString()) exposure = { ...exposure, since: oldest.toISOString(), detail: `${exposure.detail}; CloudTrail keeps 90 days, so the window starts ${oldest.toISOString().slice(0, 10)}` };
  const since = new Date(exposure.since);
  // The 30 days before the exposure (within the 90 days CloudTrail keeps) are the owner's baseline.
  const from = new Date(Math.max(oldest.getTime(), since.getTime() - 30 * DAY));
  const target = resolveTarget({ profile: opt('profile'), region: opt('region'), endpoint: opt('endpoint-url') });
  const regions = opt('regions')
    ? (opt('regions') as string).split(',').map((r) => r.trim()).filter(Boolean)
    : await enabledRegions(target);
  for (const r of regions) if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(r)) throw new KeysentryError(`--regions: "${printable(r.slice(0, 40))}" is not a region name`);
  let cancelled = false;
  const abort = new AbortController();
  io.onInterrupt?.(() => {
    cancelled = true;
    abort.abort();
  });
  const subject = keyId ?? `user ${user}`;
  const signer = await signerCheck(target, keyId, user);
  const { investigation: inv, events } = await investigate(
    (attribute, window) =>
      lookupEvents(target, attribute, regions, window, {
        isCancelled: () => cancelled,
        signal: abort.signal,
        onPage: (region, n) => io.progress?.(`keysentry: reading CloudTrail of ${attribute.value}: ${region}, ${n} event(s) so far`),
        onThrottle: (region, ms) => io.progress?.(`keysentry: CloudTrail is throttling ${region}: waiting ${Math.round(ms / 1000)} s`),
      }),
    { subject: keyId ? { accessKeyId: keyId } : { user }, regions, from, to: now, exposure, signerNote: signer.note, isCancelled: () => cancelled },
  );
  io.progress?.('');
  if (cancelled) throw new KeysentryError('cancelled: the summary would be incomplete');
  const failures = inv.failures;
  const primaryFailures = failures.filter((f) => !f.key);
  if (primaryFailures.length === regions.length) {
    const denied = primaryFailures.every((f) => f.denied);
    throw new KeysentryError(
      `${primaryFailures[0]?.message ?? 'LookupEvents failed'}${signer.note ? ` Note: ${signer.note}` : denied ? ' If AWS quarantined the user you sign as (AWSCompromisedKeyQuarantine), it cannot read CloudTrail: sign as another principal (--profile).' : ''}`,
    );
  }
  const summary = inv.summary;
  const inWindow = events.filter((e) => e.time >= exposure.since).sort(byTime);
  // Account data (user agents, names) can hold anything: a secret-shaped run is masked like everywhere else.
  if (format === 'json') io.out(redact(JSON.stringify({ subject: inv.subject, exposure: inv.exposure, signer: signer.arn ?? null, signerNote: inv.signerNote ?? null, events: inWindow, summary, created: inv.resources, followed: inv.followed, failures }, null, 2)));
  else io.out(redact(formatInvestigation(subject, summary, failures, inv)));
  // Activity found matters most; a window with regions that could not be read is not "clean".
  if (summary.events) return 1;
  return failures.length ? 2 : 0;
}

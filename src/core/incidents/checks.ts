import type { AccountSnapshot, Incident, IncidentDraft, InstanceFacts, ResourceRef, SecurityGroupFacts, SgRule } from './types';
import { dataTransferChecks, DEFAULT_TRAFFIC, type TrafficCheckOptions, type TrafficFacts } from './dataTransfer';
import { hardeningChecks, hardeningCovers, type HardenedSnapshot } from './hardening';

export interface CheckOptions {
  /** Active keys created longer ago are flagged (AWS's own guidance: rotate every 90 days). */
  maxKeyAgeDays: number;
  /** Active keys not used for this long (or never, once this old) are flagged. */
  unusedKeyDays: number;
  /** Instances launched within this many days are listed for the owner to confirm. */
  recentLaunchDays: number;
  now: Date;
  /** Thresholds of the data-transfer checks (used when the snapshot holds traffic or the bill). */
  traffic?: TrafficCheckOptions;
}

export const DEFAULT_CHECKS: Omit<CheckOptions, 'now'> = { maxKeyAgeDays: 90, unusedKeyDays: 90, recentLaunchDays: 7 };

const WORLD = new Set(['0.0.0.0/0', '::/0']);
const DAY = 86_400_000;
const RUNNING = new Set(['pending', 'running']);
const QUARANTINE = /^AWSCompromisedKeyQuarantine/;

const daysSince = (iso: string | undefined, now: Date): number | undefined => (iso ? (now.getTime() - Date.parse(iso)) / DAY : undefined);

/** Which of SSH, RDP or every port an ingress rule opens to the whole internet, if any. */
export function worldOpenPorts(rule: SgRule): string | undefined {
  if (rule.egress || !rule.cidr || !WORLD.has(rule.cidr)) return undefined;
  if (rule.protocol === '-1' || rule.protocol === 'all') return 'all ports';
  if (rule.protocol !== 'tcp' && rule.protocol !== '6') return undefined;
  const from = rule.fromPort ?? 0;
  const to = rule.toPort ?? 65535;
  if (from <= 0 && to >= 65535) return 'all ports';
  const open = [22, 3389].filter((p) => from <= p && p <= to).map((p) => (p === 22 ? 'SSH (22)' : 'RDP (3389)'));
  return open.length ? open.join(', ') : undefined;
}

/** Egress rules that let traffic out to the whole internet. */
export const worldEgress = (rule: SgRule): boolean => rule.egress && !!rule.cidr && WORLD.has(rule.cidr);

const instanceRef = (i: InstanceFacts): ResourceRef => ({
  kind: 'instance',
  id: i.id,
  region: i.region,
  label: [i.name, i.type, i.state, i.publicIp].filter(Boolean).join(' · '),
});

function openIngress(snapshot: AccountSnapshot, sg: SecurityGroupFacts): IncidentDraft | undefined {
  const open = sg.rules.map((r) => ({ r, ports: worldOpenPorts(r) })).filter((x) => x.ports);
  if (!open.length) return undefined;
  const users = snapshot.instances.filter((i) => RUNNING.has(i.state) && i.groupIds.includes(sg.groupId));
  const all = open.some((x) => x.ports === 'all ports');
  const what = [...new Set(open.map((x) => x.ports as string))].join(', ');
  // Whether running instances use the group decides high or medium: when the instances of the
  // region could not be read, that is unknown, not "none".
  const instancesUnknown = snapshot.unread?.[`instances:${sg.region}`];
  const uncertain = !all && instancesUnknown ? { worst: 'high' as const, missing: [`running instances in ${sg.region}: ${instancesUnknown}`] } : undefined;
  return {
    ...(uncertain ? { uncertain } : {}),
    id: `open-ingress:${snapshot.account}:${sg.region}:${sg.groupId}`,
    type: 'open-ingress',
    severity: all || users.length ? 'high' : 'medium',
    title: `${sg.groupId} (${sg.groupName}) is open to the internet on ${what}`,
    summary: `Security group ${sg.groupName} in ${sg.region} accepts ${what} from anywhere (${[...new Set(open.map((x) => x.r.cidr))].join(', ')}). Bots try SSH and RDP logins on every public address within minutes.`,
    resources: [
      { kind: 'security-group', id: sg.groupId, region: sg.region, label: sg.groupName },
      ...users.map(instanceRef),
    ],
    facts: [
      ['Region', sg.region],
      ['Security group', `${sg.groupId} (${sg.groupName})${sg.vpcId ? ` in ${sg.vpcId}` : ''}`],
      ...open.map((x): [string, string] => ['Open rule', `${x.r.ruleId}: ${x.ports} from ${x.r.cidr}`]),
      ['Running instances using it', instancesUnknown ? `unknown: ${instancesUnknown}` : users.length ? users.map((i) => i.id).join(', ') : 'none'],
    ],
  };
}

function accessKeyChecks(snapshot: AccountSnapshot, o: CheckOptions): IncidentDraft[] {
  const out: IncidentDraft[] = [];
  const unread = snapshot.unread ?? {};
  for (const u of snapshot.users ?? []) {
    // A fact that could not be read is skipped by the check that needs it (the incident keeps
    // its state: auditCovers does not let the audit resolve it), never read as "fine".
    const quarantined = (u.policies ?? []).filter((p) => QUARANTINE.test(p));
    const keys = u.keys ?? [];
    const active = keys.filter((k) => k.status === 'Active');
    if (quarantined.length) {
      out.push({
        id: `exposed-key:${snapshot.account}:${u.name}`,
        type: 'exposed-key',
        severity: 'critical',
        title: `AWS quarantined ${u.name}: its access key was found exposed`,
        summary: `AWS attached ${quarantined.join(', ')} to ${u.name}. AWS does this when it finds one of the user's keys in public (a repository, a paste site). The policy blocks the riskiest calls, not everything: deactivate and rotate the key, then look for what was done with it.`,
        resources: [{ kind: 'user', id: u.name, label: u.arn }, ...keys.map((k): ResourceRef => ({ kind: 'access-key', id: k.id, user: u.name, label: k.status }))],
        facts: [
          ['User', u.arn],
          ['Policy attached by AWS', quarantined.join(', ')],
          ['Access keys', u.keys ? keys.map((k) => `${k.id} (${k.status})`).join(', ') || 'none' : `unknown: ${unread[`keys:${u.name}`] ?? 'not read'}`],
        ],
      });
    }
    for (const k of active) {
      const reasons: string[] = [];
      const age = daysSince(k.createdAt, o.now);
      const idle = daysSince(k.lastUsed, o.now);
      if (age !== undefined && age > o.maxKeyAgeDays) reasons.push(`created ${Math.floor(age)} days ago (over ${o.maxKeyAgeDays})`);
      if (k.lastUsedUnknown) {
        // when it was last used is unknown: neither "never" nor "recently"
      } else if (k.lastUsed === undefined && age !== undefined && age > o.unusedKeyDays) reasons.push(`never used in ${Math.floor(age)} days`);
      else if (idle !== undefined && idle > o.unusedKeyDays) reasons.push(`last used ${Math.floor(idle)} days ago`);
      if (active.length > 1) reasons.push(`${u.name} has ${active.length} active keys`);
      if (!reasons.length) continue;
      const old = age !== undefined && age > o.maxKeyAgeDays;
      out.push({
        id: `stale-key:${snapshot.account}:${k.id}`,
        type: 'stale-key',
        severity: old ? 'medium' : 'low',
        title: `Access key ${k.id} of ${u.name}: ${reasons[0]}`,
        summary: `A long-lived, unused or duplicate access key is a key nobody watches; if it leaked, it works until someone notices. ${reasons.join('; ')}.`,
        resources: [{ kind: 'access-key', id: k.id, user: u.name, label: reasons.join('; ') }, { kind: 'user', id: u.name, label: u.arn }],
        facts: [
          ['User', u.arn],
          ['Access key', `${k.id} (${k.status})`],
          ['Created', k.createdAt ?? 'unknown'],
          ['Last used', k.lastUsedUnknown ? `unknown: ${unread[`lastUsed:${k.id}`] ?? 'not read'}` : (k.lastUsed ?? 'never')],
          ['Why flagged', reasons.join('; ')],
        ],
      });
    }
    if (u.mfa === false) {
      // Whether the user can sign in to the console decides high or low.
      const loginUnknown = u.consolePassword === undefined ? (unread[`login:${u.name}`] ?? 'not read') : undefined;
      out.push({
        ...(loginUnknown ? { uncertain: { worst: 'high' as const, missing: [`console password of ${u.name}: ${loginUnknown}`] } } : {}),
        id: `no-mfa:${snapshot.account}:${u.name}`,
        type: 'no-mfa',
        severity: u.consolePassword ? 'high' : 'low',
        title: `${u.name} has no MFA device${u.consolePassword ? ' and can sign in to the console' : ''}`,
        summary: u.consolePassword
          ? `${u.name} signs in to the AWS console with a password alone. A guessed or phished password is enough to take the account over.`
          : `${u.name} has no MFA device. It has no console password today; if one is added, MFA should come with it.`,
        resources: [{ kind: 'user', id: u.name, label: u.arn }],
        facts: [
          ['User', u.arn],
          ['Console password', loginUnknown ? `unknown: ${loginUnknown}` : u.consolePassword ? 'yes' : 'no'],
          ['MFA devices', 'none'],
        ],
      });
    }
  }
  return out;
}

function regionChecks(snapshot: AccountSnapshot, o: CheckOptions): IncidentDraft[] {
  const out: IncidentDraft[] = [];
  const home = new Set(snapshot.homeRegions);
  const running = snapshot.instances.filter((i) => RUNNING.has(i.state));
  for (const region of snapshot.regions) {
    // Instances not read: nothing can be said about this region (auditCovers keeps its incidents).
    if (snapshot.unread?.[`instances:${region}`]) continue;
    const here = running.filter((i) => i.region === region);
    if (!home.has(region)) {
      const pairs = snapshot.keyPairs.filter((k) => k.region === region);
      if (!here.length) continue;
      out.push({
        id: `unknown-resources:${snapshot.account}:${region}`,
        type: 'unknown-resources',
        severity: 'high',
        title: `${here.length} instance(s) running in ${region}, a region this account does not use`,
        summary: `Instances in a region nobody watches are how miners and relays hide: attackers with a leaked key launch them far from your home region (${snapshot.homeRegions.join(', ')}). Confirm they are yours; if not, isolate, snapshot and terminate them.`,
        resources: [...here.map(instanceRef), ...pairs.map((k): ResourceRef => ({ kind: 'key-pair', id: k.name, region, label: k.createdAt ? `created ${k.createdAt}` : undefined }))],
        facts: [
          ['Region', region],
          ['Home regions', snapshot.homeRegions.join(', ')],
          ...here.map((i): [string, string] => ['Instance', `${i.id} ${i.type ?? ''} launched ${i.launchTime ?? '?'}${i.keyName ? `, key pair ${i.keyName}` : ''}${i.publicIp ? `, public IP ${i.publicIp}` : ''}`]),
        ],
      });
      continue;
    }
    const recent = here.filter((i) => {
      const d = daysSince(i.launchTime, o.now);
      return d !== undefined && d <= o.recentLaunchDays;
    });
    if (!recent.length) continue;
    out.push({
      id: `unknown-resources:${snapshot.account}:${region}:recent`,
      type: 'unknown-resources',
      severity: 'low',
      title: `${recent.length} instance(s) launched in ${region} in the last ${o.recentLaunchDays} days`,
      summary: 'Recently launched instances, listed so that someone who knows the account confirms each one. An instance nobody launched means someone else holds working credentials.',
      resources: recent.map(instanceRef),
      facts: [['Region', region], ...recent.map((i): [string, string] => ['Instance', `${i.id} ${i.type ?? ''} launched ${i.launchTime ?? '?'}`])],
    });
  }
  return out;
}

/** Judges a snapshot of the account: every problem the Account group of the tree shows. */
export function checkAccount(snapshot: AccountSnapshot & Partial<HardenedSnapshot> & TrafficFacts, o: CheckOptions): IncidentDraft[] {
  const out: IncidentDraft[] = [];
  if (snapshot.rootKeysPresent) {
    out.push({
      id: `root-key:${snapshot.account}`,
      type: 'root-key',
      severity: 'critical',
      title: 'The root user has an access key',
      summary: 'A root access key can do anything in the account, including closing it, and no policy can limit it. AWS recommends that root has no access keys at all.',
      resources: [{ kind: 'account', id: snapshot.account }],
      facts: [
        ['Account', snapshot.account],
        ['Root MFA', snapshot.rootMfa === undefined ? 'unknown' : snapshot.rootMfa ? 'enabled' : 'not enabled'],
      ],
    });
  }
  for (const sg of snapshot.securityGroups) {
    const d = openIngress(snapshot, sg);
    if (d) out.push(d);
  }
  out.push(...regionChecks(snapshot, o), ...accessKeyChecks(snapshot, o));
  // issue 14: unexpected data transfer (traffic, bill) and the hardening checks
  out.push(...dataTransferChecks(snapshot, o.traffic ?? DEFAULT_TRAFFIC), ...hardeningChecks(snapshot));
  return out;
}

/**
 * Whether an audit could see everything an existing audit incident depends on, so that not
 * finding it again means it is gone. An incident whose facts the audit could not read (a
 * denied or throttled call, a region not scanned) is never resolved by that audit.
 */
export function auditCovers(snapshot: AccountSnapshot & Partial<HardenedSnapshot>, i: Pick<Incident, 'id' | 'type' | 'resources'>): boolean {
  const unread = snapshot.unread ?? {};
  const scanned = (r: string | undefined): boolean => !!r && snapshot.regions.includes(r);
  const user = i.resources.find((r) => r.kind === 'user')?.id ?? i.id.split(':')[2];
  const iam = snapshot.users !== undefined && !unread.users;
  switch (i.type) {
    case 'open-ingress': {
      const region = i.resources.find((r) => r.kind === 'security-group')?.region ?? i.id.split(':')[2];
      return scanned(region) && !unread[`sg:${region}`];
    }
    case 'unknown-resources': {
      const region = i.id.split(':')[2];
      return scanned(region) && !unread[`instances:${region}`];
    }
    case 'stale-key': {
      const key = i.resources.find((r) => r.kind === 'access-key');
      const owner = key?.user ?? user;
      return iam && !unread[`keys:${owner}`] && !unread[`lastUsed:${key?.id ?? i.id.split(':')[2]}`];
    }
    case 'no-mfa':
      return iam && !unread[`mfa:${user}`];
    case 'exposed-key':
      return iam && !unread[`policies:${user}`] && !unread[`keys:${user}`];
    case 'root-key':
      return snapshot.rootKeysPresent !== undefined;
    // A data transfer that stopped (or left the window) is not handled: only a person resolves it.
    case 'data-transfer':
      return false;
    case 'guardduty-off':
    case 'no-trail':
    case 'no-billing-alert':
    case 'no-security-contact':
      return hardeningCovers(snapshot, i.type) ?? false;
    default:
      return false;
  }
}

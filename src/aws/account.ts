import {
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeRegionsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  type DescribeInstancesCommandOutput,
  type DescribeSecurityGroupRulesCommandOutput,
  type DescribeSecurityGroupsCommandOutput,
} from '@aws-sdk/client-ec2';
import {
  GetAccessKeyLastUsedCommand,
  GetAccountSummaryCommand,
  GetLoginProfileCommand,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListMFADevicesCommand,
  ListUsersCommand,
  type ListUsersCommandOutput,
  type User,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { AccessKeyFacts, SecurityGroupFacts, UserFacts } from '../core/incidents/types';
import { KeysentryError } from '../core/types';
import { ec2Client, iamClient, regionOf, stsClient, type AwsTarget } from './clients';
import { DEFAULT_TRAFFIC, type TrafficFacts } from '../core/incidents/dataTransfer';
import { detectTrafficSpikes } from '../core/investigate/traffic';
import type { HardeningFacts, HardenedSnapshot } from '../core/incidents/hardening';
import { listDetectors, readAccountHardening } from './hardening';
import { dailyUsage, instanceTraffic } from './traffic';

export { resolveTarget, setMfaCodeProvider } from './clients';
import { explainAwsError } from './errors';

const iso = (d: Date | undefined): string | undefined => (d ? new Date(d).toISOString() : undefined);

/** Runs `n` tasks at a time; results keep their order. */
async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

import { toInstance, toRule } from './ec2Facts';
export { toInstance, toRule };

export interface AuditOptions {
  /** Regions to scan; empty = every region DescribeRegions lists as enabled. */
  regions?: string[];
  /** Regions the account is meant to use; default: the profile's region. */
  homeRegions?: string[];
  onProgress?: (done: number, total: number, what: string) => void;
  concurrency?: number;
  /** Read each instance's NetworkOut/NetworkPacketsOut over this many days (CloudWatch GetMetricData). */
  trafficDays?: number;
  /** Which hours are worth reading at 5-minute resolution (default: the audit's defaults). */
  trafficThresholds?: { factor: number; minBytes: number };
  /** Read the bill's daily usage over this many days (Cost Explorer: USD 0.01 a call, so only when asked). */
  costDays?: number;
  /** Run the hardening checks (GuardDuty, CloudTrail, billing alarms and budgets, security contact). Default true. */
  hardening?: boolean;
}

/** What an audit read: the account snapshot, plus the traffic, bill and hardening facts when asked. */
export type AuditSnapshot = HardenedSnapshot & TrafficFacts;

/**
 * Reads what the account checks need, through the real SDK: EC2 in every region (security
 * group rules, instances, key pairs) and IAM (users, keys, MFA, console passwords, attached
 * policies, the root summary). A region or service that cannot be read is recorded in
 * `errors` and the rest still runs; only failing to identify the caller is fatal.
 */
export async function snapshotAccount(t: AwsTarget, opts: AuditOptions = {}): Promise<AuditSnapshot> {
  const errors: string[] = [];
  let me;
  try {
    me = await stsClient(t).send(new GetCallerIdentityCommand({}));
  } catch (e) {
    throw explainAwsError('GetCallerIdentity', e);
  }
  const who = me.Arn ?? 'the caller';
  let listed: string[] | undefined;
  try {
    listed = ((await ec2Client(t).send(new DescribeRegionsCommand({}))).Regions ?? []).map((r) => r.RegionName ?? '').filter(Boolean).sort();
  } catch (e) {
    // With an explicit list the audit can go on without knowing every enabled region.
    if (!opts.regions?.length) throw explainAwsError('DescribeRegions', e, who);
    errors.push(explainAwsError('DescribeRegions', e, who).message);
  }
  const unknown = listed && opts.regions?.length ? opts.regions.filter((r) => !listed.includes(r)) : [];
  if (unknown.length) throw new KeysentryError(`not an enabled region of this account: ${unknown.join(', ')} (enabled: ${listed?.join(', ')})`);
  const regions = opts.regions?.length ? opts.regions : (listed ?? []);
  const total = regions.length + 1;
  let done = 0;
  const progress = (what: string): void => opts.onProgress?.(++done, total, what);
  const snapshot: AuditSnapshot = {
    account: me.Account ?? 'unknown',
    caller: who,
    profile: t.profile,
    takenAt: new Date().toISOString(),
    regions,
    homeRegions: opts.homeRegions?.length ? opts.homeRegions : [await regionOf(t)],
    securityGroups: [],
    instances: [],
    keyPairs: [],
    errors,
    unread: {},
    ...(opts.hardening !== false ? { hardening: { guardDuty: {} } as HardeningFacts } : {}),
    ...(opts.trafficDays ? { traffic: { days: opts.trafficDays, series: [], calls: 0 } } : {}),
  };
  const unread = snapshot.unread as Record<string, string>;
  /** Records a fact that could not be read: the error names the call; `unread` says which fact is missing. */
  const missed = (fact: string, where: string, api: string, e: unknown): void => {
    // The traffic and bill adapters explain their own failures already.
    const message = e instanceof KeysentryError ? e.message : explainAwsError(api, e, who).message;
    errors.push(`${where}: ${message}`);
    unread[fact] = message.split(/\. /)[0] as string; // names the call and why: "AWS denied GetLoginProfile to …"
  };
  const readRegion = async (region: string): Promise<void> => {
    const ec2 = ec2Client(t, region);
    const step = async (fact: string, api: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (e) {
        missed(`${fact}:${region}`, region, api, e);
      }
    };
    // This region's GuardDuty detectors (hardening), read while EC2 is.
    const hardening = snapshot.hardening;
    const detectors = hardening
      ? step('guardduty', 'ListDetectors', async () => {
          hardening.guardDuty[region] = await listDetectors(t, region);
        })
      : undefined;
    await step('sg', 'DescribeSecurityGroups', async () => {
      const groups: SecurityGroupFacts[] = [];
      let token: string | undefined;
      do {
        const page: DescribeSecurityGroupsCommandOutput = await ec2.send(new DescribeSecurityGroupsCommand({ NextToken: token, MaxResults: 1000 }));
        for (const g of page.SecurityGroups ?? []) groups.push({ region, groupId: g.GroupId ?? '?', groupName: g.GroupName ?? '', vpcId: g.VpcId, rules: [] });
        token = page.NextToken;
      } while (token);
      token = undefined;
      do {
        const page: DescribeSecurityGroupRulesCommandOutput = await ec2.send(new DescribeSecurityGroupRulesCommand({ NextToken: token, MaxResults: 1000 }));
        for (const r of page.SecurityGroupRules ?? []) groups.find((g) => g.groupId === r.GroupId)?.rules.push(toRule(r));
        token = page.NextToken;
      } while (token);
      snapshot.securityGroups.push(...groups);
    });
    await step('instances', 'DescribeInstances', async () => {
      let token: string | undefined;
      do {
        const page: DescribeInstancesCommandOutput = await ec2.send(new DescribeInstancesCommand({ NextToken: token }));
        for (const res of page.Reservations ?? []) for (const i of res.Instances ?? []) snapshot.instances.push(toInstance(region, i));
        token = page.NextToken;
      } while (token);
    });
    await step('keyPairs', 'DescribeKeyPairs', async () => {
      const page = await ec2.send(new DescribeKeyPairsCommand({}));
      for (const k of page.KeyPairs ?? []) snapshot.keyPairs.push({ region, name: k.KeyName ?? '?', id: k.KeyPairId, fingerprint: k.KeyFingerprint, createdAt: iso(k.CreateTime) });
    });
    // Traffic of every instance not terminated (a stopped one may have sent last night), only when
    // its instances were read.
    const traffic = snapshot.traffic;
    const ids = snapshot.instances.filter((i) => i.region === region && i.state !== 'terminated').map((i) => i.id);
    if (traffic && !unread[`instances:${region}`] && ids.length)
      await step('traffic', 'GetMetricData', async () => {
        const th = opts.trafficThresholds ?? DEFAULT_TRAFFIC;
        const got = await instanceTraffic(t, region, ids, traffic.days, new Date(), (series) => detectTrafficSpikes(series, th));
        traffic.series.push(...got.series);
        traffic.calls += got.calls;
      });
    await detectors;
    progress(region);
  };
  const readIam = async (): Promise<void> => {
    const iam = iamClient(t);
    const users: User[] = [];
    try {
      let marker: string | undefined;
      do {
        const page: ListUsersCommandOutput = await iam.send(new ListUsersCommand({ Marker: marker }));
        users.push(...(page.Users ?? []));
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
    } catch (e) {
      missed('users', 'IAM users', 'ListUsers', e);
    }
    // Each call reads one fact of one user: a denied or throttled call leaves only that fact
    // unknown (and says which call), never the other users or the other checks.
    if (!unread.users)
      snapshot.users = await pool(users, opts.concurrency ?? 4, async (u): Promise<UserFacts> => {
        const name = u.UserName ?? '?';
        const where = `IAM user ${name}`;
        const read = async <T>(fact: string, api: string, fn: () => Promise<T>): Promise<T | undefined> => {
          try {
            return await fn();
          } catch (e) {
            missed(`${fact}:${name}`, where, api, e);
            return undefined;
          }
        };
        const keys = await read('keys', 'ListAccessKeys', async () => (await iam.send(new ListAccessKeysCommand({ UserName: name }))).AccessKeyMetadata ?? []);
        const keyFacts = keys
          ? await pool(keys, 2, async (k): Promise<AccessKeyFacts> => {
              const id = k.AccessKeyId ?? '?';
              const base = { id, status: k.Status ?? '?', createdAt: iso(k.CreateDate) };
              try {
                const last = (await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: k.AccessKeyId }))).AccessKeyLastUsed;
                return { ...base, lastUsed: iso(last?.LastUsedDate) };
              } catch (e) {
                missed(`lastUsed:${id}`, `${where}, key ${id}`, 'GetAccessKeyLastUsed', e);
                return { ...base, lastUsedUnknown: true };
              }
            })
          : undefined;
        const mfa = await read('mfa', 'ListMFADevices', async () => ((await iam.send(new ListMFADevicesCommand({ UserName: name }))).MFADevices ?? []).length > 0);
        const consolePassword = await read('login', 'GetLoginProfile', () =>
          iam.send(new GetLoginProfileCommand({ UserName: name })).then(
            () => true,
            (e: { name?: string }) => {
              if (e.name === 'NoSuchEntityException' || e.name === 'NoSuchEntity') return false;
              throw e;
            },
          ),
        );
        const policies = await read('policies', 'ListAttachedUserPolicies', async () => ((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: name }))).AttachedPolicies ?? []).map((p) => p.PolicyName ?? ''));
        return { name, arn: u.Arn ?? name, createdAt: iso(u.CreateDate), mfa, consolePassword, policies, keys: keyFacts };
      });
    try {
      const summary = (await iam.send(new GetAccountSummaryCommand({}))).SummaryMap ?? {};
      snapshot.rootKeysPresent = (summary.AccountAccessKeysPresent ?? 0) > 0;
      snapshot.rootMfa = (summary.AccountMFAEnabled ?? 0) > 0;
    } catch (e) {
      missed('root', 'IAM', 'GetAccountSummary', e);
    }
    progress('IAM');
  };
  const readBill = async (): Promise<void> => {
    if (!opts.costDays) return;
    try {
      const { rows, calls } = await dailyUsage(t, opts.costDays);
      snapshot.usage = { days: opts.costDays, rows, calls };
    } catch (e) {
      missed('costs', 'Cost Explorer', 'GetCostAndUsage', e);
    }
  };
  const readHardening = async (): Promise<void> => {
    if (snapshot.hardening) await readAccountHardening(t, snapshot.account, snapshot.hardening, missed);
  };
  await Promise.all([readIam(), pool(regions, opts.concurrency ?? 4, readRegion), readBill(), readHardening()]);
  snapshot.instances.sort((a, b) => a.region.localeCompare(b.region) || a.id.localeCompare(b.id));
  return snapshot;
}

// The containment calls (AwsContainment, explainCall) live in ./containment (issue 15); re-exported for existing callers.
export { AwsContainment, explainCall } from './containment';

// What the extension's Investigation section needs, reached through this module: the extension
// loads AWS code only through import('../aws/account'), its own bundle (esbuild.config.mjs).
export { enabledRegions, lookupEvents, signerCheck } from './cloudtrail';
export { AwsRemoval } from './removal';
export { AwsHardening } from './hardening';

import {
  CreateSecurityGroupCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DeleteKeyPairCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeRegionsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  ModifyInstanceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type DescribeInstancesCommandOutput,
  type DescribeSecurityGroupRulesCommandOutput,
  type DescribeSecurityGroupsCommandOutput,
  type EC2Client,
  type Instance,
  type SecurityGroupRule,
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
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
  type IAMClient,
  type User,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { ContainmentOps, InstanceState } from '../core/incidents/actions';
import type { AccessKeyFacts, InstanceFacts, SecurityGroupFacts, SgRule, UserFacts } from '../core/incidents/types';
import { KeysentryError } from '../core/types';
import { ec2Client, iamClient, stsClient, type AwsTarget } from './clients';
import { DEFAULT_TRAFFIC, type TrafficFacts } from '../core/incidents/dataTransfer';
import { detectTrafficSpikes } from '../core/investigate/traffic';
import type { HardeningFacts, HardenedSnapshot } from '../core/incidents/hardening';
import { listDetectors, readAccountHardening } from './hardening';
import { dailyUsage, instanceTraffic } from './traffic';

export { resolveTarget } from './clients';
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

function toRule(r: SecurityGroupRule): SgRule {
  return {
    ruleId: r.SecurityGroupRuleId ?? '?',
    egress: !!r.IsEgress,
    protocol: r.IpProtocol ?? '-1',
    fromPort: r.FromPort === -1 ? undefined : r.FromPort,
    toPort: r.ToPort === -1 ? undefined : r.ToPort,
    cidr: r.CidrIpv4 ?? r.CidrIpv6,
    peer: r.ReferencedGroupInfo?.GroupId ?? r.PrefixListId,
  };
}

function toInstance(region: string, i: Instance): InstanceFacts {
  const tags = Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  return {
    region,
    id: i.InstanceId ?? '?',
    state: i.State?.Name ?? 'unknown',
    launchTime: iso(i.LaunchTime),
    type: i.InstanceType,
    keyName: i.KeyName,
    publicIp: i.PublicIpAddress,
    vpcId: i.VpcId,
    groupIds: (i.SecurityGroups ?? []).map((g) => g.GroupId ?? '').filter(Boolean),
    volumeIds: (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.VolumeId ?? '').filter(Boolean),
    name: tags.Name,
    tags,
  };
}

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
    homeRegions: opts.homeRegions?.length ? opts.homeRegions : [t.region],
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

/** The containment calls, through the real SDK. Errors are thrown as the SDK raised them. */
export class AwsContainment implements ContainmentOps {
  private readonly ec2s = new Map<string, EC2Client>();
  private iamC: IAMClient | undefined;
  constructor(private readonly t: AwsTarget) {}

  private ec2(region: string): EC2Client {
    let c = this.ec2s.get(region);
    if (!c) this.ec2s.set(region, (c = ec2Client(this.t, region)));
    return c;
  }
  private get iam(): IAMClient {
    return (this.iamC ??= iamClient(this.t));
  }

  async caller(): Promise<{ arn: string; account: string; accessKeyId?: string }> {
    const sts = stsClient(this.t);
    const me = await sts.send(new GetCallerIdentityCommand({}));
    const creds = await sts.config.credentials();
    return { arn: me.Arn ?? '?', account: me.Account ?? '?', accessKeyId: creds.accessKeyId };
  }

  async instance(region: string, id: string): Promise<InstanceState | undefined> {
    const ec2 = this.ec2(region);
    let found: Instance | undefined;
    try {
      const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
      found = out.Reservations?.[0]?.Instances?.[0];
    } catch (e) {
      if ((e as { name?: string }).name === 'InvalidInstanceID.NotFound') return undefined;
      throw e;
    }
    if (!found) return undefined;
    const prot = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'disableApiTermination' }));
    const shut = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'instanceInitiatedShutdownBehavior' }));
    return { ...toInstance(region, found), terminationProtection: !!prot.DisableApiTermination?.Value, shutdownBehavior: shut.InstanceInitiatedShutdownBehavior?.Value };
  }

  async groupRules(region: string, groupId: string): Promise<SgRule[]> {
    const out = await this.ec2(region).send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }));
    return (out.SecurityGroupRules ?? []).map(toRule);
  }

  async findIsolationGroup(region: string, vpcId: string | undefined): Promise<string | undefined> {
    const filters = [{ Name: 'group-name', Values: ['keysentry-isolation'] }, ...(vpcId ? [{ Name: 'vpc-id', Values: [vpcId] }] : [])];
    const out = await this.ec2(region).send(new DescribeSecurityGroupsCommand({ Filters: filters }));
    return out.SecurityGroups?.[0]?.GroupId;
  }

  async snapshotsOf(region: string, volumeIds: string[]): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    if (!volumeIds.length) return out;
    const res = await this.ec2(region).send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: volumeIds }] }));
    for (const s of res.Snapshots ?? []) if (s.VolumeId && s.State !== 'error') (out[s.VolumeId] ??= []).push(s.SnapshotId ?? '?');
    return out;
  }

  async keyPairExists(region: string, name: string): Promise<boolean> {
    try {
      return ((await this.ec2(region).send(new DescribeKeyPairsCommand({ KeyNames: [name] }))).KeyPairs ?? []).length > 0;
    } catch (e) {
      if ((e as { name?: string }).name === 'InvalidKeyPair.NotFound') return false;
      throw e;
    }
  }

  async accessKey(keyId: string, user?: string): Promise<{ user: string; status: string } | undefined> {
    let owner = user;
    if (!owner) {
      try {
        owner = (await this.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: keyId }))).UserName;
      } catch (e) {
        if ((e as { name?: string }).name === 'NoSuchEntityException' || (e as { name?: string }).name === 'NoSuchEntity') return undefined;
        throw e;
      }
    }
    if (!owner) return undefined;
    const keys = (await this.iam.send(new ListAccessKeysCommand({ UserName: owner }))).AccessKeyMetadata ?? [];
    const k = keys.find((x) => x.AccessKeyId === keyId);
    return k ? { user: owner, status: k.Status ?? '?' } : undefined;
  }

  async setTerminationProtection(region: string, id: string, on: boolean): Promise<void> {
    await this.ec2(region).send(new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: on } }));
  }
  async setShutdownBehaviorStop(region: string, id: string): Promise<void> {
    await this.ec2(region).send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceInitiatedShutdownBehavior: { Value: 'stop' } }));
  }
  async createIsolationGroup(region: string, vpcId: string | undefined, incidentId: string): Promise<string> {
    const ec2 = this.ec2(region);
    const out = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: 'keysentry-isolation',
        Description: 'Keysentry isolation: no inbound, no outbound',
        VpcId: vpcId,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'keysentry:isolation', Value: 'true' }, { Key: 'keysentry:incident', Value: incidentId.slice(0, 250) }] }],
      }),
    );
    const id = out.GroupId as string;
    const egress = (await this.groupRules(region, id)).filter((r) => r.egress).map((r) => r.ruleId);
    if (egress.length) await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: id, SecurityGroupRuleIds: egress }));
    return id;
  }
  async revokeIngress(region: string, groupId: string, ruleIds: string[]): Promise<void> {
    await this.ec2(region).send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: ruleIds }));
  }
  async revokeEgress(region: string, groupId: string, ruleIds: string[]): Promise<void> {
    await this.ec2(region).send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, SecurityGroupRuleIds: ruleIds }));
  }
  async setInstanceGroups(region: string, id: string, groupIds: string[]): Promise<void> {
    await this.ec2(region).send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: groupIds }));
  }
  async createSnapshots(region: string, id: string, tags: Record<string, string>): Promise<string[]> {
    const out = await this.ec2(region).send(
      new CreateSnapshotsCommand({
        InstanceSpecification: { InstanceId: id },
        Description: `Keysentry forensic snapshot of ${id}`,
        CopyTagsFromSource: 'volume',
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
      }),
    );
    return (out.Snapshots ?? []).map((s) => s.SnapshotId ?? '?');
  }
  async tag(region: string, ids: string[], tags: Record<string, string>): Promise<void> {
    await this.ec2(region).send(new CreateTagsCommand({ Resources: ids, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
  }
  async stopInstance(region: string, id: string): Promise<string> {
    const out = await this.ec2(region).send(new StopInstancesCommand({ InstanceIds: [id] }));
    return `now ${out.StoppingInstances?.[0]?.CurrentState?.Name ?? 'stopping'}`;
  }
  async terminateInstance(region: string, id: string): Promise<string> {
    const out = await this.ec2(region).send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    return `now ${out.TerminatingInstances?.[0]?.CurrentState?.Name ?? 'shutting-down'}`;
  }
  async deleteKeyPair(region: string, name: string): Promise<void> {
    await this.ec2(region).send(new DeleteKeyPairCommand({ KeyName: name }));
  }
  async deactivateKey(user: string, keyId: string): Promise<void> {
    await this.iam.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: keyId, Status: 'Inactive' }));
  }
  async denyOlderSessions(user: string, before: string): Promise<string> {
    const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': before } } }] };
    await this.iam.send(new PutUserPolicyCommand({ UserName: user, PolicyName: 'KeysentryRevokeOlderSessions', PolicyDocument: JSON.stringify(doc) }));
    return 'policy KeysentryRevokeOlderSessions attached';
  }
}

/** The message for a failed call, whatever threw it. */
export function explainCall(api: string, e: unknown, who?: string): string {
  if (e instanceof KeysentryError) return e.message;
  return explainAwsError(api.replace(/^\w+:/, ''), e, who).message;
}

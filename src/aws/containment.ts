import {
  AttachInstancesCommand,
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateKeyPairCommand,
  CreateNetworkAclCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceNetworkAclAssociationCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type DescribeNetworkInterfacesCommandOutput,
  type EC2Client,
  type Instance,
  type Tag,
} from '@aws-sdk/client-ec2';
import { GetAccessKeyLastUsedCommand, ListAccessKeysCommand, PutUserPolicyCommand, UpdateAccessKeyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { ContainmentOps, InstanceState } from '../core/incidents/actions';
import type { AsgMembership, NetworkInterfaceState, SubnetAcl } from '../core/contain/isolation';
import { QUARANTINE_ACL, TAG, TRANSIT_GROUP } from '../core/contain/isolation';
import type { SgRule } from '../core/incidents/types';
import { KeysentryError } from '../core/types';
import { toInstance, toRule } from './ec2Facts';
import { clientConfig, ec2Client, iamClient, stsClient, type AwsTarget } from './clients';
import { explainAwsError } from './errors';

const tagMap = (tags: Tag[] | undefined): Record<string, string> => Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
const tagList = (tags: Record<string, string>): Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** Auto Scaling, built from the shared client configuration (src/aws/clients.ts). */
function autoScalingClient(t: AwsTarget, region: string): AutoScalingClient {
  return new AutoScalingClient(clientConfig(t, { region }));
}

/** The containment calls, through the real SDK. Errors are thrown as the SDK raised them. */
export class AwsContainment implements ContainmentOps {
  private readonly ec2s = new Map<string, EC2Client>();
  private readonly asgs = new Map<string, AutoScalingClient>();
  private iamC: IAMClient | undefined;
  constructor(private readonly t: AwsTarget) {}

  private asg(region: string): AutoScalingClient {
    let c = this.asgs.get(region);
    if (!c) this.asgs.set(region, (c = autoScalingClient(this.t, region)));
    return c;
  }

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
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: tagList(tags) }],
      }),
    );
    return (out.Snapshots ?? []).map((s) => s.SnapshotId ?? '?');
  }
  async tag(region: string, ids: string[], tags: Record<string, string>): Promise<void> {
    await this.ec2(region).send(new CreateTagsCommand({ Resources: ids, Tags: tagList(tags) }));
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

  // ---- isolation per network interface, release, Auto Scaling, network ACL (issue 15)

  async interfaces(region: string, instanceId: string): Promise<NetworkInterfaceState[]> {
    const out: NetworkInterfaceState[] = [];
    let token: string | undefined;
    do {
      const page: DescribeNetworkInterfacesCommandOutput = await this.ec2(region).send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }], NextToken: token }));
      for (const n of page.NetworkInterfaces ?? [])
        out.push({ id: n.NetworkInterfaceId ?? '?', deviceIndex: n.Attachment?.DeviceIndex ?? 0, groupIds: (n.Groups ?? []).map((g) => g.GroupId ?? '').filter(Boolean), subnetId: n.SubnetId, vpcId: n.VpcId, tags: tagMap(n.TagSet) });
      token = page.NextToken;
    } while (token);
    return out;
  }
  async autoScaling(region: string, instanceId: string): Promise<AsgMembership | undefined> {
    const out = await this.asg(region).send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
    const i = out.AutoScalingInstances?.[0];
    return i?.AutoScalingGroupName ? { group: i.AutoScalingGroupName, lifecycle: i.LifecycleState ?? '?' } : undefined;
  }
  private async groupNamed(region: string, name: string, vpcId: string | undefined): Promise<string | undefined> {
    const filters = [{ Name: 'group-name', Values: [name] }, ...(vpcId ? [{ Name: 'vpc-id', Values: [vpcId] }] : [])];
    return (await this.ec2(region).send(new DescribeSecurityGroupsCommand({ Filters: filters }))).SecurityGroups?.[0]?.GroupId;
  }
  findTransitGroup(region: string, vpcId: string | undefined): Promise<string | undefined> {
    return this.groupNamed(region, TRANSIT_GROUP, vpcId);
  }
  async createTransitGroup(region: string, vpcId: string | undefined, incidentId: string): Promise<string> {
    const ec2 = this.ec2(region);
    const out = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: TRANSIT_GROUP,
        Description: 'Keysentry isolation, temporary: all traffic, so open connections become untracked',
        VpcId: vpcId,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'keysentry:isolation', Value: 'transit' }, { Key: TAG.incident, Value: incidentId.slice(0, 250) }] }],
      }),
    );
    const id = out.GroupId as string;
    const all = [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] }];
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: all }));
    // A new group already allows all IPv4 outbound; add IPv6 (a duplicate rule would be refused).
    const egress = (await this.groupRules(region, id)).filter((r) => r.egress);
    if (!egress.some((r) => r.cidr === '::/0')) await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }));
    if (!egress.some((r) => r.cidr === '0.0.0.0/0')) await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    return id;
  }
  async setInterfaceGroups(region: string, interfaceId: string, groupIds: string[]): Promise<void> {
    await this.ec2(region).send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: interfaceId, Groups: groupIds }));
  }
  async deleteGroupIfUnused(region: string, groupId: string): Promise<string> {
    if (!groupId) return 'no group to delete';
    try {
      await this.ec2(region).send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
      return `deleted ${groupId}`;
    } catch (e) {
      const name = (e as { name?: string }).name ?? '';
      if (name === 'DependencyViolation' || name === 'InvalidGroup.InUse') return `kept ${groupId}: another interface still uses it`;
      if (name === 'InvalidGroup.NotFound') return `${groupId} is already gone`;
      throw e;
    }
  }
  async existingGroups(region: string, groupIds: string[]): Promise<Record<string, string>> {
    // The group-id filter (not GroupIds) answers with what exists instead of failing on the first missing one.
    const out = await this.ec2(region).send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-id', Values: groupIds }] }));
    return Object.fromEntries((out.SecurityGroups ?? []).filter((g) => g.GroupId && groupIds.includes(g.GroupId)).map((g) => [g.GroupId as string, g.GroupName ?? '']));
  }
  async untag(region: string, ids: string[], keys: string[]): Promise<void> {
    await this.ec2(region).send(new DeleteTagsCommand({ Resources: ids, Tags: keys.map((Key) => ({ Key })) }));
  }
  async enterStandby(region: string, group: string, instanceId: string): Promise<string> {
    const out = await this.asg(region).send(new EnterStandbyCommand({ AutoScalingGroupName: group, InstanceIds: [instanceId], ShouldDecrementDesiredCapacity: false }));
    return out.Activities?.[0]?.StatusCode ?? 'standby';
  }
  async exitStandby(region: string, group: string, instanceId: string): Promise<string> {
    const out = await this.asg(region).send(new ExitStandbyCommand({ AutoScalingGroupName: group, InstanceIds: [instanceId] }));
    return out.Activities?.[0]?.StatusCode ?? 'in service';
  }
  async detachFromGroup(region: string, group: string, instanceId: string): Promise<string> {
    const out = await this.asg(region).send(new DetachInstancesCommand({ AutoScalingGroupName: group, InstanceIds: [instanceId], ShouldDecrementDesiredCapacity: false }));
    return out.Activities?.[0]?.StatusCode ?? 'detached';
  }
  async attachToGroup(region: string, group: string, instanceId: string): Promise<string> {
    await this.asg(region).send(new AttachInstancesCommand({ AutoScalingGroupName: group, InstanceIds: [instanceId] }));
    return 'attached';
  }
  async subnetAcl(region: string, subnetId: string): Promise<SubnetAcl | undefined> {
    const ec2 = this.ec2(region);
    const acl = (await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }))).NetworkAcls?.[0];
    const assoc = acl?.Associations?.find((a) => a.SubnetId === subnetId);
    if (!acl?.NetworkAclId || !assoc?.NetworkAclAssociationId) return undefined;
    const subnet = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }))).Subnets?.[0];
    const aclTags = tagMap(acl.Tags);
    return { subnetId, vpcId: acl.VpcId, associationId: assoc.NetworkAclAssociationId, aclId: acl.NetworkAclId, aclName: aclTags.Name, tags: tagMap(subnet?.Tags) };
  }
  async subnetInterfaces(region: string, subnetId: string): Promise<Array<{ id: string; instanceId?: string; description?: string }>> {
    const out: Array<{ id: string; instanceId?: string; description?: string }> = [];
    let token: string | undefined;
    do {
      const page: DescribeNetworkInterfacesCommandOutput = await this.ec2(region).send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }], NextToken: token }));
      for (const n of page.NetworkInterfaces ?? []) out.push({ id: n.NetworkInterfaceId ?? '?', instanceId: n.Attachment?.InstanceId, description: n.Description });
      token = page.NextToken;
    } while (token);
    return out;
  }
  async findQuarantineAcl(region: string, vpcId: string): Promise<string | undefined> {
    const out = await this.ec2(region).send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'tag:Name', Values: [QUARANTINE_ACL] }] }));
    return out.NetworkAcls?.[0]?.NetworkAclId;
  }
  async createQuarantineAcl(region: string, vpcId: string, incidentId: string): Promise<string> {
    const out = await this.ec2(region).send(
      new CreateNetworkAclCommand({ VpcId: vpcId, TagSpecifications: [{ ResourceType: 'network-acl', Tags: [{ Key: 'Name', Value: QUARANTINE_ACL }, { Key: TAG.incident, Value: incidentId.slice(0, 250) }] }] }),
    );
    return out.NetworkAcl?.NetworkAclId as string;
  }
  async replaceAclAssociation(region: string, associationId: string, aclId: string): Promise<string> {
    const out = await this.ec2(region).send(new ReplaceNetworkAclAssociationCommand({ AssociationId: associationId, NetworkAclId: aclId }));
    return out.NewAssociationId ?? '';
  }
  async aclExists(region: string, aclId: string): Promise<boolean> {
    try {
      const out = await this.ec2(region).send(new DescribeNetworkAclsCommand({ NetworkAclIds: [aclId] }));
      return (out.NetworkAcls ?? []).some((a) => a.NetworkAclId === aclId);
    } catch (e) {
      if (/NotFound/.test((e as { name?: string }).name ?? '')) return false;
      throw e;
    }
  }
  async keysentrySnapshots(region: string, instanceId: string): Promise<string[]> {
    const out = await this.ec2(region).send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: `tag:${TAG.snapshotOf}`, Values: [instanceId] }] }));
    return (out.Snapshots ?? []).filter((s) => s.State !== 'error').map((s) => s.SnapshotId ?? '?');
  }
  async createKeyPair(region: string, name: string, type: 'rsa' | 'ed25519', incidentId: string): Promise<{ material: string; fingerprint?: string; id?: string }> {
    const out = await this.ec2(region).send(
      new CreateKeyPairCommand({ KeyName: name, KeyType: type, KeyFormat: 'pem', TagSpecifications: [{ ResourceType: 'key-pair', Tags: [{ Key: TAG.incident, Value: incidentId.slice(0, 250) }] }] }),
    );
    if (!out.KeyMaterial) throw new KeysentryError(`CreateKeyPair returned no private key for ${name}`);
    return { material: out.KeyMaterial, fingerprint: out.KeyFingerprint, id: out.KeyPairId };
  }
}

/** The message for a failed call, whatever threw it. */
export function explainCall(api: string, e: unknown, who?: string): string {
  if (e instanceof KeysentryError) return e.message;
  return explainAwsError(api.replace(/^\w+:/, ''), e, who).message;
}

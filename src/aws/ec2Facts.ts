import type { Instance, SecurityGroupRule } from '@aws-sdk/client-ec2';
import type { InstanceFacts, SgRule } from '../core/incidents/types';

// EC2's answers as the audit's facts. Kept apart from account.ts so containment (which account.ts
// re-exports) can use them without an import cycle.

const iso = (d: Date | undefined): string | undefined => (d ? new Date(d).toISOString() : undefined);

export function toRule(r: SecurityGroupRule): SgRule {
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

export function toInstance(region: string, i: Instance): InstanceFacts {
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


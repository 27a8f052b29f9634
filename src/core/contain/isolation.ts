import { KeysentryError } from '../types';
import type { ActionPlan, ActionTarget, ContainmentOps, InstanceState, PlannedCall } from '../incidents/actions';
import type { Incident } from '../incidents/types';

// Isolating an instance so that an attack running right now stops, recording what it changed so
// that it can be undone (release), and recognising an instance that is already isolated.
//
// Security groups are stateful: replacing an instance's groups with one that has no rules leaves
// every connection already tracked open until it ends. AWS's AWSSupport-ContainEC2Instance
// runbook cuts them by moving each network interface first to a group that allows all traffic
// from and to anywhere (flows allowed that way are not tracked), then to the group with no rules
// (an untracked flow has no state to keep it alive, so it is dropped at once). This module plans
// the same, per network interface (an instance's "security groups" are only its primary
// interface's), and records the original groups in tags on each interface before changing
// anything, and in the incident's timeline (each call's text names them).

export const TAG = {
  incident: 'keysentry:incident',
  isolatedAt: 'keysentry:isolated-at',
  isolatedBy: 'keysentry:isolated-by',
  /** On an interface: its groups before isolation. On an instance: its primary interface's (kept for older records). */
  previousGroups: 'keysentry:previous-groups',
  asgGroup: 'keysentry:asg-group',
  /** 'standby' or 'detached': what release has to undo. */
  asgState: 'keysentry:asg-state',
  /** On a subnet: the network ACL it had before the quarantine ACL replaced it. */
  previousAcl: 'keysentry:previous-acl',
  snapshotOf: 'keysentry:instance',
} as const;

export const ISOLATION_GROUP = 'keysentry-isolation';
export const TRANSIT_GROUP = 'keysentry-isolation-transit';
export const QUARANTINE_ACL = 'keysentry-quarantine';

const TAG_VALUE_MAX = 256;
/** A recorded group list: security group ids separated by spaces, nothing else (tags are attacker-writable). */
const GROUP_LIST = /^sg-[0-9a-f]{1,40}( sg-[0-9a-f]{1,40}){0,31}$/;

export interface NetworkInterfaceState {
  id: string;
  deviceIndex: number;
  groupIds: string[];
  subnetId?: string;
  vpcId?: string;
  tags: Record<string, string>;
}

export interface AsgMembership {
  group: string;
  /** InService, Standby, Pending, Terminating… */
  lifecycle: string;
}

export interface SubnetAcl {
  subnetId: string;
  vpcId?: string;
  associationId: string;
  aclId: string;
  aclName?: string;
  tags: Record<string, string>;
}

/** The calls isolation and release need beyond ContainmentOps; src/aws/containment.ts implements them. */
export interface IsolationOps {
  interfaces(region: string, instanceId: string): Promise<NetworkInterfaceState[]>;
  /** undefined: the instance is in no Auto Scaling group. */
  autoScaling(region: string, instanceId: string): Promise<AsgMembership | undefined>;
  findTransitGroup(region: string, vpcId: string | undefined): Promise<string | undefined>;
  /** A group that allows all traffic from and to anywhere (IPv4 and IPv6), tagged with the incident. */
  createTransitGroup(region: string, vpcId: string | undefined, incidentId: string): Promise<string>;
  setInterfaceGroups(region: string, interfaceId: string, groupIds: string[]): Promise<void>;
  /** Deletes a group unless an interface still uses it; says which happened. */
  deleteGroupIfUnused(region: string, groupId: string): Promise<string>;
  /** Which of these groups exist (id → name). */
  existingGroups(region: string, groupIds: string[]): Promise<Record<string, string>>;
  untag(region: string, ids: string[], keys: string[]): Promise<void>;
  enterStandby(region: string, group: string, instanceId: string): Promise<string>;
  exitStandby(region: string, group: string, instanceId: string): Promise<string>;
  detachFromGroup(region: string, group: string, instanceId: string): Promise<string>;
  attachToGroup(region: string, group: string, instanceId: string): Promise<string>;
  subnetAcl(region: string, subnetId: string): Promise<SubnetAcl | undefined>;
  /** Every network interface in the subnet, with the instance it belongs to (the NACL's blast radius). */
  subnetInterfaces(region: string, subnetId: string): Promise<Array<{ id: string; instanceId?: string; description?: string }>>;
  findQuarantineAcl(region: string, vpcId: string): Promise<string | undefined>;
  /** A network ACL with no allow rules (so only its default deny-all entries). */
  createQuarantineAcl(region: string, vpcId: string, incidentId: string): Promise<string>;
  replaceAclAssociation(region: string, associationId: string, aclId: string): Promise<string>;
  aclExists(region: string, aclId: string): Promise<boolean>;
  /** Snapshots Keysentry took of this instance (tagged keysentry:instance). */
  keysentrySnapshots(region: string, instanceId: string): Promise<string[]>;
}

export type AsgChoice = 'standby' | 'detach';
export interface IsolateOptions {
  /** What to do when the instance is in an Auto Scaling group (default standby). */
  asg?: AsgChoice;
  /** Also replace the subnet's network ACL with one that denies everything. */
  nacl?: boolean;
}

/** A recorded group list, split over as many tags as it needs (a tag value holds 256 characters). */
export function groupTags(groupIds: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  let part = '';
  let n = 1;
  for (const g of groupIds) {
    if (part && part.length + 1 + g.length > TAG_VALUE_MAX) {
      out[n === 1 ? TAG.previousGroups : `${TAG.previousGroups}-${n}`] = part;
      n++;
      part = '';
    }
    part = part ? `${part} ${g}` : g;
  }
  out[n === 1 ? TAG.previousGroups : `${TAG.previousGroups}-${n}`] = part || '-';
  return out;
}

/** The tag keys a recorded list uses on this resource. */
const recordKeys = (tags: Record<string, string>): string[] => Object.keys(tags).filter((k) => k === TAG.previousGroups || /^keysentry:previous-groups-\d{1,2}$/.test(k));

/**
 * The group list recorded in these tags: undefined when none is recorded; throws when the record
 * is not a plain list of group ids (tags can be written by anyone with ec2:CreateTags).
 */
export function recordedGroups(tags: Record<string, string>, where: string): string[] | undefined {
  const first = tags[TAG.previousGroups];
  if (first === undefined) return undefined;
  if (first === '-') return [];
  const parts = [first];
  for (let n = 2; tags[`${TAG.previousGroups}-${n}`] !== undefined && n < 40; n++) parts.push(tags[`${TAG.previousGroups}-${n}`] as string);
  const value = parts.join(' ');
  if (!GROUP_LIST.test(value)) throw new KeysentryError(`the ${TAG.previousGroups} tag on ${where} is not a list of security group ids: it was changed by hand or by someone else. Check it, fix or remove it, then plan again`);
  return value.split(' ');
}

const same = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().join(' ') === [...b].sort().join(' ');
const list = (ids: string[]): string => ids.join(', ') || 'none';
const short = (s: string, n = 120): string => (s.length > n ? `${s.slice(0, n)}…` : s);

/** The original groups the incident's timeline recorded for each interface (the journal beside the tags). */
export function journalledGroups(incidents: Incident[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const inc of incidents)
    for (const e of inc.timeline)
      for (const c of e.calls ?? []) {
        if (!c.ok) continue;
        const m = /record (eni-[0-9a-f]+) original groups: ((?:sg-[0-9a-f]+(?:, )?)+|none)/.exec(c.result ?? '');
        if (m && !out.has(m[1] as string)) out.set(m[1] as string, m[2] === 'none' ? [] : (m[2] as string).split(', '));
      }
  return out;
}

interface IsoContext {
  plan: ActionPlan;
  instance: InstanceState;
  enis: NetworkInterfaceState[];
  asg: AsgMembership | undefined;
}

async function readInstance(target: ActionTarget, ops: ContainmentOps & IsolationOps): Promise<IsoContext & { region: string }> {
  const r = target.resource;
  if (!r.region) throw new KeysentryError(`the region of ${r.id} is unknown: add it to the incident (a notice that names no region) or pass --region`);
  const i = await ops.instance(r.region, r.id);
  if (!i) throw new KeysentryError(`instance ${r.id} was not found in ${r.region}`);
  if (i.state === 'terminated' || i.state === 'shutting-down') throw new KeysentryError(`instance ${r.id} is already ${i.state}`);
  const enis = (await ops.interfaces(i.region, i.id)).sort((a, b) => a.deviceIndex - b.deviceIndex);
  const asg = await ops.autoScaling(i.region, i.id);
  return { region: i.region, instance: i, enis, asg, plan: { target, title: '', checked: [], calls: [], warnings: [] } };
}

/**
 * Plans isolation: Auto Scaling standby (or detach), termination protection, shutdown behaviour,
 * the original groups of every interface recorded in tags before anything changes, each interface
 * moved to the all-traffic group and then to the group with no rules, snapshots, and optionally
 * the subnet's network ACL. An instance already isolated (by this or another incident) keeps its
 * record; the plan offers only what is missing and says so. Makes no change.
 */
export async function planIsolate(target: ActionTarget & { options?: IsolateOptions }, incident: Incident, ops: ContainmentOps & IsolationOps, others: Incident[] = []): Promise<ActionPlan> {
  const { region: reg, instance: i, enis, asg, plan } = await readInstance(target, ops);
  const { checked, calls, warnings } = plan;
  const opts = target.options ?? {};
  const journal = journalledGroups([incident, ...others]);
  checked.push(`ec2:DescribeInstances: ${i.id} is ${i.state}, termination protection ${i.terminationProtection ? 'on' : 'off'}, volumes ${list(i.volumeIds)}`);
  checked.push(`ec2:DescribeNetworkInterfaces: ${enis.length} interface(s): ${enis.map((e) => `${e.id} (device ${e.deviceIndex}): ${list(e.groupIds)}`).join('; ') || 'none'}`);
  if (!enis.length) throw new KeysentryError(`instance ${i.id} has no network interface to isolate`);
  const vpc = i.vpcId ?? enis[0]?.vpcId;
  const iso = await ops.findIsolationGroup(reg, vpc);
  const transit = await ops.findTransitGroup(reg, vpc);
  checked.push(`ec2:DescribeSecurityGroups: isolation group ${iso ?? `(none yet in ${vpc ?? 'the default VPC'})`}, temporary all-traffic group ${transit ?? '(none yet)'}`);
  const keysentryGroups = new Set([iso, transit].filter(Boolean) as string[]);

  // What is already done, from the tags (the record is never replaced).
  const isolatedBy = i.tags[TAG.isolatedBy] ?? (i.tags[TAG.isolatedAt] ? i.tags[TAG.incident] : undefined);
  const legacy = recordedGroups(i.tags, i.id); // an isolation by an older Keysentry recorded the primary groups on the instance
  type EniPlan = { eni: NetworkInterfaceState; record?: string[]; recordNew: boolean; toTransit: boolean; toIso: boolean; note: string };
  const eniPlans: EniPlan[] = enis.map((eni) => {
    let record = recordedGroups(eni.tags, eni.id);
    let recordNew = false;
    if (!record && eni.deviceIndex === 0 && legacy) {
      record = legacy;
      recordNew = true;
    }
    const originals = eni.groupIds.filter((g) => !keysentryGroups.has(g));
    if (!record) {
      if (originals.length === eni.groupIds.length) {
        record = eni.groupIds;
        recordNew = true;
      } else if (journal.has(eni.id)) {
        record = journal.get(eni.id);
        recordNew = true;
        warnings.push(`${eni.id} has no ${TAG.previousGroups} tag (it was removed) but is in a Keysentry group: the original groups are taken from the incident timeline (${list(record ?? [])}).`);
      } else {
        warnings.push(`${eni.id} is already in a Keysentry group and its original groups are recorded nowhere: release will not be able to restore it.`);
      }
    }
    const isolated = !!iso && same(eni.groupIds, [iso]);
    const inTransit = !!transit && eni.groupIds.includes(transit);
    const note = isolated ? 'already isolated' : inTransit ? 'in the temporary all-traffic group: an isolation was interrupted here' : recordNew ? 'not isolated' : 'recorded but not isolated';
    // From the all-traffic group the flows are untracked already: one hop left.
    return { eni, record, recordNew, toTransit: !isolated && !inTransit, toIso: !isolated, note };
  });
  const already = eniPlans.filter((p) => !p.toIso);
  if (isolatedBy || already.length)
    checked.push(
      `tags: ${isolatedBy ? `isolated by incident "${short(isolatedBy)}"${i.tags[TAG.isolatedAt] ? ` at ${short(i.tags[TAG.isolatedAt] as string, 40)}` : ''}` : 'no isolation record on the instance'}; ${eniPlans.map((p) => `${p.eni.id}: ${p.note}${p.record && !p.recordNew ? `, original groups recorded: ${list(p.record)}` : ''}`).join('; ')}`,
    );

  // Auto Scaling: out of service first, so the group neither replaces nor terminates it.
  const asgChoice = opts.asg ?? 'standby';
  const asgRecorded = i.tags[TAG.asgState];
  if (asg) {
    checked.push(`autoscaling:DescribeAutoScalingInstances: in group "${short(asg.group)}", ${asg.lifecycle}`);
    if (asg.lifecycle === 'InService') {
      const tags = { [TAG.asgGroup]: asg.group.slice(0, TAG_VALUE_MAX), [TAG.asgState]: asgChoice === 'standby' ? 'standby' : 'detached' };
      calls.push({ api: 'ec2:CreateTags', target: i.id, region: reg, what: `record the Auto Scaling state to restore on release: ${TAG.asgState}=${tags[TAG.asgState]}, group ${short(asg.group)}`, run: () => ops.tag(reg, [i.id], tags) });
      if (asgChoice === 'standby')
        calls.push({ api: 'autoscaling:EnterStandby', target: i.id, region: reg, what: `put it in Standby in "${short(asg.group)}": health checks stop, so the group neither replaces nor terminates it while it is isolated`, run: () => ops.enterStandby(reg, asg.group, i.id) });
      else calls.push({ api: 'autoscaling:DetachInstances', target: i.id, region: reg, what: `detach it from "${short(asg.group)}": the group forgets it (and launches a replacement)`, run: () => ops.detachFromGroup(reg, asg.group, i.id) });
      warnings.push(`The Auto Scaling group "${short(asg.group)}" launches a replacement to keep its capacity, from the same launch template: if the compromise came with the image or its user data, the replacement is compromised too.`);
    } else if (asg.lifecycle !== 'Standby') warnings.push(`The instance is ${asg.lifecycle} in its Auto Scaling group: it cannot be put in Standby now.`);
  } else {
    checked.push(`autoscaling:DescribeAutoScalingInstances: ${asgRecorded ? `not in a group any more (${asgRecorded} from "${short(i.tags[TAG.asgGroup] ?? '?')}")` : 'in no Auto Scaling group'}`);
  }

  if (!i.terminationProtection) calls.push({ api: 'ec2:ModifyInstanceAttribute', target: i.id, region: reg, what: 'turn termination protection on (DisableApiTermination)', run: () => ops.setTerminationProtection(reg, i.id, true) });
  if (i.shutdownBehavior !== 'stop') calls.push({ api: 'ec2:ModifyInstanceAttribute', target: i.id, region: reg, what: 'make a shutdown from inside the instance stop it, not terminate it', run: () => ops.setShutdownBehaviorStop(reg, i.id) });

  // The record first: tags on each interface (and the instance), before any group changes.
  for (const p of eniPlans) {
    if (!p.recordNew || !p.record) continue;
    const record = p.record;
    calls.push({ api: 'ec2:CreateTags', target: p.eni.id, region: reg, what: `record ${p.eni.id} original groups: ${list(record)} (tag, kept until release)`, run: () => ops.tag(reg, [p.eni.id], { ...groupTags(record), [TAG.incident]: incident.id.slice(0, 250) }) });
  }
  const moving = eniPlans.filter((p) => p.toIso);
  const instanceTags: Record<string, string> = {};
  if (!i.tags[TAG.isolatedAt]) instanceTags[TAG.isolatedAt] = new Date().toISOString();
  if (!isolatedBy) instanceTags[TAG.isolatedBy] = incident.id.slice(0, 250);
  if (!i.tags[TAG.incident]) instanceTags[TAG.incident] = incident.id.slice(0, 250);
  const primary = eniPlans.find((p) => p.eni.deviceIndex === 0);
  if (!legacy && primary?.record) Object.assign(instanceTags, groupTags(primary.record));
  if (moving.length && Object.keys(instanceTags).length) {
    calls.push({ api: 'ec2:CreateTags', target: i.id, region: reg, what: `tag the instance with the isolation record (${Object.keys(instanceTags).map((k) => k.replace('keysentry:', '')).join(', ')})`, run: () => ops.tag(reg, [i.id], instanceTags) });
  }

  if (moving.length) {
    if (iso) calls.push({ api: 'ec2:DescribeSecurityGroups', target: iso, region: reg, what: `reuse isolation group ${iso}`, run: async (ctx) => void (ctx.group = iso) });
    else
      calls.push({
        api: 'ec2:CreateSecurityGroup',
        target: vpc ?? 'default VPC',
        region: reg,
        what: `create ${ISOLATION_GROUP}: no inbound rule, its default outbound rule removed`,
        run: async (ctx) => (ctx.group = await ops.createIsolationGroup(reg, vpc, incident.id)),
      });
    if (moving.some((p) => p.toTransit)) {
      if (transit) calls.push({ api: 'ec2:DescribeSecurityGroups', target: transit, region: reg, what: `reuse temporary all-traffic group ${transit}`, run: async (ctx) => void (ctx.transit = transit) });
      else
        calls.push({
          api: 'ec2:CreateSecurityGroup',
          target: vpc ?? 'default VPC',
          region: reg,
          what: `create ${TRANSIT_GROUP}: all traffic from and to 0.0.0.0/0 and ::/0`,
          run: async (ctx) => (ctx.transit = await ops.createTransitGroup(reg, vpc, incident.id)),
        });
    }
    for (const p of moving) {
      if (p.toTransit)
        calls.push({
          api: 'ec2:ModifyNetworkInterfaceAttribute',
          target: p.eni.id,
          region: reg,
          what: `step 1 of 2: move ${p.eni.id} from ${list(p.eni.groupIds)} to the temporary all-traffic group. Why: its open connections become untracked`,
          run: (ctx) => ops.setInterfaceGroups(reg, p.eni.id, [ctx.transit as string]),
        });
      calls.push({
        api: 'ec2:ModifyNetworkInterfaceAttribute',
        target: p.eni.id,
        region: reg,
        what: `step 2 of 2: move ${p.eni.id} to the isolation group (no rules). Why: untracked flows are cut at once`,
        run: (ctx) => ops.setInterfaceGroups(reg, p.eni.id, [ctx.group as string]),
      });
    }
    warnings.push(
      `Security groups are stateful: a swap to a group with no rules would leave connections already open (an attacker's shell, a flood in progress) alive. Traffic allowed from and to anywhere is not tracked, so the hop through the all-traffic group makes them untracked and the isolation group then cuts them (as AWS's AWSSupport-ContainEC2Instance does). Between the two steps the interface is open to all traffic for one API call.`,
    );
    calls.push({
      api: 'ec2:DeleteSecurityGroup',
      target: TRANSIT_GROUP,
      region: reg,
      what: 'delete the all-traffic group again once unused: no group open to the world is left',
      run: (ctx) => ops.deleteGroupIfUnused(reg, ctx.transit ?? transit ?? ''),
    });
  }

  // Forensic snapshots: once per instance, whichever incident took them.
  const taken = i.volumeIds.length ? await ops.keysentrySnapshots(reg, i.id) : [];
  if (taken.length) checked.push(`ec2:DescribeSnapshots: Keysentry's snapshots of ${i.id} exist (${list(taken)}): not taken again`);
  else if (i.volumeIds.length)
    calls.push({
      api: 'ec2:CreateSnapshots',
      target: i.id,
      region: reg,
      what: `snapshot every EBS volume (${list(i.volumeIds)}) for forensics, tagged with the incident`,
      run: async () => (await ops.createSnapshots(reg, i.id, { [TAG.incident]: incident.id.slice(0, 250), [TAG.snapshotOf]: i.id })).join(', '),
    });

  if (opts.nacl) await planNacl(reg, i, enis, incident, ops, plan);

  if (!calls.length) {
    const by = isolatedBy ? ` by incident "${short(isolatedBy)}"` : '';
    throw new KeysentryError(`nothing to do: ${i.id} is already isolated${by}; every interface is in ${ISOLATION_GROUP}, its original groups stay recorded (${eniPlans.map((p) => `${p.eni.id}: ${list(p.record ?? [])}`).join('; ')})${taken.length ? ', and its snapshots exist' : ''}. Release it with the release action`);
  }
  if (already.length || isolatedBy) warnings.unshift(`Already partly isolated${isolatedBy ? ` by incident "${short(isolatedBy)}"` : ''}: the original record is kept; this plan does only what is missing.`);
  if (eniPlans.some((p) => p.note.startsWith('in the temporary'))) warnings.unshift('An interface is in the temporary all-traffic group (an isolation stopped halfway): it accepts all traffic from anywhere until this plan (or a release) runs.');
  warnings.push('The instance keeps running, so memory and processes stay available for investigation. Release restores the recorded groups.');
  plan.title = `Isolate instance ${i.id}`;
  return plan;
}

async function planNacl(reg: string, i: InstanceState, enis: NetworkInterfaceState[], incident: Incident, ops: ContainmentOps & IsolationOps, plan: ActionPlan): Promise<void> {
  const subnets = [...new Set(enis.map((e) => e.subnetId).filter(Boolean) as string[])];
  for (const subnetId of subnets) {
    const acl = await ops.subnetAcl(reg, subnetId);
    if (!acl) throw new KeysentryError(`the network ACL of ${subnetId} could not be found`);
    const vpc = acl.vpcId ?? i.vpcId;
    if (!vpc) throw new KeysentryError(`the VPC of ${subnetId} is unknown`);
    const quarantine = await ops.findQuarantineAcl(reg, vpc);
    if (quarantine && acl.aclId === quarantine) {
      plan.checked.push(`ec2:DescribeNetworkAcls: ${subnetId} already has the quarantine ACL ${quarantine}`);
      continue;
    }
    const others = await ops.subnetInterfaces(reg, subnetId);
    const instances = [...new Set(others.map((o) => o.instanceId).filter((x) => x && x !== i.id) as string[])];
    const nonInstance = others.filter((o) => !o.instanceId);
    plan.checked.push(`ec2:DescribeNetworkAcls: ${subnetId} uses ${acl.aclId}; ec2:DescribeNetworkInterfaces: ${others.length} interface(s) in the subnet`);
    plan.warnings.push(
      `Blast radius of the network ACL: every resource in ${subnetId} loses all traffic, not only ${i.id}: ${instances.length} other instance(s)${instances.length ? ` (${instances.slice(0, 20).join(', ')}${instances.length > 20 ? ', …' : ''})` : ''} and ${nonInstance.length} other interface(s) (load balancers, NAT gateways, Lambda, endpoints)${nonInstance.length ? `: ${nonInstance.slice(0, 10).map((o) => o.id).join(', ')}` : ''}. A network ACL is stateless, so it cuts open connections at once.`,
    );
    const record = { [TAG.previousAcl]: acl.aclId, [TAG.isolatedBy]: incident.id.slice(0, 250) };
    if (!acl.tags[TAG.previousAcl]) plan.calls.push({ api: 'ec2:CreateTags', target: subnetId, region: reg, what: `record ${subnetId} original network ACL: ${acl.aclId}`, run: () => ops.tag(reg, [subnetId], record) });
    if (quarantine) plan.calls.push({ api: 'ec2:DescribeNetworkAcls', target: quarantine, region: reg, what: `reuse quarantine ACL ${quarantine}`, run: async (ctx) => void (ctx[`acl:${vpc}`] = quarantine) });
    else plan.calls.push({ api: 'ec2:CreateNetworkAcl', target: vpc, region: reg, what: `create network ACL ${QUARANTINE_ACL} with no allow rule (only the default deny-all entries)`, run: async (ctx) => (ctx[`acl:${vpc}`] = await ops.createQuarantineAcl(reg, vpc, incident.id)) });
    plan.calls.push({
      api: 'ec2:ReplaceNetworkAclAssociation',
      target: subnetId,
      region: reg,
      what: `give ${subnetId} the quarantine ACL instead of ${acl.aclId}: every packet in or out of the subnet is dropped`,
      run: (ctx) => ops.replaceAclAssociation(reg, acl.associationId, ctx[`acl:${vpc}`] as string),
    });
  }
}

/**
 * Plans a release: each interface back to its recorded groups, the Auto Scaling state restored,
 * the subnet's network ACL back, then the records removed (last, so a release that stops halfway
 * can be planned again). Refuses when a recorded group no longer exists.
 */
export async function planRelease(target: ActionTarget, incident: Incident, ops: ContainmentOps & IsolationOps, others: Incident[] = []): Promise<ActionPlan> {
  const { region: reg, instance: i, enis, asg, plan } = await readInstance(target, ops);
  const { checked, calls, warnings } = plan;
  const journal = journalledGroups([incident, ...others]);
  checked.push(`ec2:DescribeNetworkInterfaces: ${enis.map((e) => `${e.id} (device ${e.deviceIndex}): ${list(e.groupIds)}`).join('; ')}`);
  const legacy = recordedGroups(i.tags, i.id);
  const restores: Array<{ eni: NetworkInterfaceState; groups: string[]; keys: string[] }> = [];
  for (const eni of enis) {
    let groups = recordedGroups(eni.tags, eni.id);
    let keys = recordKeys(eni.tags);
    if (!groups && eni.deviceIndex === 0 && legacy) {
      groups = legacy;
      keys = [];
    }
    if (!groups) continue;
    const j = journal.get(eni.id);
    if (j && !same(j, groups)) warnings.unshift(`The ${TAG.previousGroups} tag on ${eni.id} (${list(groups)}) differs from what the incident timeline recorded (${list(j)}): someone changed the tag. Check which is right before confirming.`);
    restores.push({ eni, groups, keys });
  }
  const isolated = !!i.tags[TAG.isolatedAt] || !!i.tags[TAG.isolatedBy];
  if (!restores.length && !isolated && !i.tags[TAG.asgState]) throw new KeysentryError(`nothing to release: ${i.id} carries no Keysentry isolation record (no ${TAG.previousGroups} tag on its interfaces)`);
  const wanted = [...new Set(restores.flatMap((r) => r.groups))];
  const exist = wanted.length ? await ops.existingGroups(reg, wanted) : {};
  const missing = wanted.filter((g) => !(g in exist));
  checked.push(`ec2:DescribeSecurityGroups: recorded groups ${wanted.map((g) => (exist[g] !== undefined ? `${g} (${short(exist[g] as string, 60)})` : `${g} (missing)`)).join(', ') || 'none'}`);
  if (missing.length) throw new KeysentryError(`refusing to release ${i.id}: recorded group${missing.length === 1 ? '' : 's'} ${missing.join(', ')} no longer exist${missing.length === 1 ? 's' : ''}. Restore the groups (or give the interfaces groups by hand), then remove the ${TAG.previousGroups} tags`);

  for (const r of restores) {
    if (same(r.eni.groupIds, r.groups)) checked.push(`${r.eni.id} already has its recorded groups`);
    else calls.push({ api: 'ec2:ModifyNetworkInterfaceAttribute', target: r.eni.id, region: reg, what: `give ${r.eni.id} back its recorded groups: ${list(r.groups)}`, run: () => ops.setInterfaceGroups(reg, r.eni.id, r.groups) });
  }
  // Auto Scaling: back in service only once the groups are back (health checks would fail before).
  const asgState = i.tags[TAG.asgState];
  const asgGroup = i.tags[TAG.asgGroup];
  if (asgState && asgGroup) {
    if (asgState === 'standby' && asg?.lifecycle === 'Standby') calls.push({ api: 'autoscaling:ExitStandby', target: i.id, region: reg, what: `return it to service in "${short(asgGroup)}"`, run: () => ops.exitStandby(reg, asgGroup, i.id) });
    else if (asgState === 'detached' && !asg) {
      calls.push({ api: 'autoscaling:AttachInstances', target: i.id, region: reg, what: `attach it to "${short(asgGroup)}" again`, run: () => ops.attachToGroup(reg, asgGroup, i.id) });
      warnings.push(`Attaching raises the desired capacity of "${short(asgGroup)}" by one; lower it if the replacement launched at isolation should stay.`);
    } else checked.push(`autoscaling: recorded ${asgState} in "${short(asgGroup)}", now ${asg ? asg.lifecycle : 'in no group'}: nothing to restore`);
  }
  // The subnet's network ACL.
  for (const subnetId of [...new Set(enis.map((e) => e.subnetId).filter(Boolean) as string[])]) {
    const acl = await ops.subnetAcl(reg, subnetId);
    const prev = acl?.tags[TAG.previousAcl];
    if (!acl || !prev) continue;
    if (!/^acl-[0-9a-f]{1,40}$/.test(prev)) throw new KeysentryError(`the ${TAG.previousAcl} tag on ${subnetId} is not a network ACL id`);
    if (!(await ops.aclExists(reg, prev))) throw new KeysentryError(`refusing to release ${subnetId}: its recorded network ACL ${prev} no longer exists`);
    if (acl.aclId !== prev) calls.push({ api: 'ec2:ReplaceNetworkAclAssociation', target: subnetId, region: reg, what: `give ${subnetId} back network ACL ${prev}`, run: () => ops.replaceAclAssociation(reg, acl.associationId, prev) });
    calls.push({ api: 'ec2:DeleteTags', target: subnetId, region: reg, what: `remove ${TAG.previousAcl} from ${subnetId}`, run: () => ops.untag(reg, [subnetId], [TAG.previousAcl, TAG.isolatedBy]) });
    warnings.push(`Every resource in ${subnetId} gets its traffic back with the network ACL.`);
  }
  // A transit group left by an interrupted isolation is open to the world: remove it once unused.
  const leftover = enis.some((e) => e.groupIds.length) ? await ops.findTransitGroup(reg, i.vpcId ?? enis[0]?.vpcId) : undefined;
  if (leftover && calls.length)
    calls.push({ api: 'ec2:DeleteSecurityGroup', target: leftover, region: reg, what: `delete the temporary all-traffic group ${leftover} left by an interrupted isolation (kept while another interface uses it)`, run: () => ops.deleteGroupIfUnused(reg, leftover) });
  // Records last: a release that stops halfway is planned again from them.
  for (const r of restores) if (r.keys.length) calls.push({ api: 'ec2:DeleteTags', target: r.eni.id, region: reg, what: `remove the isolation record from ${r.eni.id}`, run: () => ops.untag(reg, [r.eni.id], r.keys) });
  const instanceKeys = [TAG.isolatedAt, TAG.isolatedBy, TAG.asgGroup, TAG.asgState, ...recordKeys(i.tags)].filter((k) => i.tags[k] !== undefined);
  if (instanceKeys.length) calls.push({ api: 'ec2:DeleteTags', target: i.id, region: reg, what: `remove the isolation record from ${i.id} (${instanceKeys.join(', ')})`, run: () => ops.untag(reg, [i.id], instanceKeys) });
  if (!calls.length) throw new KeysentryError(`nothing to release: ${i.id} has its recorded groups back`);
  warnings.push('Whatever reached the instance before reaches it again. Release only an instance you have rebuilt or cleaned.');
  warnings.push('Termination protection stays on, shutdown behaviour stays "stop" and the forensic snapshots are kept.');
  plan.title = `Release instance ${i.id}`;
  return plan;
}

export type { PlannedCall };

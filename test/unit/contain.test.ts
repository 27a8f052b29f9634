// Isolation per network interface, idempotence, release, a denied call midway, and the network
// ACL option, against moto (with test/aws/moto_server.py's correction: an instance's groups are
// its primary interface's) through the real SDK, Auto Scaling included.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { AutoScalingClient, CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import {
  AttachNetworkInterfaceCommand,
  CreateLaunchTemplateCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { AwsContainment, explainCall } from '../../src/aws/containment';
import { resolveTarget } from '../../src/aws/clients';
import { describePlan, planAction, runPlan, type ActionKind, type ActionTarget } from '../../src/core/incidents/actions';
import { IncidentBook } from '../../src/core/incidents/book';
import type { Incident } from '../../src/core/incidents/types';
import { groupTags, recordedGroups } from '../../src/core/contain/isolation';
import { assertNoSecret, runBuiltCli, tempDir } from './helpers';
import { startFaultProxy, startMoto, type Moto } from '../aws/moto.mjs';

const R = 'eu-west-1';
const creds = { accessKeyId: 'seed', secretAccessKey: 'seed' };
const ACTOR = 'tester';
let moto: Moto;
const outputs: string[] = [];

before(async () => {
  moto = await startMoto();
});
after(() => moto?.stop());
beforeEach(async () => {
  await moto.reset();
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'admin', AWS_SECRET_ACCESS_KEY: 'admin', AWS_REGION: R });
  delete process.env.AWS_PROFILE;
});

const ec2 = (): EC2Client => new EC2Client({ region: R, endpoint: moto.endpoint, credentials: creds });
const asg = (): AutoScalingClient => new AutoScalingClient({ region: R, endpoint: moto.endpoint, credentials: creds });

interface World {
  instance: string;
  eni0: string;
  eni1: string;
  groups: { a: string; b: string; c: string };
  subnet: string;
  neighbour: string;
}

/** A VPC, three groups, an Auto Scaling group of one instance (groups a, b) with a second interface (group c), and a neighbour instance in the same subnet. */
async function world(): Promise<World> {
  const e = ec2();
  const vpc = (await e.send(new CreateVpcCommand({ CidrBlock: '10.7.0.0/16' }))).Vpc!.VpcId!;
  const subnet = (await e.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.7.1.0/24', AvailabilityZone: `${R}a` }))).Subnet!.SubnetId!;
  const sg = async (name: string): Promise<string> => (await e.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpc }))).GroupId!;
  const groups = { a: await sg('web'), b: await sg('ssh'), c: await sg('backend') };
  const image = (await e.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.find((i) => i.ImageId)?.ImageId ?? 'ami-12c6146b';
  await e.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'web', LaunchTemplateData: { ImageId: image, InstanceType: 't3.micro', SecurityGroupIds: [groups.a, groups.b] } }));
  await asg().send(new CreateAutoScalingGroupCommand({ AutoScalingGroupName: 'web-asg', MinSize: 1, MaxSize: 3, DesiredCapacity: 1, LaunchTemplate: { LaunchTemplateName: 'web', Version: '$Latest' }, VPCZoneIdentifier: subnet }));
  const instance = (await asg().send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web-asg'] }))).AutoScalingGroups![0]!.Instances![0]!.InstanceId!;
  const eni1 = (await e.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet, Groups: [groups.c] }))).NetworkInterface!.NetworkInterfaceId!;
  await e.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni1, InstanceId: instance, DeviceIndex: 1 }));
  const eni0 = (await enis(instance)).find((n) => n.Attachment?.DeviceIndex === 0)!.NetworkInterfaceId!;
  const neighbour = (await e.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, SubnetId: subnet, SecurityGroupIds: [groups.a] }))).Instances![0]!.InstanceId!;
  return { instance, eni0, eni1, groups, subnet, neighbour };
}

async function enis(instance: string) {
  return (await ec2().send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instance] }] }))).NetworkInterfaces ?? [];
}
async function groupsOf(eni: string): Promise<string[]> {
  const n = (await ec2().send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }))).NetworkInterfaces![0]!;
  return (n.Groups ?? []).map((g) => g.GroupId!).sort();
}
async function describe(instance: string) {
  return (await ec2().send(new DescribeInstancesCommand({ InstanceIds: [instance] }))).Reservations![0]!.Instances![0]!;
}
const tagsOf = (t: Array<{ Key?: string; Value?: string }> | undefined): Record<string, string> => Object.fromEntries((t ?? []).map((x) => [x.Key!, x.Value!]));
async function lifecycle(instance: string): Promise<string | undefined> {
  return (await asg().send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instance] }))).AutoScalingInstances?.[0]?.LifecycleState;
}

function incident(book: IncidentBook, id: string, w: World): Incident {
  return book.add({ id, type: 'compromised-instance', severity: 'critical', title: 'abuse', summary: 's', source: 'manual', resources: [{ kind: 'instance', id: w.instance, region: R }], facts: [] }, ACTOR, 'opened');
}
const targetOf = (kind: ActionKind, w: World, options?: ActionTarget['options']): ActionTarget => ({ kind, resource: { kind: 'instance', id: w.instance, region: R }, label: kind, options });
const ops = (endpoint = moto.endpoint): AwsContainment => new AwsContainment(resolveTarget({ region: R, endpoint }));

async function act(book: IncidentBook, id: string, t: ActionTarget, endpoint?: string) {
  const plan = await planAction(t, book.get(id)!, ops(endpoint), [...book.incidents]);
  outputs.push(describePlan(plan));
  const result = await runPlan(plan, (api, e) => explainCall(api, e));
  book.recordAction(id, plan.title, result, ACTOR);
  return { plan, result };
}

test('moto fix: ModifyNetworkInterfaceAttribute on the primary interface is the instance\'s groups; a second interface reports only its own', async () => {
  const w = await world();
  assert.deepEqual((await describe(w.instance)).SecurityGroups?.map((g) => g.GroupId).sort(), [w.groups.a, w.groups.b].sort());
  assert.deepEqual(await groupsOf(w.eni1), [w.groups.c], 'not the union with the instance\'s');
  await ec2().send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: w.eni0, Groups: [w.groups.c] }));
  assert.deepEqual((await describe(w.instance)).SecurityGroups?.map((g) => g.GroupId), [w.groups.c]);
  assert.deepEqual(await groupsOf(w.eni1), [w.groups.c]);
});

test('isolate: each interface through the all-traffic group to the isolation group, originals recorded first, Auto Scaling standby', async (t) => {
  const w = await world();
  const book = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  const inc = incident(book, 'notice:1', w);
  const plan = await planAction(targetOf('isolate-instance', w), inc, ops());
  const text = describePlan(plan);
  outputs.push(text);
  assert.deepEqual(plan.calls.map((c) => `${c.api} ${c.target}`), [
    `ec2:CreateTags ${w.instance}`,
    `autoscaling:EnterStandby ${w.instance}`,
    `ec2:ModifyInstanceAttribute ${w.instance}`,
    ...(plan.calls.filter((c) => c.what.startsWith('make a shutdown')).length ? [`ec2:ModifyInstanceAttribute ${w.instance}`] : []),
    `ec2:CreateTags ${w.eni0}`,
    `ec2:CreateTags ${w.eni1}`,
    `ec2:CreateTags ${w.instance}`,
    `ec2:CreateSecurityGroup ${plan.calls.find((c) => c.api === 'ec2:CreateSecurityGroup')!.target}`,
    `ec2:CreateSecurityGroup ${plan.calls.filter((c) => c.api === 'ec2:CreateSecurityGroup')[1]!.target}`,
    `ec2:ModifyNetworkInterfaceAttribute ${w.eni0}`,
    `ec2:ModifyNetworkInterfaceAttribute ${w.eni0}`,
    `ec2:ModifyNetworkInterfaceAttribute ${w.eni1}`,
    `ec2:ModifyNetworkInterfaceAttribute ${w.eni1}`,
    'ec2:DeleteSecurityGroup keysentry-isolation-transit',
    `ec2:CreateSnapshots ${w.instance}`,
  ]);
  assert.match(text, /step 1 of 2: move eni-\w+ .* to the temporary all-traffic group\. Why: its open connections become untracked/);
  assert.match(text, /step 2 of 2: move eni-\w+ to the isolation group \(no rules\)\. Why: untracked flows are cut at once/);
  assert.match(text, /Security groups are stateful: .* the hop through the all-traffic group makes them untracked/);
  assert.match(text, /record eni-\w+ original groups: sg-/);
  assert.match(text, /in group "web-asg", InService/);

  // Run it call by call, checking AWS after each interface move.
  const ctx: Record<string, string> = {};
  const seen: string[][] = [];
  const rules = async (g: string) => (await ec2().send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [g] }] }))).SecurityGroupRules ?? [];
  let tr: Awaited<ReturnType<typeof rules>> = [];
  for (const c of plan.calls) {
    if (c.api === 'ec2:DeleteSecurityGroup') tr = await rules(ctx.transit!);
    await c.run(ctx);
    if (c.api === 'ec2:ModifyNetworkInterfaceAttribute') seen.push([c.target, ...(await groupsOf(c.target))]);
    if (c.api === 'autoscaling:EnterStandby') assert.equal(await lifecycle(w.instance), 'Standby');
    if (c.api === 'ec2:CreateTags' && c.target === w.eni1) assert.deepEqual(recordedGroups(tagsOf((await enis(w.instance)).find((n) => n.NetworkInterfaceId === w.eni1)?.TagSet), w.eni1), [w.groups.c]);
  }
  assert.deepEqual(seen, [
    [w.eni0, ctx.transit],
    [w.eni0, ctx.group],
    [w.eni1, ctx.transit],
    [w.eni1, ctx.group],
  ]);
  // the temporary group allows everything from and to anywhere; the isolation group nothing
  for (const egress of [false, true]) for (const cidr of ['0.0.0.0/0', '::/0']) assert.ok(tr.some((r) => !!r.IsEgress === egress && r.IpProtocol === '-1' && (r.CidrIpv4 ?? r.CidrIpv6) === cidr), `transit ${egress ? 'egress' : 'ingress'} ${cidr}`);
  assert.equal((await rules(ctx.group!)).length, 0);
  assert.deepEqual((await ec2().send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['keysentry-isolation-transit'] }] }))).SecurityGroups, [], 'no world-open group is left behind');
  const inst = await describe(w.instance);
  assert.deepEqual(inst.SecurityGroups?.map((g) => g.GroupId), [ctx.group], 'DescribeInstances shows the primary interface\'s group');
  const tags = tagsOf(inst.Tags);
  assert.equal(tags['keysentry:isolated-by'], 'notice:1');
  assert.equal(tags['keysentry:asg-state'], 'standby');
  assert.equal(tags['keysentry:asg-group'], 'web-asg');
  assert.deepEqual(recordedGroups(tags, 'i')?.sort(), [w.groups.a, w.groups.b].sort());
  const eniTags = Object.fromEntries((await enis(w.instance)).map((n) => [n.NetworkInterfaceId, recordedGroups(tagsOf(n.TagSet), 'e')?.sort()]));
  assert.deepEqual(eniTags, { [w.eni0]: [w.groups.a, w.groups.b].sort(), [w.eni1]: [w.groups.c] });
});

test('isolate twice, from a second incident: the record is kept, nothing is redone; release restores groups and Standby; release again has nothing to do', async (t) => {
  const w = await world();
  const book = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  incident(book, 'notice:1', w);
  incident(book, 'audit:2', w);
  assert.equal((await act(book, 'notice:1', targetOf('isolate-instance', w))).result.ok, true);
  const snaps = async () => ((await ec2().send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? []).length;
  const snapCount = await snaps();
  await assert.rejects(planAction(targetOf('isolate-instance', w), book.get('audit:2')!, ops(), [...book.incidents]), (e: Error) => {
    outputs.push(e.message);
    assert.match(e.message, /nothing to do: i-\w+ is already isolated by incident "notice:1"/);
    assert.match(e.message, new RegExp(`${w.eni1}: ${w.groups.c}`));
    return true;
  });
  assert.equal(await snaps(), snapCount, 'no second snapshot');
  const tags = tagsOf((await describe(w.instance)).Tags);
  assert.equal(tags['keysentry:isolated-by'], 'notice:1');
  assert.deepEqual(recordedGroups(tags, 'i')?.sort(), [w.groups.a, w.groups.b].sort(), 'the original record survives');

  // the second incident releases it
  const rel = await act(book, 'audit:2', targetOf('release-instance', w));
  assert.equal(rel.result.ok, true, rel.result.error);
  assert.deepEqual(rel.plan.calls.map((c) => c.api), ['ec2:ModifyNetworkInterfaceAttribute', 'ec2:ModifyNetworkInterfaceAttribute', 'autoscaling:ExitStandby', 'ec2:DeleteTags', 'ec2:DeleteTags', 'ec2:DeleteTags']);
  assert.deepEqual(await groupsOf(w.eni0), [w.groups.a, w.groups.b].sort());
  assert.deepEqual(await groupsOf(w.eni1), [w.groups.c]);
  assert.equal(await lifecycle(w.instance), 'InService');
  const after = tagsOf((await describe(w.instance)).Tags);
  assert.equal(after['keysentry:isolated-by'], undefined);
  assert.equal(after['keysentry:previous-groups'], undefined);
  assert.equal(book.get('audit:2')!.timeline.at(-1)!.text, `Release instance ${w.instance}: done`);
  await assert.rejects(planAction(targetOf('release-instance', w), book.get('audit:2')!, ops()), /nothing to release/);
  // and it can be isolated again afterwards (a new record)
  assert.equal((await act(book, 'audit:2', targetOf('isolate-instance', w))).result.ok, true);
  assert.equal(tagsOf((await describe(w.instance)).Tags)['keysentry:isolated-by'], 'audit:2');
});

test('release refuses when a recorded group no longer exists', async (t) => {
  const w = await world();
  const book = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  incident(book, 'n', w);
  assert.equal((await act(book, 'n', targetOf('isolate-instance', w))).result.ok, true);
  await ec2().send(new DeleteSecurityGroupCommand({ GroupId: w.groups.c }));
  await assert.rejects(planAction(targetOf('release-instance', w), book.get('n')!, ops()), new RegExp(`refusing to release .*${w.groups.c} no longer exists`));
});

test('a denied call midway leaves an interface in the all-traffic group: the resume plan and the release plan both say so and fix it', async (t) => {
  const w = await world();
  const book = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  incident(book, 'n', w);
  const proxy = await startFaultProxy(moto.endpoint);
  t.after(() => proxy.stop());
  // the first interface reaches the all-traffic group; its move to the isolation group is denied
  proxy.inject('ModifyNetworkInterfaceAttribute', 'deny', 1, 1);
  const first = await act(book, 'n', targetOf('isolate-instance', w), proxy.endpoint);
  assert.equal(first.result.ok, false);
  assert.match(first.result.error ?? '', /AWS denied ModifyNetworkInterfaceAttribute/);
  const transit = (await groupsOf(w.eni0))[0]!;
  assert.match(first.plan.calls.find((c) => c.what.startsWith('create keysentry-isolation-transit'))?.what ?? '', /all traffic from and to 0\.0\.0\.0\/0 and ::\/0/);
  assert.deepEqual(await groupsOf(w.eni1), [w.groups.c], 'the second interface was not touched');
  assert.equal(book.get('n')!.timeline.at(-1)!.kind, 'error');

  // release from here: eni0 back to its record, eni1 already has its groups
  const rel = await planAction(targetOf('release-instance', w), book.get('n')!, ops(), [...book.incidents]);
  outputs.push(describePlan(rel));
  assert.deepEqual(rel.calls.filter((c) => c.api === 'ec2:ModifyNetworkInterfaceAttribute').map((c) => c.target), [w.eni0]);
  assert.ok(rel.calls.some((c) => c.api === 'ec2:DeleteSecurityGroup' && c.target === transit), 'the left-over all-traffic group goes too');
  assert.match(describePlan(rel), new RegExp(`${w.eni1} already has its recorded groups`));

  // resume: only what is missing, and it says an interface is open to all traffic now
  const resume = await planAction(targetOf('isolate-instance', w), book.get('n')!, ops(), [...book.incidents]);
  const text = describePlan(resume);
  outputs.push(text);
  assert.match(text, /in the temporary all-traffic group \(an isolation stopped halfway\)/);
  assert.match(text, new RegExp(`${w.eni0}: in the temporary all-traffic group: an isolation was interrupted here`));
  const moves = resume.calls.filter((c) => c.api === 'ec2:ModifyNetworkInterfaceAttribute').map((c) => `${c.target}:${c.what.slice(0, 11)}`);
  assert.deepEqual(moves, [`${w.eni0}:step 2 of 2`, `${w.eni1}:step 1 of 2`, `${w.eni1}:step 2 of 2`]);
  assert.ok(!resume.calls.some((c) => c.api === 'ec2:CreateTags' && c.target.startsWith('eni-')), 'records are not written again');
  assert.ok(!resume.calls.some((c) => c.api === 'autoscaling:EnterStandby'), 'already in Standby');
  assert.ok(resume.calls.some((c) => c.api === 'ec2:DescribeSecurityGroups' && c.target === transit), 'reuses the all-traffic group');
  const r = await runPlan(resume, (api, e) => explainCall(api, e));
  assert.equal(r.ok, true, r.error);
  const recorded = Object.fromEntries((await enis(w.instance)).map((n) => [n.NetworkInterfaceId, recordedGroups(tagsOf(n.TagSet), 'e')?.sort()]));
  assert.deepEqual(recorded, { [w.eni0]: [w.groups.a, w.groups.b].sort(), [w.eni1]: [w.groups.c] }, 'the originals, never the all-traffic group');
});

test('network ACL option: the blast radius names the neighbour; the subnet gets a deny-all ACL; release gives the old one back', async (t) => {
  const w = await world();
  const book = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  incident(book, 'n', w);
  const aclOf = async () => (await ec2().send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [w.subnet] }] }))).NetworkAcls![0]!;
  const before = (await aclOf()).NetworkAclId;
  const { plan, result } = await act(book, 'n', targetOf('isolate-instance', w, { nacl: true }));
  assert.equal(result.ok, true, result.error);
  assert.match(plan.warnings.join('\n'), new RegExp(`Blast radius .* ${w.subnet} .*1 other instance\\(s\\) \\(${w.neighbour}\\)`));
  const now = await aclOf();
  assert.notEqual(now.NetworkAclId, before);
  assert.ok(!(now.Entries ?? []).some((e) => e.RuleAction === 'allow'), 'no allow entry');
  const rel = await act(book, 'n', targetOf('release-instance', w));
  assert.equal(rel.result.ok, true, rel.result.error);
  assert.equal((await aclOf()).NetworkAclId, before);
});

test('recorded group lists split over tags of 256 characters and refuse anything that is not group ids', () => {
  const many = Array.from({ length: 16 }, (_, i) => `sg-${i.toString(16).padStart(17, '0')}`);
  const tags = groupTags(many);
  assert.ok(Object.values(tags).every((v) => v.length <= 256));
  assert.deepEqual(recordedGroups(tags, 'x'), many);
  assert.deepEqual(recordedGroups(groupTags([]), 'x'), []);
  assert.throws(() => recordedGroups({ 'keysentry:previous-groups': 'sg-1 ; rm -rf /' }, 'eni-1'), /not a list of security group ids/);
});

test('keysentry contain: prints the plan, never runs without --yes or a terminal, records in the incident, exit 0/1/2', async (t) => {
  const w = await world();
  const home = tempDir(t, 'keysentry-home-');
  const env = { AWS_ACCESS_KEY_ID: 'admin', AWS_SECRET_ACCESS_KEY: 'admin', AWS_REGION: R, AWS_ENDPOINT_URL: moto.endpoint, HOME: home, KEYSENTRY_HOME: home };
  const cli = (args: string[]) => runBuiltCli(['contain', ...args], env, { cwd: home, outputs });
  const book = new IncidentBook(path.join(home, 'incidents.json'));
  incident(book, 'notice:cli', w);

  const plan = await cli(['isolate', w.instance, '--plan']);
  assert.equal(plan.code, 0, plan.err);
  assert.match(plan.out, /step 1 of 2: move .* temporary all-traffic group/);
  assert.match(plan.out, /step 2 of 2: move .* isolation group/);
  assert.deepEqual(await groupsOf(w.eni1), [w.groups.c], '--plan changes nothing');
  const noTty = await cli(['isolate', w.instance]);
  assert.equal(noTty.code, 1);
  assert.match(noTty.err, /no terminal to confirm on.*--yes/);
  assert.deepEqual(await groupsOf(w.eni1), [w.groups.c]);

  const run = await cli(['isolate', w.instance, '--yes', '--format', 'json']);
  assert.equal(run.code, 0, run.err);
  const j = JSON.parse(run.out) as { done: boolean; incident: string; calls: Array<{ api: string; ok: boolean }> };
  assert.equal(j.done, true);
  assert.equal(j.incident, 'notice:cli', 'the open incident that names the instance');
  assert.equal((await describe(w.instance)).SecurityGroups?.[0]?.GroupName, 'keysentry-isolation');
  const again = await cli(['isolate', w.instance, '--yes']);
  assert.equal(again.code, 1);
  assert.match(again.err, /nothing to do: .* already isolated by incident "notice:cli"/);

  const release = await cli(['release', w.instance, '--yes']);
  assert.equal(release.code, 0, release.err);
  assert.match(release.out, /Recorded in the timeline of incident notice:cli/);
  assert.deepEqual(await groupsOf(w.eni0), [w.groups.a, w.groups.b].sort());
  const timeline = new IncidentBook(path.join(home, 'incidents.json')).get('notice:cli')!.timeline.map((e) => e.text);
  assert.ok(timeline.includes(`Isolate instance ${w.instance}: done`));
  assert.ok(timeline.includes(`Release instance ${w.instance}: done`));

  assert.equal((await cli(['isolate', 'i-not\u001b[2J'])).code, 2, 'not an instance id');
  assert.equal((await cli(['explode', w.instance])).code, 2);
  const missing = await cli(['release', 'i-0123456789abcdef0', '--yes']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /was not found/);
  assertNoSecret(outputs, []);
});

after(() => {
  for (const o of outputs) assert.doesNotMatch(o, /PRIVATE KEY/);
});

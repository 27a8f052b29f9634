// Account checks and containment actions against moto (an AWS emulator) through the real SDK:
// the audit finds exactly the seeded problems; each action changes moto the way it says and
// lands in the timeline; denied and throttled calls are explained and the checklist survives.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, DescribeKeyPairsCommand, DescribeSecurityGroupRulesCommand, DescribeSnapshotsCommand, EC2Client, ModifyInstanceAttributeCommand, CreateSnapshotsCommand } from '@aws-sdk/client-ec2';
import { GetUserPolicyCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { AwsContainment, explainCall, snapshotAccount } from '../../src/aws/account';
import { resolveTarget } from '../../src/aws/clients';
import { actionTargets, describePlan, planAction, runPlan, type ActionKind } from '../../src/core/incidents/actions';
import { IncidentBook } from '../../src/core/incidents/book';
import { checkAccount, DEFAULT_CHECKS } from '../../src/core/incidents/checks';
import { incidentReport } from '../../src/core/incidents/report';
import type { Incident } from '../../src/core/incidents/types';
import { containKeys, fillPlaceholders, parseRunbooks } from '../../src/core/incidents/runbooks';
import { assertNoSecret, runCli, tempDir } from './helpers';
import { startFaultProxy, startMoto, type Moto } from '../aws/moto.mjs';
import { seedAccount, type SeededAccount } from '../aws/seedAccount.mjs';

const RUNBOOKS = parseRunbooks(readFileSync(path.join(__dirname, '..', '..', 'media', 'runbooks', 'incidents.json'), 'utf8'));
const REGIONS = ['us-east-1', 'ap-south-1', 'eu-west-1'];
let moto: Moto;
let seed: SeededAccount;
const outputs: string[] = [];
const secrets: string[] = [];

before(async () => {
  moto = await startMoto();
});
after(() => {
  moto?.stop();
  assertNoSecret(outputs, secrets);
});
beforeEach(async () => {
  await moto.reset();
  seed = await seedAccount(moto);
  secrets.push(...seed.secrets);
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: seed.admin.id, AWS_SECRET_ACCESS_KEY: seed.admin.secret, AWS_REGION: 'us-east-1' });
  delete process.env.AWS_PROFILE;
  delete process.env.KEYSENTRY_AWS_MAX_ATTEMPTS;
});

const creds = { accessKeyId: 'seed', secretAccessKey: 'seed' };
const ec2 = (region = 'us-east-1'): EC2Client => new EC2Client({ region, endpoint: moto.endpoint, credentials: creds });
const iam = (): IAMClient => new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: creds });
const target = (endpoint = moto.endpoint) => resolveTarget({ region: 'us-east-1', endpoint });
const ACTOR = 'tester as arn:aws:iam::123456789012:user/admin';

async function auditInto(book: IncidentBook, endpoint = moto.endpoint): Promise<Incident[]> {
  const snap = await snapshotAccount(target(endpoint), { regions: REGIONS });
  const drafts = checkAccount(snap, { ...DEFAULT_CHECKS, now: new Date() });
  book.mergeAudit(drafts, { account: snap.account, actor: ACTOR, covers: () => true });
  return [...book.incidents];
}

/** A book in a fresh file, filled by an audit of the seeded account. */
async function auditedBook(t: { after: (fn: () => void) => void }): Promise<{ book: IncidentBook; file: string }> {
  const file = path.join(tempDir(t), 'incidents.json');
  const book = new IncidentBook(file);
  await auditInto(book);
  return { book, file };
}

/** Plans and runs the action of a runbook step the way the editor does, recording it in the book. */
async function act(book: IncidentBook, incidentId: string, kind: ActionKind, resourceId?: string, endpoint = moto.endpoint) {
  const inc = book.get(incidentId) as Incident;
  const targets = actionTargets(inc, kind);
  const t = resourceId ? targets.find((x) => x.resource.id === resourceId) : targets[0];
  assert.ok(t, `${kind} applies to ${incidentId}`);
  const ops = new AwsContainment(target(endpoint));
  const plan = await planAction(t, inc, ops);
  outputs.push(describePlan(plan));
  const result = await runPlan(plan, (api, e) => explainCall(api, e));
  const rb = RUNBOOKS[inc.type];
  const phase = rb?.phases.find((p) => p.steps.some((s) => s.action === kind));
  const step = phase?.steps.find((s) => s.action === kind);
  book.recordAction(incidentId, plan.title, result, ACTOR, step && phase ? { key: `${phase.name}/${step.id}`, label: step.title ?? step.what, containKeys: containKeys(rb) } : undefined);
  outputs.push(JSON.stringify(book.get(incidentId)));
  return { plan, result };
}

const byType = (list: Incident[], type: string): Incident[] => list.filter((i) => i.type === type);

test('audit: finds exactly the seeded open SSH rule, old key, user without MFA and instances in two regions', async (t) => {
  const { book } = await auditedBook(t);
  const list = [...book.incidents];
  const ids = list.map((i) => i.id).sort();
  assert.deepEqual(ids, [
    `key:${seed.oldKeyId}`,
    // the hardening checks (issue 14): a bare moto account has none of them
    'guardduty-off:123456789012',
    'no-billing-alert:123456789012',
    `no-mfa:123456789012:intern`,
    'no-security-contact:123456789012',
    'no-trail:123456789012',
    `open-ingress:123456789012:us-east-1:${seed.web.group}`,
    'unknown-resources:123456789012:ap-south-1',
    'unknown-resources:123456789012:us-east-1:recent',
  ].sort());
  const open = byType(list, 'open-ingress')[0] as Incident;
  assert.match(open.title, /SSH \(22\)/);
  assert.doesNotMatch(JSON.stringify(open.facts), /443/, 'HTTPS open to the world is not an incident');
  assert.ok(open.resources.some((r) => r.kind === 'instance' && r.id === seed.web.instance));
  const stray = list.find((i) => i.id.endsWith(':ap-south-1')) as Incident;
  assert.deepEqual(stray.resources.map((r) => `${r.kind}:${r.id}`), [`instance:${seed.stray.instance}`, 'key-pair:relay']);
  const recent = list.find((i) => i.id.endsWith(':recent')) as Incident;
  assert.deepEqual(recent.resources.map((r) => r.id), [seed.recent], 'the 40-day-old web instance is not "recent"');
  assert.equal((byType(list, 'stale-key')[0] as Incident).severity, 'medium');
  assert.equal((byType(list, 'no-mfa')[0] as Incident).severity, 'high');
  for (const i of list) assert.equal(i.timeline[0]?.kind, 'detected');
});

test('audit: a second audit keeps checklist and timeline, resolves what is gone and reopens what returns', async (t) => {
  const { book, file } = await auditedBook(t);
  const sg = `open-ingress:123456789012:us-east-1:${seed.web.group}`;
  book.setStep(sg, 'Investigate/logins', true, ACTOR);
  await act(book, sg, 'revoke-ingress');
  await auditInto(book);
  const again = new IncidentBook(file).get(sg) as Incident;
  assert.equal(again.status, 'resolved');
  assert.equal(again.steps['Investigate/logins']?.done, true);
  // revoking is one of two Contain steps (the other: allow only your addresses), so it stays open until the audit
  assert.deepEqual(again.timeline.map((e) => e.kind), ['detected', 'step', 'action', 'step', 'status']);
  assert.match(again.timeline.at(-1)?.text ?? '', /No longer found by an audit/);
});

test('CLI audit: text and JSON list the incidents, exit 1; --regions validated; secrets never printed', async (t) => {
  const dir = tempDir(t);
  const text = await runCli(['audit', '--regions', REGIONS.join(',')], dir);
  outputs.push(text.out, text.err);
  assert.equal(text.code, 1, text.err);
  assert.match(text.out, /\[HIGH\] .* open to the internet on SSH \(22\)/);
  assert.match(text.out, /running in ap-south-1, a region this account does not use/);
  assert.match(text.out, new RegExp(`Access key ${seed.oldKeyId} of ci-deploy: created 120 days ago`));
  const json = await runCli(['audit', '--regions', REGIONS.join(','), '--format', 'json', '--home-regions', 'us-east-1,ap-south-1'], dir);
  outputs.push(json.out, json.err);
  const parsed = JSON.parse(json.out);
  assert.equal(parsed.account, '123456789012');
  assert.ok(!parsed.incidents.some((i: Incident) => i.id.endsWith(':ap-south-1')), 'a home region is not flagged');
  const bad = await runCli(['audit', '--regions', 'us-east-1,mars-north-1'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /not an enabled region of this account: mars-north-1/);
  const clean = await runCli(['audit', '--regions', 'eu-west-1', '--home-regions', 'eu-west-1', '--max-key-age', '365', '--unused-key-days', '365'], dir);
  outputs.push(clean.out);
  // IAM findings are account-wide: intern still lacks MFA.
  assert.equal(clean.code, 1);
  assert.doesNotMatch(clean.out, /stale-key|open-ingress/);
});

test('audit: a denied IAM call is reported, EC2 checks still run', async (t) => {
  const proxy = await startFaultProxy(moto.endpoint);
  t.after(() => proxy.stop());
  proxy.inject('ListUsers', 'deny', 10);
  const snap = await snapshotAccount(target(proxy.endpoint), { regions: REGIONS });
  assert.equal(snap.users, undefined);
  assert.match(snap.errors.join('\n'), /AWS denied ListUsers .* needs iam:ListUsers/);
  const drafts = checkAccount(snap, { ...DEFAULT_CHECKS, now: new Date() });
  assert.ok(drafts.some((d) => d.type === 'open-ingress'));
  assert.ok(!drafts.some((d) => d.type === 'no-mfa'));
});

test('action: revoke ingress removes only the world-open SSH rule and records it', async (t) => {
  const { book } = await auditedBook(t);
  const id = `open-ingress:123456789012:us-east-1:${seed.web.group}`;
  const { plan, result } = await act(book, id, 'revoke-ingress');
  assert.equal(result.ok, true, result.error);
  assert.deepEqual(plan.calls.map((c) => c.api), ['ec2:RevokeSecurityGroupIngress', 'ec2:CreateTags']);
  const rules = (await ec2().send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [seed.web.group] }] }))).SecurityGroupRules ?? [];
  const ingress = rules.filter((r) => !r.IsEgress).map((r) => r.FromPort);
  assert.deepEqual(ingress, [443]);
  const inc = book.get(id) as Incident;
  const entry = inc.timeline.find((e) => e.kind === 'action');
  assert.match(entry?.text ?? '', /Revoke open ingress on sg-/);
  assert.equal(entry?.actor, ACTOR);
  assert.ok(entry?.calls?.every((c) => c.ok));
  assert.equal(inc.steps['Contain/revoke']?.done, true);
  // planning again finds nothing to revoke
  await assert.rejects(planAction(actionTargets(inc, 'revoke-ingress')[0]!, inc, new AwsContainment(target())), /nothing to revoke/);
});

test('action: isolate swaps in an empty group, protects, snapshots and tags; terminate then needs no more', async (t) => {
  const { book } = await auditedBook(t);
  const id = 'unknown-resources:123456789012:ap-south-1';
  const south = ec2('ap-south-1');
  // terminating before any snapshot is refused
  await assert.rejects(planAction(actionTargets(book.get(id)!, 'terminate-instance')[0]!, book.get(id)!, new AwsContainment(target())), /refusing to terminate .* no snapshot/);
  const before = (await south.send(new DescribeInstancesCommand({ InstanceIds: [seed.stray.instance] }))).Reservations?.[0]?.Instances?.[0];
  const previous = (before?.SecurityGroups ?? []).map((g) => g.GroupId).join(' ') || '-';
  const { plan, result } = await act(book, id, 'isolate-instance');
  assert.equal(result.ok, true, result.error);
  // (shutdown behaviour is already "stop", AWS's default for EBS-backed instances, so it is not set again)
  // issue 15: originals recorded first, then each interface through the all-traffic group to the isolation group
  assert.deepEqual(plan.calls.map((c) => c.api), ['ec2:ModifyInstanceAttribute', 'ec2:CreateTags', 'ec2:CreateTags', 'ec2:CreateSecurityGroup', 'ec2:CreateSecurityGroup', 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:DeleteSecurityGroup', 'ec2:CreateSnapshots']);
  const inst = (await south.send(new DescribeInstancesCommand({ InstanceIds: [seed.stray.instance] }))).Reservations?.[0]?.Instances?.[0];
  const groups = inst?.SecurityGroups?.map((g) => g.GroupName);
  assert.deepEqual(groups, ['keysentry-isolation']);
  const isoId = inst?.SecurityGroups?.[0]?.GroupId as string;
  const isoRules = (await south.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [isoId] }] }))).SecurityGroupRules ?? [];
  assert.equal(isoRules.length, 0, 'no inbound and no outbound rule');
  const prot = await south.send(new DescribeInstanceAttributeCommand({ InstanceId: seed.stray.instance, Attribute: 'disableApiTermination' }));
  assert.equal(prot.DisableApiTermination?.Value, true);
  const tags = Object.fromEntries((inst?.Tags ?? []).map((x) => [x.Key, x.Value]));
  assert.equal(tags['keysentry:incident'], id);
  assert.equal(tags['keysentry:previous-groups'], previous);
  assert.ok(tags['keysentry:isolated-at']);
  const vols = (inst?.BlockDeviceMappings ?? []).map((b) => b.Ebs?.VolumeId as string);
  const snaps = (await south.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: vols }] }))).Snapshots ?? [];
  assert.equal(snaps.length, vols.length);
  assert.equal(book.get(id)?.steps['Contain/isolate']?.done, true);

  // terminate: snapshots exist; protection is on because Keysentry turned it on → turned off first
  const term = await act(book, id, 'terminate-instance');
  assert.equal(term.result.ok, true, term.result.error);
  assert.deepEqual(term.plan.calls.map((c) => c.api), ['ec2:ModifyInstanceAttribute', 'ec2:TerminateInstances']);
  assert.match(term.plan.warnings.join('\n'), /Keysentry turned it on while isolating/);
  const state = (await south.send(new DescribeInstancesCommand({ InstanceIds: [seed.stray.instance] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name;
  assert.match(state ?? '', /terminated|shutting-down/);
  assert.deepEqual(book.get(id)?.timeline.filter((e) => e.kind === 'action').map((e) => e.text.replace(/ i-\w+/, '')), ['Isolate instance: done', 'Terminate instance: done']);
});

test('action: terminate warns when termination protection was turned on by someone else', async (t) => {
  const { book } = await auditedBook(t);
  const id = 'unknown-resources:123456789012:us-east-1:recent';
  const east = ec2();
  await east.send(new ModifyInstanceAttributeCommand({ InstanceId: seed.recent, DisableApiTermination: { Value: true } }));
  await east.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: seed.recent } }));
  const plan = await planAction(actionTargets(book.get(id)!, 'terminate-instance')[0]!, book.get(id)!, new AwsContainment(target()));
  assert.match(plan.warnings.join('\n'), /Keysentry did not turn it on: attackers set it/);
  assert.equal(plan.calls[0]?.what, 'turn termination protection off');
});

test('action: stop, delete key pair, restrict egress, deactivate key and revoke sessions each do what they say', async (t) => {
  const { book } = await auditedBook(t);
  const stray = 'unknown-resources:123456789012:ap-south-1';
  assert.equal((await act(book, stray, 'stop-instance')).result.ok, true);
  const st = (await ec2('ap-south-1').send(new DescribeInstancesCommand({ InstanceIds: [seed.stray.instance] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name;
  assert.match(st ?? '', /stopp/);
  assert.equal((await act(book, stray, 'delete-key-pair')).result.ok, true);
  await assert.rejects(ec2('ap-south-1').send(new DescribeKeyPairsCommand({ KeyNames: ['relay'] })), /InvalidKeyPair\.NotFound|does not exist/);

  // restrict egress on the web group (a data-transfer incident opened by hand)
  const dt = book.add({ id: 'manual:dt', type: 'data-transfer', severity: 'high', title: 'Night-time transfer', summary: 's', source: 'manual', resources: [{ kind: 'security-group', id: seed.web.group, region: 'us-east-1' }], facts: [] }, ACTOR, 'Opened by hand');
  assert.equal((await act(book, dt.id, 'restrict-egress')).result.ok, true);
  const egress = ((await ec2().send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [seed.web.group] }] }))).SecurityGroupRules ?? []).filter((r) => r.IsEgress);
  assert.equal(egress.length, 0);

  const stale = `stale-key:123456789012:${seed.oldKeyId}`;
  assert.equal((await act(book, stale, 'deactivate-key')).result.ok, true);
  const keys = (await iam().send(new ListAccessKeysCommand({ UserName: 'ci-deploy' }))).AccessKeyMetadata ?? [];
  assert.equal(keys.find((k) => k.AccessKeyId === seed.oldKeyId)?.Status, 'Inactive');
  assert.equal(book.get(stale)?.status, 'contained', 'its only Contain step is done');

  const exposed = book.add({ id: 'manual:ek', type: 'exposed-key', severity: 'critical', title: 'k', summary: 's', source: 'manual', resources: [{ kind: 'access-key', id: seed.admin.id, user: 'admin' }, { kind: 'user', id: 'ci-deploy' }], facts: [] }, ACTOR, 'Opened by hand');
  // signing with the key being deactivated is refused
  await assert.rejects(planAction(actionTargets(exposed, 'deactivate-key')[0]!, exposed, new AwsContainment(target())), /you are signing with .* itself/);
  assert.equal((await act(book, exposed.id, 'revoke-sessions')).result.ok, true);
  const pol = await iam().send(new GetUserPolicyCommand({ UserName: 'ci-deploy', PolicyName: 'KeysentryRevokeOlderSessions' }));
  assert.match(decodeURIComponent(pol.PolicyDocument ?? ''), /aws:TokenIssueTime/);
});

test('action: a denied call stops the plan, is explained in the timeline, and the checklist is kept', async (t) => {
  const { book, file } = await auditedBook(t);
  const id = 'unknown-resources:123456789012:ap-south-1';
  book.setStep(id, 'Contain/confirm', true, ACTOR);
  const proxy = await startFaultProxy(moto.endpoint);
  t.after(() => proxy.stop());
  proxy.inject('CreateSecurityGroup', 'deny', 1);
  const { result } = await act(book, id, 'isolate-instance', undefined, proxy.endpoint);
  assert.equal(result.ok, false);
  assert.match(result.error ?? '', /AWS denied CreateSecurityGroup.*ec2:CreateSecurityGroup/);
  assert.match(result.error ?? '', /Not run: .*ec2:ModifyNetworkInterfaceAttribute .*ec2:CreateSnapshots/);
  const reread = new IncidentBook(file).get(id) as Incident;
  assert.equal(reread.steps['Contain/confirm']?.done, true);
  assert.equal(reread.steps['Contain/isolate'], undefined);
  const err = reread.timeline.at(-1);
  assert.equal(err?.kind, 'error');
  assert.deepEqual(err?.calls?.map((c) => `${c.api}:${c.ok}`), ['ec2:ModifyInstanceAttribute:true', 'ec2:CreateTags:true', 'ec2:CreateTags:true', 'ec2:CreateSecurityGroup:false']);
  // the instance keeps its groups: nothing after the failure ran
  const inst = (await ec2('ap-south-1').send(new DescribeInstancesCommand({ InstanceIds: [seed.stray.instance] }))).Reservations?.[0]?.Instances?.[0];
  assert.notDeepEqual(inst?.SecurityGroups?.map((g) => g.GroupName), ['keysentry-isolation']);
  // and the same action succeeds once AWS allows it
  assert.equal((await act(book, id, 'isolate-instance')).result.ok, true);
});

test('action: throttling is retried; when it persists the failure says so and nothing is lost', async (t) => {
  const { book, file } = await auditedBook(t);
  const id = `open-ingress:123456789012:us-east-1:${seed.web.group}`;
  book.setStep(id, 'Investigate/who', true, ACTOR);
  const proxy = await startFaultProxy(moto.endpoint);
  t.after(() => proxy.stop());
  process.env.KEYSENTRY_AWS_MAX_ATTEMPTS = '3';
  proxy.inject('RevokeSecurityGroupIngress', 'throttle', 3);
  const failed = await act(book, id, 'revoke-ingress', undefined, proxy.endpoint);
  assert.equal(failed.result.ok, false);
  assert.match(failed.result.error ?? '', /kept throttling RevokeSecurityGroupIngress after 3 attempts/);
  assert.equal(proxy.injected.get('RevokeSecurityGroupIngress'), 3);
  assert.equal(new IncidentBook(file).get(id)?.steps['Investigate/who']?.done, true);
  proxy.inject('RevokeSecurityGroupIngress', 'throttle', 2);
  const ok = await act(book, id, 'revoke-ingress', undefined, proxy.endpoint);
  assert.equal(ok.result.ok, true, ok.result.error);
  assert.equal(proxy.injected.get('RevokeSecurityGroupIngress'), 5);
});

test('incidents: export then import into another book merges without losing anything; bad files are refused', async (t) => {
  const dir = tempDir(t);
  const a = new IncidentBook(path.join(dir, 'a.json'));
  await auditInto(a);
  const id = `stale-key:123456789012:${seed.oldKeyId}`;
  a.setStep(id, 'Investigate/lastused', true, ACTOR);
  const b = new IncidentBook(path.join(dir, 'b.json'));
  b.add({ id, type: 'stale-key', severity: 'low', title: 't', summary: 's', source: 'audit', resources: [], facts: [] }, 'colleague', 'note from b');
  b.record(id, { actor: 'colleague', kind: 'note', text: 'asked the CI owner' });
  const res = b.import(a.export(), ACTOR);
  assert.deepEqual(res, { added: a.incidents.length - 1, merged: 1 }); // every incident of a's audit, one of them merged into b's
  const merged = b.get(id) as Incident;
  assert.ok(merged.timeline.some((e) => e.text === 'asked the CI owner'));
  assert.ok(merged.timeline.some((e) => e.kind === 'detected'));
  assert.equal(merged.steps['Investigate/lastused']?.done, true);
  assert.throws(() => b.import('{"format":"keysentry-incidents","version":1,"incidents":[{"id":"x","type":"nope"}]}', ACTOR), /incident 1 has an invalid type "nope"; nothing was imported/);
  assert.throws(() => b.import('not json', ACTOR), /not valid JSON/);
  assert.equal(new IncidentBook(path.join(dir, 'b.json')).incidents.length, a.incidents.length);
});

test('incidents: an unreadable store is kept aside, never overwritten', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'incidents.json');
  writeFileSync(file, '{"format":"keysentry-incidents","version":1,"incidents":[{"id":');
  const book = new IncidentBook(file);
  assert.match(book.loadProblem ?? '', /not valid JSON.*kept as .*unreadable-/);
  const aside = readdirSync(dir).find((f) => f.includes('.unreadable-'));
  assert.ok(aside);
  assert.match(readFileSync(path.join(dir, aside), 'utf8'), /"id":$/);
});

test('report: Markdown for the reply to AWS lists actions with time, actor and API calls, and open steps', async (t) => {
  const { book } = await auditedBook(t);
  const id = `open-ingress:123456789012:us-east-1:${seed.web.group}`;
  await act(book, id, 'revoke-ingress');
  const md = incidentReport(book.get(id)!, RUNBOOKS['open-ingress'], ACTOR);
  outputs.push(md);
  assert.match(md, /^# sg-.* is open to the internet on SSH \(22\)/);
  assert.match(md, /## Actions taken\n\n- \d{4}-.* · tester as arn:aws:iam::123456789012:user\/admin · Revoke open ingress on sg-\w+: done/);
  assert.match(md, /`ec2:RevokeSecurityGroupIngress` sg-\w+ \(us-east-1\): done/);
  assert.match(md, /- \[x\] Revoke the open rules/);
  assert.match(md, /- \[ \] Check for logins/);
  assert.equal(fillPlaceholders('aws ec2 revoke-security-group-ingress --group-id {group} --region {region}', book.get(id)!), `aws ec2 revoke-security-group-ingress --group-id ${seed.web.group} --region us-east-1`);
});

test('incidents: status changes are recorded with who and when; setting the same status records nothing', async (t) => {
  const file = path.join(tempDir(t), 'incidents.json');
  const book = new IncidentBook(file);
  book.add({ id: 'manual:x', type: 'data-transfer', severity: 'high', title: 'Night-time transfer', summary: 's', source: 'manual', resources: [], facts: [] }, ACTOR, 'Opened by hand');
  book.setStatus('manual:x', 'contained', ACTOR, 'egress closed');
  book.setStatus('manual:x', 'contained', ACTOR);
  book.setStatus('manual:x', 'resolved', 'colleague');
  const inc = new IncidentBook(file).get('manual:x') as Incident;
  assert.equal(inc.status, 'resolved');
  assert.deepEqual(inc.timeline.map((e) => `${e.kind}|${e.actor}|${e.text}`), [`note|${ACTOR}|Opened by hand`, `status|${ACTOR}|Status open → contained: egress closed`, 'status|colleague|Status contained → resolved']);
  assert.throws(() => book.setStatus('nope', 'open', ACTOR), /no incident "nope"/);
});

// What the attacker left behind, found from CloudTrail and removed, against moto through the real
// SDK: the seeded attack (test/aws/seedAttack.mjs) is investigated with the real LookupEvents
// adapter, every resource gets its ownership and removal, and each removal's plan is run and its
// effect read back from moto. The owner's own resources get no removal.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateSnapshotsCommand, DescribeInstancesCommand, DescribeKeyPairsCommand, DescribeSecurityGroupRulesCommand, DescribeSpotInstanceRequestsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateAccessKeyCommand, CreateUserCommand, GetUserCommand, IAMClient, ListAccessKeysCommand, ListAttachedUserPoliciesCommand, ListUserPoliciesCommand, ListVirtualMFADevicesCommand } from '@aws-sdk/client-iam';
import { lookupEvents } from '../../src/aws/cloudtrail';
import { AwsRemoval } from '../../src/aws/removal';
import { describePlan, planAction, runPlan, type ActionTarget } from '../../src/core/incidents/actions';
import { callerUser, userDeletionCalls, type UserHoldings } from '../../src/core/incidents/removal';
import type { Incident } from '../../src/core/incidents/types';
import { investigate, type Investigation } from '../../src/core/investigate/investigation';
import type { PersistenceItem } from '../../src/core/investigate/persistence';
import { explainCall } from '../../src/aws/account';
import { startMoto, type Moto } from '../aws/moto.mjs';
import { seedAttack, type SeededAttack } from '../aws/seedAttack.mjs';

const creds = { accessKeyId: 'seed', secretAccessKey: 'seed' };
const DAY = 86_400_000;
let moto: Moto;
let attack: SeededAttack;
let inv: Investigation;
let leaked: string;
let adminKey: { id: string; secret: string };
const secrets: string[] = [];

const incident: Incident = { id: 'exposed-key:test', type: 'exposed-key', severity: 'critical', title: 't', summary: 's', source: 'manual', resources: [], facts: [], status: 'open', createdAt: '', updatedAt: '', steps: {}, timeline: [] };

before(async () => {
  moto = await startMoto();
  const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: creds });
  await iam.send(new CreateUserCommand({ UserName: 'secops' }));
  const admin = (await iam.send(new CreateAccessKeyCommand({ UserName: 'secops' }))).AccessKey!;
  adminKey = { id: admin.AccessKeyId!, secret: admin.SecretAccessKey! };
  await iam.send(new CreateUserCommand({ UserName: 'deploy-bot' }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'deploy-bot' }))).AccessKey!;
  leaked = k.AccessKeyId!;
  secrets.push(k.SecretAccessKey!, adminKey.secret);
  attack = await seedAttack(moto, { keyId: leaked, user: 'deploy-bot' }, 2);
  secrets.push(attack.backupSecret);
  process.env.AWS_ACCESS_KEY_ID = adminKey.id;
  process.env.AWS_SECRET_ACCESS_KEY = adminKey.secret;
  const target = { region: 'us-east-1', endpoint: moto.endpoint };
  const now = new Date();
  const since = new Date(now.getTime() - 2 * DAY);
  const r = await investigate((attribute, window) => lookupEvents(target, attribute, ['us-east-1', 'ap-south-1', 'eu-north-1', 'eu-west-1'], window), {
    subject: { accessKeyId: leaked },
    regions: ['us-east-1', 'ap-south-1', 'eu-north-1', 'eu-west-1'],
    from: new Date(since.getTime() - 30 * DAY),
    to: now,
    exposure: { since: since.toISOString(), source: 'flag', detail: 'test' },
  });
  inv = r.investigation;
});
after(() => {
  moto?.stop();
  // Nothing the investigation keeps (it is stored and rendered) holds a secret.
  const stored = JSON.stringify(inv ?? {});
  for (const s of secrets) assert.ok(!stored.includes(s), 'a secret reached the investigation record');
});

const ops = (): AwsRemoval => new AwsRemoval({ region: 'us-east-1', endpoint: moto.endpoint });
const find = (type: PersistenceItem['type'], id?: string): PersistenceItem => {
  const it = inv.resources.find((r) => r.type === type && (id === undefined || r.id === id));
  assert.ok(it, `${type} ${id ?? ''} found: ${inv.resources.map((r) => `${r.type}:${r.id}`).join(', ')}`);
  return it;
};
async function remove(item: PersistenceItem): Promise<{ plan: string; ok: boolean; error?: string }> {
  assert.ok(item.removal, `${item.type} ${item.id} has a removal`);
  const target: ActionTarget = item.removal;
  const plan = await planAction(target, incident, ops());
  const result = await runPlan(plan, (api, e) => explainCall(api, e));
  return { plan: describePlan(plan), ok: result.ok, error: result.error };
}

test('investigation: ownership, removals, the attacker key followed', () => {
  const attacker = inv.resources.filter((r) => r.ownership === 'attacker').map((r) => `${r.type}:${r.id}`).sort();
  assert.deepEqual(
    attacker,
    [
      `access-key:${attack.backupKey}`,
      'attached-policy:backup:arn:aws:iam::aws:policy/AdministratorAccess',
      'iam-user:backup',
      'iam-user:svc-metrics',
      ...attack.instances.map((i) => `instance:${i}`),
      'key-pair:m1n3r',
      'login-profile:backup',
      `security-group-rule:${attack.group}:${attack.rule}`,
      `spot-request:${attack.spot}`,
      'user-policy:backup:sync',
    ].sort(),
  );
  for (const r of inv.resources.filter((x) => x.ownership === 'attacker')) assert.ok(r.removal, `${r.type} ${r.id} has a removal`);
  const reporting = find('iam-user', 'reporting');
  assert.equal(reporting.ownership, 'owner-before-exposure');
  assert.equal(reporting.removal, undefined, "the owner's own user gets no removal");
  assert.deepEqual(inv.followed.map((f) => [f.keyId, f.createdBy, f.events]), [[attack.backupKey, leaked, 2]]);
  assert.equal(find('iam-user', 'svc-metrics').by, attack.backupKey, 'found through the followed key');
  assert.ok(inv.timeline.every((e) => e.time >= inv.exposure.since && e.ip !== '203.0.113.10'), 'the timeline holds only the attacker calls');
  assert.equal(inv.timeline.length, 18);
});

test('removal: detach the policy, delete the inline policy and the console password', async () => {
  const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: creds });
  const d = await remove(find('attached-policy'));
  assert.ok(d.ok, d.error);
  assert.match(d.plan, /iam:DetachUserPolicy on backup: detach arn:aws:iam::aws:policy\/AdministratorAccess/);
  assert.deepEqual((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'backup' }))).AttachedPolicies, []);
  const again = await planAction(find('attached-policy').removal!, incident, ops()).then(() => 'planned', (e: Error) => e.message);
  assert.match(again, /no longer attached/);
  const p = await remove(find('user-policy'));
  assert.ok(p.ok, p.error);
  assert.deepEqual((await iam.send(new ListUserPoliciesCommand({ UserName: 'backup' }))).PolicyNames, []);
  const l = await remove(find('login-profile'));
  assert.ok(l.ok, l.error);
});

test('removal: the attacker key is deactivated, then deleted', async () => {
  const r = await remove(find('access-key'));
  assert.ok(r.ok, r.error);
  assert.match(r.plan, /1\. iam:UpdateAccessKey .*Inactive[\s\S]*2\. iam:DeleteAccessKey/);
  const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: creds });
  assert.deepEqual((await iam.send(new ListAccessKeysCommand({ UserName: 'backup' }))).AccessKeyMetadata, []);
});

test('removal: the user is emptied in the order IAM requires, then deleted', async () => {
  const r = await remove(find('iam-user', 'backup'));
  assert.ok(r.ok, r.error);
  const order = [...r.plan.matchAll(/^ {2}\d+\. (\S+)/gm)].map((m) => m[1]);
  assert.deepEqual(order, ['iam:DeactivateMFADevice', 'iam:DeleteVirtualMFADevice', 'iam:DeleteSSHPublicKey', 'iam:RemoveUserFromGroup', 'iam:DeleteUser']);
  const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: creds });
  const gone = await iam.send(new GetUserCommand({ UserName: 'backup' })).then(() => false, (e: Error) => e.name === 'NoSuchEntityException' || e.name === 'NoSuchEntity');
  assert.ok(gone, 'backup no longer exists');
  assert.ok(!((await iam.send(new ListVirtualMFADevicesCommand({}))).VirtualMFADevices ?? []).some((d) => d.SerialNumber === attack.mfa), 'its virtual MFA device is deleted');
  const again = await planAction(find('iam-user', 'backup').removal!, incident, ops()).then(() => 'planned', (e: Error) => e.message);
  assert.match(again, /not found/);
});

test('removal: the full IAM order, every kind of holding (pure)', () => {
  const h: UserHoldings = { name: 'u', arn: 'arn', keys: [{ id: 'AKIA1', status: 'Active' }, { id: 'AKIA2', status: 'Inactive' }], loginProfile: true, mfaDevices: ['arn:aws:iam::1:mfa/u', 'GAHT12345678'], signingCertificates: ['C1'], sshPublicKeys: ['APKA1'], serviceCredentials: ['ACCA1'], attachedPolicies: ['arn:p'], inlinePolicies: ['i'], groups: ['g'] };
  const apis = userDeletionCalls(h, ops()).map((c) => `${c.api} ${c.target}`);
  assert.deepEqual(apis, [
    'iam:UpdateAccessKey AKIA1',
    'iam:DeleteAccessKey AKIA1',
    'iam:DeleteAccessKey AKIA2',
    'iam:DeleteLoginProfile u',
    'iam:DeactivateMFADevice arn:aws:iam::1:mfa/u',
    'iam:DeleteVirtualMFADevice arn:aws:iam::1:mfa/u',
    'iam:DeactivateMFADevice GAHT12345678',
    'iam:DeleteSigningCertificate C1',
    'iam:DeleteSSHPublicKey APKA1',
    'iam:DeleteServiceSpecificCredential ACCA1',
    'iam:DetachUserPolicy u',
    'iam:DeleteUserPolicy u',
    'iam:RemoveUserFromGroup u',
    'iam:DeleteUser u',
  ]);
  assert.equal(callerUser('arn:aws:iam::123456789012:user/ops/secops'), 'secops');
  assert.equal(callerUser('arn:aws:sts::123456789012:assumed-role/r/s'), undefined);
});

test('removal: refuses to delete the user it signs as', async () => {
  const me: ActionTarget = { kind: 'delete-user', resource: { kind: 'user', id: 'secops' }, label: 'Delete user secops' };
  await assert.rejects(planAction(me, incident, ops()), /you are signing as IAM user secops/);
});

test('removal: cancel the spot request, delete the key pair, revoke the rule', async () => {
  const ec2 = new EC2Client({ region: attack.region, endpoint: moto.endpoint, credentials: creds });
  const s = await remove(find('spot-request'));
  assert.ok(s.ok, s.error);
  const state = (await ec2.send(new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [attack.spot] }))).SpotInstanceRequests?.[0]?.State;
  assert.ok(state === undefined || state === 'cancelled', `the request is cancelled (moto forgets it), not ${state}`);
  const k = await remove(find('key-pair'));
  assert.ok(k.ok, k.error);
  assert.deepEqual((await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs?.filter((p) => p.KeyName === 'm1n3r'), []);
  const rule = await remove(find('security-group-rule'));
  assert.ok(rule.ok, rule.error);
  const left = (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [attack.group] }] }))).SecurityGroupRules ?? [];
  assert.ok(!left.some((r) => r.SecurityGroupRuleId === attack.rule), 'the rule is gone');
});

test('removal: instances are terminated only after their snapshots', async () => {
  const item = find('instance', attack.instances[0]);
  await assert.rejects(planAction(item.removal!, incident, ops()), /has no snapshot/);
  const ec2 = new EC2Client({ region: attack.region, endpoint: moto.endpoint, credentials: creds });
  await ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: item.id } }));
  const r = await remove(item);
  assert.ok(r.ok, r.error);
  const st = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [item.id] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name;
  assert.ok(st === 'shutting-down' || st === 'terminated', st);
});

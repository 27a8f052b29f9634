// The hardening checks and their actions against moto through the real SDK (moto implements
// GuardDuty detectors, CloudTrail trails and their status, CloudWatch alarms, Budgets and Account
// alternate contacts; nothing is emulated here). Each check finds what is missing and not what is
// present; each action, planned and then run, has its effect in moto; a denied or throttled read
// is a warning, leaves its incident as it was, and the rest of the audit runs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { CloudTrailClient, CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { BudgetsClient, DescribeNotificationsForBudgetCommand } from '@aws-sdk/client-budgets';
import { AccountClient, GetAlternateContactCommand } from '@aws-sdk/client-account';
import { GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, ListAccessKeysCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { snapshotAccount } from '../../src/aws/account';
import { resolveTarget } from '../../src/aws/clients';
import { AwsHardening } from '../../src/aws/hardening';
import { actionTargets, describePlan, runPlan } from '../../src/core/incidents/actions';
import { IncidentBook } from '../../src/core/incidents/book';
import { auditCovers, checkAccount, DEFAULT_CHECKS } from '../../src/core/incidents/checks';
import { BUDGET_NAME, hardeningChecks, planHardening, type HardeningFacts } from '../../src/core/incidents/hardening';
import { explainCall } from '../../src/aws/account';
import type { AccountSnapshot, Incident, IncidentDraft } from '../../src/core/incidents/types';
import { assertNoSecret, tempDir } from './helpers';
import { startFaultProxy, startMoto, type Moto } from '../aws/moto.mjs';
import { seedAccount, type SeededAccount } from '../aws/seedAccount.mjs';

const REGIONS = ['us-east-1', 'ap-south-1', 'eu-west-1'];
const ACCOUNT = '123456789012';
const HARDENING = ['guardduty-off', 'no-trail', 'no-billing-alert', 'no-security-contact'];
let moto: Moto;
let seed: SeededAccount;
const outputs: string[] = [];
const secrets: string[] = [];
const seedCreds = { accessKeyId: 'seed', secretAccessKey: 'seed' };

// One account for the whole file (seedAccount takes tens of seconds in moto); the tests run in order
// and each leaves the account as the next one expects: everything missing, then fixed by the actions.
before(async () => {
  moto = await startMoto();
  seed = await seedAccount(moto);
  secrets.push(...seed.secrets);
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: seed.admin.id, AWS_SECRET_ACCESS_KEY: seed.admin.secret, AWS_REGION: 'us-east-1', KEYSENTRY_AWS_MAX_ATTEMPTS: '2' });
  delete process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_PROFILE;
});
after(() => {
  moto?.stop();
  assertNoSecret(outputs, secrets);
});

async function audit(endpoint = moto.endpoint) {
  const snap = await snapshotAccount(resolveTarget({ region: 'us-east-1', endpoint }), { regions: REGIONS });
  const drafts = checkAccount(snap, { ...DEFAULT_CHECKS, now: new Date() });
  outputs.push(JSON.stringify(drafts), JSON.stringify(snap));
  return { snap, drafts };
}
const byType = (drafts: IncidentDraft[], type: string) => drafts.find((d) => d.type === type);
const asIncident = (d: IncidentDraft): Incident => ({ ...d, source: 'audit', account: ACCOUNT, status: 'open', createdAt: '', updatedAt: '', steps: {}, timeline: [] });

test('hardening: a bare account lacks every protection, each said with what it protects against', async () => {
  const { drafts, snap } = await audit();
  assert.deepEqual(snap.errors, []);
  assert.deepEqual(drafts.filter((d) => HARDENING.includes(d.type)).map((d) => d.type).sort(), [...HARDENING].sort());
  const gd = byType(drafts, 'guardduty-off')!;
  assert.equal(gd.title, 'GuardDuty is off in every audited region (3)');
  assert.deepEqual(gd.resources.filter((r) => r.kind === 'region').map((r) => r.id), ['us-east-1', 'ap-south-1', 'eu-west-1'], 'home region first');
  assert.match(gd.summary, /paid service after its 30-day free trial/);
  assert.match(byType(drafts, 'no-trail')!.facts.map(([, v]) => v).join(' '), /90 days of management events remain/);
  assert.match(byType(drafts, 'no-security-contact')!.summary, /abuse notices/);
});

test('hardening actions: planned with the state read first, nothing changed before running, then each has its effect in moto', async () => {
  const { drafts } = await audit();
  const ops = new AwsHardening(resolveTarget({ region: 'us-east-1', endpoint: moto.endpoint }));
  const explain = (api: string, e: unknown) => explainCall(api, e);

  // GuardDuty in ap-south-1.
  const gd = asIncident(byType(drafts, 'guardduty-off')!);
  const gdTarget = actionTargets(gd, 'enable-guardduty').find((t) => t.resource.id === 'ap-south-1')!;
  const gdPlan = await planHardening(gdTarget, gd, ops);
  assert.match(describePlan(gdPlan), /guardduty:ListDetectors in ap-south-1: no detector[\s\S]*1\. guardduty:CreateDetector on ap-south-1[\s\S]*paid service after its 30-day free trial/);
  const south = new GuardDutyClient({ region: 'ap-south-1', endpoint: moto.endpoint, credentials: seedCreds });
  assert.deepEqual((await south.send(new ListDetectorsCommand({}))).DetectorIds, [], 'planning changes nothing');
  assert.equal((await runPlan(gdPlan, explain)).ok, true);
  assert.equal((await south.send(new ListDetectorsCommand({}))).DetectorIds?.length, 1);
  await assert.rejects(planHardening(gdTarget, gd, ops), /already has a detector in ap-south-1/);

  // A budget that e-mails the address the user typed; a bad address is refused before any call.
  const bill = asIncident(byType(drafts, 'no-billing-alert')!);
  const [budgetTarget] = actionTargets(bill, 'create-budget');
  for (const email of ['not-an-address', 'a@b.c\nBcc: x@y.z', '<script>@x.y']) await assert.rejects(planHardening(budgetTarget!, bill, ops, { email, limitUsd: '20' }), /e-mail address/);
  await assert.rejects(planHardening(budgetTarget!, bill, ops, { email: 'ops@example.com', limitUsd: '-5' }), /positive amount/);
  const budgetPlan = await planHardening(budgetTarget!, bill, ops, { email: 'ops@example.com', limitUsd: '25' });
  assert.match(describePlan(budgetPlan), /budgets:CreateBudget on keysentry-monthly-budget: create a monthly cost budget of USD 25 that e-mails ops@example.com/);
  assert.equal((await runPlan(budgetPlan, explain)).ok, true);
  const budgets = new BudgetsClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: seedCreds });
  const notes = (await budgets.send(new DescribeNotificationsForBudgetCommand({ AccountId: ACCOUNT, BudgetName: BUDGET_NAME }))).Notifications ?? [];
  assert.deepEqual(notes.map((n) => [n.NotificationType, n.Threshold]).sort(), [['ACTUAL', 80], ['FORECASTED', 100]]);

  // The security contact.
  const contact = asIncident(byType(drafts, 'no-security-contact')!);
  const [contactTarget] = actionTargets(contact, 'set-security-contact');
  const contactPlan = await planHardening(contactTarget!, contact, ops, { email: 'security@example.com', name: 'Security team', phone: '+1 555 0100', title: 'Security' });
  assert.match(describePlan(contactPlan), /account:GetAlternateContact SECURITY: none set[\s\S]*account:PutAlternateContact/);
  assert.equal((await runPlan(contactPlan, explain)).ok, true);
  const acc = new AccountClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: seedCreds });
  assert.equal((await acc.send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' }))).AlternateContact?.EmailAddress, 'security@example.com');
});

test('deactivate every access key except the one signing: the plan lists each key, and afterwards only the signer is active', async () => {
  const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: seedCreds });
  await iam.send(new CreateUserCommand({ UserName: 'relay-bot' }));
  const extra = (await iam.send(new CreateAccessKeyCommand({ UserName: 'relay-bot' }))).AccessKey!;
  secrets.push(extra.SecretAccessKey!);
  const second = (await iam.send(new CreateAccessKeyCommand({ UserName: 'admin' }))).AccessKey!;
  secrets.push(second.SecretAccessKey!);
  const inc = asIncident({ id: `data-transfer:${ACCOUNT}:ap-south-1:${seed.stray.instance}`, type: 'data-transfer', severity: 'high', title: 't', summary: 's', resources: [{ kind: 'account', id: ACCOUNT }], facts: [] });
  const [target] = actionTargets(inc, 'deactivate-other-keys');
  const ops = new AwsHardening(resolveTarget({ region: 'us-east-1', endpoint: moto.endpoint }));
  const plan = await planHardening(target!, inc, ops);
  const text = describePlan(plan);
  outputs.push(text);
  for (const id of [seed.oldKeyId, extra.AccessKeyId!, second.AccessKeyId!]) assert.match(text, new RegExp(`iam:UpdateAccessKey on ${id}`));
  assert.doesNotMatch(text, new RegExp(`UpdateAccessKey on ${seed.admin.id}`), 'the signing key is kept');
  assert.match(text, /one of them signing this plan \(kept\)/);
  const result = await runPlan(plan, (api, e) => explainCall(api, e));
  assert.equal(result.ok, true);
  const status = new Map<string, string>();
  for (const u of (await iam.send(new ListUsersCommand({}))).Users ?? []) for (const k of (await iam.send(new ListAccessKeysCommand({ UserName: u.UserName }))).AccessKeyMetadata ?? []) status.set(k.AccessKeyId!, k.Status!);
  assert.deepEqual([...status].filter(([, s]) => s === 'Active').map(([id]) => id), [seed.admin.id]);
  await assert.rejects(planHardening(target!, inc, ops), /nothing to deactivate/);
});

test('hardening: what is present is not reported (detector, budget, contact; a trail only once it is multi-region and logging)', async (t) => {
  const book = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  const merge = (a: Awaited<ReturnType<typeof audit>>) => book.mergeAudit(a.drafts, { account: ACCOUNT, actor: 't', covers: (i) => auditCovers(a.snap, i) });
  let a = await audit();
  merge(a);
  const gd = byType(a.drafts, 'guardduty-off')!;
  assert.deepEqual(gd.resources.filter((r) => r.kind === 'region').map((r) => r.id), ['us-east-1', 'eu-west-1'], 'ap-south-1 has its detector now');
  assert.equal(byType(a.drafts, 'no-billing-alert'), undefined, 'a budget exists');
  assert.equal(byType(a.drafts, 'no-security-contact'), undefined, 'a contact exists');
  assert.ok(byType(a.drafts, 'no-trail'));

  // A multi-region trail that is not logging is not enough; once logging, the incident resolves.
  assert.equal((await fetch(`${moto.endpoint}/keysentry-trail-bucket`, { method: 'PUT' })).status, 200);
  const ct = new CloudTrailClient({ region: 'eu-west-1', endpoint: moto.endpoint, credentials: seedCreds });
  await ct.send(new CreateTrailCommand({ Name: 'all-regions', S3BucketName: 'keysentry-trail-bucket', IsMultiRegionTrail: true }));
  a = await audit();
  merge(a);
  assert.match(byType(a.drafts, 'no-trail')!.facts[0]![1], /all-regions \(multi-region, not logging\)/);
  await ct.send(new StartLoggingCommand({ Name: 'all-regions' }));
  a = await audit();
  merge(a);
  assert.equal(byType(a.drafts, 'no-trail'), undefined, 'a multi-region trail in another home region, logging, is seen');
  assert.equal(book.get(`no-trail:${ACCOUNT}`)?.status, 'resolved');
});

test('hardening faults: denied or throttled reads are warnings; their incidents are neither opened nor resolved; the rest runs', async (t) => {
  const proxy = await startFaultProxy(moto.endpoint);
  t.after(() => proxy.stop());
  const book = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  const clean = await audit(proxy.endpoint);
  book.mergeAudit(clean.drafts, { account: ACCOUNT, actor: 't', covers: (i) => auditCovers(clean.snap, i) });
  assert.equal(book.get(`guardduty-off:${ACCOUNT}`)?.status, 'open');

  proxy.inject('ListDetectors', 'deny', 1000);
  proxy.inject('DescribeBudgets', 'throttle', 1000);
  proxy.inject('GetAlternateContact', 'deny', 1000);
  proxy.inject('DescribeTrails', 'deny', 1000);
  const a = await audit(proxy.endpoint);
  const errors = a.snap.errors.join('\n');
  assert.match(errors, /AWS denied ListDetectors/);
  assert.match(errors, /kept throttling DescribeBudgets/);
  assert.match(errors, /AWS denied GetAlternateContact/);
  assert.match(errors, /AWS denied DescribeTrails/);
  for (const type of HARDENING) assert.equal(byType(a.drafts, type), undefined, `${type}: unknown is not missing`);
  assert.ok(byType(a.drafts, 'open-ingress') && byType(a.drafts, 'no-mfa'), 'the other checks ran');
  book.mergeAudit(a.drafts, { account: ACCOUNT, actor: 't', covers: (i) => auditCovers(a.snap, i) });
  assert.equal(book.get(`guardduty-off:${ACCOUNT}`)?.status, 'open', 'not resolved by an audit that could not read it');
});

test('hardening checks (pure): a billing alarm alone is enough; one unread side with the other empty opens nothing', () => {
  const base: AccountSnapshot = { account: ACCOUNT, caller: 'x', takenAt: '', regions: ['us-east-1'], homeRegions: ['us-east-1'], securityGroups: [], instances: [], keyPairs: [], errors: [], unread: {} };
  const h = (x: Partial<HardeningFacts>) => hardeningChecks({ ...base, hardening: { guardDuty: { 'us-east-1': ['d'] }, trails: [], securityContact: { email: 'a@b.c' }, ...x } }).map((d) => d.type);
  assert.deepEqual(h({ billingAlarms: ['bill'], budgets: [] }), ['no-trail']);
  assert.deepEqual(h({ billingAlarms: [], budgets: ['b'] }), ['no-trail']);
  assert.deepEqual(h({ billingAlarms: [], budgets: [] }), ['no-trail', 'no-billing-alert']);
  assert.deepEqual(h({ billingAlarms: undefined, budgets: [] }), ['no-trail']);
  assert.deepEqual(h({ billingAlarms: [], trails: [{ name: 't', multiRegion: true, logging: undefined }] }), [], 'a trail whose status is unknown may be logging');
});

// The seed-2 story against moto through the real SDK: one instance in ap-south-1 sent ~209 GB to
// me-south-1 one night (NetworkOut put with PutMetricData), the others had ordinary days, and the
// bill (queued through moto's own Cost Explorer route) shows APS3-MES1-AWS-Out-Bytes jumping that
// day. `keysentry audit --traffic --costs` must find exactly that instance, that window and that
// route, name the figures in its JSON, and keep the rest of the audit when a call is throttled or denied.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { DescribeImagesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { snapshotAccount } from '../../src/aws/account';
import { resolveTarget } from '../../src/aws/clients';
import { auditCommand } from '../../src/cli/audit';
import { IncidentBook } from '../../src/core/incidents/book';
import { auditCovers, checkAccount, DEFAULT_CHECKS } from '../../src/core/incidents/checks';
import type { Io } from '../../src/cli/io';
import { assertNoSecret, tempDir } from './helpers';
import { startFaultProxy, startMoto, type Moto } from '../aws/moto.mjs';
import { seedAccount, type SeededAccount } from '../aws/seedAccount.mjs';
import { queueBill, seedTraffic, spikeWindow } from '../aws/seedTraffic.mjs';

const REGIONS = ['us-east-1', 'ap-south-1', 'eu-west-1'];
const ACCOUNT = '123456789012';
const TRAFFIC = { factor: 10, minBytes: 1e9, minCost: 1, timeZone: 'Asia/Kolkata' };
let moto: Moto;
let seed: SeededAccount;
let other: string;
const outputs: string[] = [];
const secrets: string[] = [];

// Seeded once (seedAccount takes tens of seconds in moto): no test here changes the account.
before(async () => {
  moto = await startMoto();
  await seed2();
});
after(() => {
  moto?.stop();
  assertNoSecret(outputs, secrets);
});
async function seed2(): Promise<void> {
  seed = await seedAccount(moto);
  secrets.push(...seed.secrets);
  // A second, ordinary instance in Mumbai: the audit must tell the sender from it.
  const south = new EC2Client({ region: 'ap-south-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'seed', secretAccessKey: 'seed' } });
  const image = (await south.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.[0]?.ImageId ?? 'ami-12c6146b';
  other = (await south.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }))).Instances![0]!.InstanceId!;
  await seedTraffic(moto.endpoint, {
    relay: seed.stray.instance,
    quiet: [
      { region: 'ap-south-1', instance: other },
      { region: 'us-east-1', instance: seed.web.instance },
    ],
    // moto's GetMetricData is quadratic in the datapoints it holds: three days keep it fast and hold the night.
    days: 3,
  });
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: seed.admin.id, AWS_SECRET_ACCESS_KEY: seed.admin.secret, AWS_REGION: 'us-east-1', KEYSENTRY_AWS_MAX_ATTEMPTS: '2' });
  delete process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_PROFILE;
}

async function audit(endpoint: string, extra: { trafficDays?: number; costDays?: number } = { trafficDays: 3, costDays: 7 }) {
  const snap = await snapshotAccount(resolveTarget({ region: 'us-east-1', endpoint }), { regions: REGIONS, ...extra });
  const drafts = checkAccount(snap, { ...DEFAULT_CHECKS, traffic: TRAFFIC, now: new Date() });
  outputs.push(JSON.stringify(drafts), JSON.stringify(snap.errors));
  return { snap, drafts };
}

test('seed 2: the audit finds exactly the Mumbai instance, its night window in local time, the route and the cost', async () => {
  const { billDay } = await queueBill(moto.endpoint, { days: 7 });
  const { start, end } = spikeWindow();
  const { drafts, snap } = await audit(moto.endpoint);
  assert.deepEqual(snap.errors, []);
  const dt = drafts.filter((d) => d.type === 'data-transfer');
  assert.deepEqual(
    dt.map((d) => d.id),
    [`data-transfer:${ACCOUNT}:ap-south-1:${seed.stray.instance}`],
    'one incident, keyed by the instance (so a notice about it joins it)',
  );
  const d = dt[0]!;
  const fact = (k: string): string => d.facts.filter(([x]) => x === k).map(([, v]) => v).join(' | ');
  assert.equal(d.severity, 'critical', 'traffic and bill agree');
  assert.match(fact('Window'), /between 01:10 and 04:40 on \d+ \w+ \(Asia\/Kolkata\)/);
  assert.match(fact('Window'), /packets/);
  assert.match(fact('Volume (NetworkOut)'), /^209 GB/);
  assert.match(fact('On the bill'), new RegExp(`APS3-MES1-AWS-Out-Bytes: ap-south-1 → me-south-1: 209.0 GB, USD 18.81 on ${billDay}`));
  assert.equal(fact('Route'), 'ap-south-1 → me-south-1');
  assert.match(fact('Cost'), /USD 18.81/);
  // The actions already built act on it: its instance, its groups, the account's keys.
  const kinds = d.resources.map((r) => `${r.kind}:${r.id}`);
  assert.ok(kinds.includes(`instance:${seed.stray.instance}`));
  assert.ok(kinds.includes('region:me-south-1'));
  assert.ok(kinds.includes(`account:${ACCOUNT}`));
  assert.ok(!kinds.includes(`instance:${other}`), 'the quiet Mumbai instance is not blamed');
  assert.ok(!drafts.some((x) => x.resources.some((r) => r.id === seed.web.instance) && x.type === 'data-transfer'));
  // Exactly that window, in UTC too.
  const spikes = (await import('../../src/core/incidents/dataTransfer')).trafficFigures(snap, TRAFFIC).traffic!.spikes;
  assert.deepEqual(
    spikes.map((x) => [x.instanceId, x.start, x.end]),
    [[seed.stray.instance, new Date(start).toISOString(), new Date(end).toISOString()]],
  );
});

test('keysentry audit --traffic --costs: the JSON names the figures, and says what Cost Explorer cost', async () => {
  await queueBill(moto.endpoint, { days: 14 });
  let out = '';
  const io: Io = { out: (s) => (out += s + '\n'), err: () => {}, cwd: process.cwd(), color: false, version: 'test' };
  const code = await auditCommand(['--traffic', '--traffic-days', '3', '--costs', '--cost-days', '14', '--regions', REGIONS.join(','), '--endpoint-url', moto.endpoint, '--format', 'json'], io);
  outputs.push(out);
  assert.equal(code, 1);
  const j = JSON.parse(out);
  assert.equal(j.traffic.days, 3);
  assert.equal(j.traffic.instancesChecked, 4);
  assert.ok(j.traffic.getMetricDataCalls >= 2);
  assert.deepEqual(
    j.traffic.spikes.map((s: { instanceId: string; gigabytes: number }) => [s.instanceId, Math.round(s.gigabytes)]),
    [[seed.stray.instance, 209]],
  );
  assert.equal(j.costs.getCostAndUsageCalls, 1);
  assert.equal(j.costs.costUsd, 0.01);
  assert.deepEqual(
    j.costs.spikes.map((s: { usageType: string; route: string; from: string; to: string; costUsd: number; gigabytes: number }) => [s.usageType, s.route, s.from, s.to, s.costUsd, s.gigabytes]),
    [['APS3-MES1-AWS-Out-Bytes', 'ap-south-1 → me-south-1', 'ap-south-1', 'me-south-1', 18.81, 209]],
  );
  assert.equal(j.incidents.filter((i: { type: string }) => i.type === 'data-transfer').length, 1);
  // Text output says the same figures.
  out = '';
  await queueBill(moto.endpoint, { days: 14 });
  await auditCommand(['--traffic', '--traffic-days', '3', '--costs', '--cost-days', '14', '--regions', REGIONS.join(','), '--endpoint-url', moto.endpoint], io);
  outputs.push(out);
  assert.match(out, /Costs: data transfer over 14 day\(s\), 1 Cost Explorer call\(s\) \(USD 0\.01\); 1 spike/);
  assert.match(out, /APS3-MES1-AWS-Out-Bytes \(ap-south-1 → me-south-1\): 209\.0 GB, USD 18\.81/);
});

test('without --costs no Cost Explorer call is made; without --traffic no GetMetricData', async (t) => {
  const proxy = await startFaultProxy(moto.endpoint);
  t.after(() => proxy.stop());
  const { drafts } = await audit(proxy.endpoint, {});
  assert.ok(!proxy.calls.includes('GetCostAndUsage'));
  assert.ok(!proxy.calls.includes('GetMetricData'));
  assert.equal(drafts.filter((d) => d.type === 'data-transfer').length, 0);
});

test('the bill alone (traffic not read) ties the spike to no instance when two could have sent it; a denied Cost Explorer keeps the traffic finding', async (t) => {
  const proxy = await startFaultProxy(moto.endpoint);
  t.after(() => proxy.stop());
  await queueBill(moto.endpoint, { days: 7 });
  proxy.inject('GetMetricData', 'deny', 1000);
  const a = await audit(proxy.endpoint);
  assert.match(a.snap.errors.join('\n'), /AWS denied GetMetricData.*cloudwatch:GetMetricData/);
  const dt = a.drafts.filter((d) => d.type === 'data-transfer');
  assert.deepEqual(dt.map((d) => d.id), [`data-transfer:${ACCOUNT}:usage:APS3-MES1-AWS-Out-Bytes`]);
  assert.deepEqual(dt[0]!.resources.filter((r) => r.kind === 'instance').map((r) => r.id).sort(), [seed.stray.instance, other].sort(), 'both Mumbai instances are candidates');
  assert.ok(a.drafts.some((d) => d.type === 'open-ingress'), 'the rest of the audit ran');

  proxy.clear();
  proxy.inject('GetCostAndUsage', 'deny', 1000);
  const b = await audit(proxy.endpoint);
  assert.match(b.snap.errors.join('\n'), /AWS denied GetCostAndUsage/);
  assert.deepEqual(b.drafts.filter((d) => d.type === 'data-transfer').map((d) => d.id), [`data-transfer:${ACCOUNT}:ap-south-1:${seed.stray.instance}`]);

  proxy.clear();
  proxy.inject('GetMetricData', 'throttle', 1000);
  const c = await audit(proxy.endpoint, { trafficDays: 3 });
  assert.match(c.snap.errors.join('\n'), /kept throttling GetMetricData/);
  assert.ok(c.drafts.some((d) => d.type === 'no-mfa') && c.drafts.some((d) => d.type === 'stale-key'));
});

test('a data-transfer incident is never resolved by a later audit that no longer sees the spike', async (t) => {
  const book = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  await queueBill(moto.endpoint, { days: 7 });
  const first = await audit(moto.endpoint);
  book.mergeAudit(first.drafts, { account: ACCOUNT, actor: 't', covers: (i) => auditCovers(first.snap, i) });
  const id = `data-transfer:${ACCOUNT}:ap-south-1:${seed.stray.instance}`;
  assert.equal(book.get(id)?.status, 'open');
  const later = await audit(moto.endpoint, { trafficDays: 1 }); // the night has left the window
  assert.equal(later.drafts.filter((d) => d.type === 'data-transfer').length, 0);
  book.mergeAudit(later.drafts, { account: ACCOUNT, actor: 't', covers: (i) => auditCovers(later.snap, i) });
  assert.equal(book.get(id)?.status, 'open', 'a transfer that stopped is not a transfer that was handled');
});

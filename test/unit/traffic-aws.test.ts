// The traffic and billing adapters against moto through the real SDK: a week of NetworkOut put with
// PutMetricData (moto keeps what it is given; it makes no EC2 metrics itself) for an instance in
// ap-south-1 that sent ~209 GB one night and for an ordinary one, read back with GetMetricData in
// batches; Cost Explorer results queued through moto's own /moto-api/static/ce route.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { startMoto, type Moto } from '../aws/moto.mjs';
import { dailyUsage, instanceTraffic } from '../../src/aws/traffic';
import { detectCostSpikes, detectTrafficSpikes } from '../../src/core/investigate/traffic';

let moto: Moto;
const creds = { accessKeyId: 'seed', secretAccessKey: 'seed' };
const now = new Date(Math.floor(Date.now() / 300_000) * 300_000);
before(async () => {
  moto = await startMoto();
  process.env.AWS_ACCESS_KEY_ID = 'admin';
  process.env.AWS_SECRET_ACCESS_KEY = 'admin';
});
after(() => moto?.stop());

async function putSeries(region: string, instanceId: string, bytesAt: (ms: number) => number, days: number): Promise<void> {
  // moto 5.2 fails on the SDK's gzip-compressed PutMetricData bodies (it decompresses them twice): seed uncompressed.
  const cw = new CloudWatchClient({ region, endpoint: moto.endpoint, credentials: creds, disableRequestCompression: true });
  const data: MetricDatum[] = [];
  for (let ms = now.getTime() - days * 86_400_000; ms < now.getTime(); ms += 300_000) {
    data.push({ MetricName: 'NetworkOut', Dimensions: [{ Name: 'InstanceId', Value: instanceId }], Timestamp: new Date(ms), Value: bytesAt(ms), Unit: 'Bytes' });
  }
  for (let i = 0; i < data.length; i += 1000) await cw.send(new PutMetricDataCommand({ Namespace: 'AWS/EC2', MetricData: data.slice(i, i + 1000) }));
}

test('traffic from CloudWatch: the night spike of the Mumbai instance is found, the ordinary instance is not', async () => {
  const from = now.getTime() - 2 * 86_400_000 + 3_600_000;
  const to = from + 3.5 * 3_600_000;
  const heavy = 209e9 / ((to - from) / 300_000);
  await putSeries('ap-south-1', 'i-0relay', (ms) => (ms >= from && ms < to ? heavy : 2e6), 7);
  await putSeries('ap-south-1', 'i-0quiet', () => 3e6, 7);
  const target = { region: 'ap-south-1', endpoint: moto.endpoint };
  const opts = { factor: 10, minBytes: 1e9, timeZone: 'UTC' };
  const { series, calls } = await instanceTraffic(target, 'ap-south-1', ['i-0relay', 'i-0quiet', 'i-0nodata'], 7, now, (s) => detectTrafficSpikes(s, opts));
  // Hourly for every instance (one call), then 5-minute NetworkOut and NetworkPacketsOut for the flagged hours only (one more).
  assert.equal(calls, 2);
  assert.deepEqual(series.map((s) => [s.instanceId, s.points.length >= 7 * 24, s.periodSeconds, (s.packets?.length ?? 0) > 0]), [['i-0relay', true, 300, false], ['i-0quiet', true, 3600, false], ['i-0nodata', false, 3600, false]]);
  const spikes = detectTrafficSpikes(series, opts);
  assert.deepEqual(spikes.map((s) => [s.instanceId, s.start, s.end]), [['i-0relay', new Date(from).toISOString(), new Date(to).toISOString()]]);
  assert.ok(Math.abs(spikes[0]!.bytes - 209e9) < 1e9);
});

test('billing from Cost Explorer: the APS3-MES1 day is the spike (results queued in moto)', async () => {
  const days = Array.from({ length: 8 }, (_, i) => new Date(now.getTime() - (7 - i) * 86_400_000).toISOString().slice(0, 10));
  const group = (k: string, cost: number, amount: number) => ({ Keys: [k], Metrics: { UnblendedCost: { Amount: String(cost), Unit: 'USD' }, UsageQuantity: { Amount: String(amount), Unit: 'GB' } } });
  const results = {
    results: [
      {
        ResultsByTime: days.map((d, i) => ({
          TimePeriod: { Start: d, End: d },
          Total: {},
          Groups: [group('APS3-MES1-AWS-Out-Bytes', i === 6 ? 18.81 : 0.02, i === 6 ? 209 : 0.2), group('USE1-DataTransfer-Out-Bytes', 0.9, 10), group('APS3-BoxUsage:c5.4xlarge', 16.3, 24)],
          Estimated: false,
        })),
        DimensionValueAttributes: [],
      },
    ],
  };
  const posted = await fetch(`${moto.endpoint}/moto-api/static/ce/cost-and-usage-results`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(results) });
  assert.equal(posted.status, 201);
  const { rows, calls } = await dailyUsage({ region: 'us-east-1', endpoint: moto.endpoint }, 7, now);
  assert.equal(calls, 1, 'one paid call');
  const spikes = detectCostSpikes(rows, { factor: 10, minCost: 1 });
  assert.deepEqual(spikes.map((s) => [s.decoded.route, s.day]), [['ap-south-1 → me-south-1', days[6]]]);
});

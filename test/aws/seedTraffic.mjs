// The seed-2 story in a moto account, through the real SDK: an instance in ap-south-1 (Mumbai) that
// sent ~209 GB to me-south-1 (Bahrain) one night, between 01:10 and 04:40 India time, and ordinary
// days for the other instances. moto keeps the NetworkOut / NetworkPacketsOut datapoints it is given
// (it makes no EC2 metrics itself); the bill is queued through moto's own Cost Explorer route.
// Shared by the unit tests, the demo and the benchmark.
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';

const seedCreds = { accessKeyId: 'seed', secretAccessKey: 'seed' };
const DAY = 86_400_000;
const PERIOD = 300_000;

/** The night of the spike: 01:10 to 04:40 Asia/Kolkata (UTC+05:30) two days before `now`. */
export function spikeWindow(now = new Date()) {
  const base = Math.floor(now.getTime() / DAY) * DAY - DAY; // 00:00 UTC yesterday
  const start = base - 4 * 3_600_000 - 20 * 60_000; // 19:40 UTC the day before = 01:10 IST
  const end = start + 3.5 * 3_600_000; // 23:10 UTC = 04:40 IST
  return { start, end, billDay: new Date(start).toISOString().slice(0, 10) };
}

/**
 * Puts `days` of NetworkOut (and NetworkPacketsOut) for each instance: `quiet` ones send 2-3 MB per
 * 5 minutes all along; `relay` sends 209 GB in the spike window on top of that.
 */
export async function seedTraffic(endpoint, { relay, region = 'ap-south-1', quiet = [], days = 7, now = new Date() }) {
  const { start, end } = spikeWindow(now);
  const to = Math.floor(now.getTime() / PERIOD) * PERIOD;
  const heavy = 209e9 / ((end - start) / PERIOD);
  const put = async (reg, instanceId, bytesAt) => {
    // moto 5.2 fails on the SDK's gzip-compressed PutMetricData bodies (it decompresses them twice): seed uncompressed.
    const cw = new CloudWatchClient({ region: reg, endpoint, credentials: seedCreds, disableRequestCompression: true });
    const data = [];
    for (let ms = to - days * DAY; ms < to; ms += PERIOD) {
      const bytes = bytesAt(ms);
      const dims = [{ Name: 'InstanceId', Value: instanceId }];
      data.push({ MetricName: 'NetworkOut', Dimensions: dims, Timestamp: new Date(ms), Value: bytes, Unit: 'Bytes' });
      data.push({ MetricName: 'NetworkPacketsOut', Dimensions: dims, Timestamp: new Date(ms), Value: Math.round(bytes / 1400), Unit: 'Count' });
    }
    for (let i = 0; i < data.length; i += 1000) await cw.send(new PutMetricDataCommand({ Namespace: 'AWS/EC2', MetricData: data.slice(i, i + 1000) }));
    cw.destroy();
  };
  if (relay) await put(region, relay, (ms) => (ms >= start && ms < end ? heavy : 2e6 + (ms % 7) * 1e5));
  for (const q of quiet) await put(q.region, q.instance, (ms) => 3e6 + (ms % 5) * 1e5);
  return { start, end, bytes: 209e9 };
}

/**
 * Queues one Cost Explorer answer (daily, grouped by usage type) for the next GetCostAndUsage:
 * APS3-MES1-AWS-Out-Bytes at 0.2 GB a day, 209 GB (USD 18.81) on the night of the spike, plus an
 * ordinary internet transfer and compute line.
 */
export async function queueBill(endpoint, { days = 14, now = new Date(), spike = true } = {}) {
  const { billDay } = spikeWindow(now);
  const list = Array.from({ length: days + 1 }, (_, i) => new Date(Math.floor(now.getTime() / DAY) * DAY - (days - i) * DAY).toISOString().slice(0, 10));
  const group = (k, cost, amount) => ({ Keys: [k], Metrics: { UnblendedCost: { Amount: String(cost), Unit: 'USD' }, UsageQuantity: { Amount: String(amount), Unit: 'GB' } } });
  const results = {
    results: [
      {
        ResultsByTime: list.map((d) => ({
          TimePeriod: { Start: d, End: d },
          Total: {},
          Groups: [
            group('APS3-MES1-AWS-Out-Bytes', spike && d === billDay ? 18.81 : 0.02, spike && d === billDay ? 209 : 0.2),
            group('USE1-DataTransfer-Out-Bytes', 0.09, 1),
            group('APS3-BoxUsage:t3.micro', 0.27, 24),
          ],
          Estimated: false,
        })),
        DimensionValueAttributes: [],
      },
    ],
  };
  const r = await fetch(`${endpoint}/moto-api/static/ce/cost-and-usage-results`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(results) });
  if (r.status !== 201) throw new Error(`moto: cannot queue Cost Explorer results (${r.status})`);
  return { billDay };
}

// Unexpected data transfer, pure logic: the seed-2 night (an instance in Mumbai sending ~209 GB to
// Bahrain between 01:10 and 04:40 local time) found in NetworkOut and in the bill, ordinary
// instances and days left alone, instances without history judged on volume, billing codes decoded
// and unknown ones shown as they are; generated series never throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeUsageType, detectCostSpikes, detectTrafficSpikes, formatBytes, type Datapoint } from '../../src/core/investigate/traffic';

const GB = 1e9;
const FIVE_MIN = 300_000;
const end = Date.parse('2026-11-15T00:00:00Z');

function series(days: number, perPoint: (ms: number) => number): Datapoint[] {
  const out: Datapoint[] = [];
  for (let ms = end - days * 86_400_000; ms < end; ms += FIVE_MIN) out.push({ t: new Date(ms).toISOString(), bytes: perPoint(ms) });
  return out;
}

test('traffic: the night in Mumbai (IST 01:10–04:40 on 14 Nov) is one spike with its window and volume; ordinary instances are not', () => {
  // 01:10 IST = 19:40 UTC the day before; 04:40 IST = 23:10 UTC.
  const from = Date.parse('2026-11-13T19:40:00Z');
  const to = Date.parse('2026-11-13T23:10:00Z');
  const heavy = 209 * GB / ((to - from) / FIVE_MIN);
  const mumbai = series(14, (ms) => (ms >= from && ms < to ? heavy : 2e6 + (ms % 7) * 1e5));
  const web = series(14, (ms) => 5e6 + ((ms / FIVE_MIN) % 12) * 1e6);
  const spikes = detectTrafficSpikes(
    [
      { instanceId: 'i-0mumbai', region: 'ap-south-1', points: mumbai, periodSeconds: 300 },
      { instanceId: 'i-0web', region: 'us-east-1', points: web, periodSeconds: 300 },
    ],
    { factor: 10, minBytes: 1 * GB, timeZone: 'Asia/Kolkata' },
  );
  assert.equal(spikes.length, 1);
  const s = spikes[0]!;
  assert.equal(s.instanceId, 'i-0mumbai');
  assert.equal(s.start, '2026-11-13T19:40:00.000Z');
  assert.equal(s.end, '2026-11-13T23:10:00.000Z');
  assert.ok(Math.abs(s.bytes - 209 * GB) < 1 * GB, `${s.bytes}`);
  assert.match(s.sentence, /^sent 209 GB between 01:10 and 04:40 on 14 Nov \(Asia\/Kolkata\), while its other hours sent a median of 2[0-9].[0-9] MB/);
});

test('traffic: no history is judged on volume alone; a quiet new instance is not flagged', () => {
  const fresh = Array.from({ length: 36 }, (_, i) => ({ t: new Date(end - (36 - i) * FIVE_MIN).toISOString(), bytes: 1.5 * GB }));
  const quiet = Array.from({ length: 36 }, (_, i) => ({ t: new Date(end - (36 - i) * FIVE_MIN).toISOString(), bytes: 1e6 }));
  const spikes = detectTrafficSpikes(
    [
      { instanceId: 'i-new', region: 'eu-north-1', points: fresh, periodSeconds: 300 },
      { instanceId: 'i-quiet', region: 'eu-north-1', points: quiet, periodSeconds: 300 },
    ],
    { factor: 10, minBytes: 5 * GB, timeZone: 'UTC' },
  );
  assert.deepEqual(spikes.map((s) => s.instanceId), ['i-new']);
  assert.match(spikes[0]!.sentence, /with no earlier history to compare$/);
});

test('traffic: generated series (gaps, zeros, duplicates, garbage times) never throw and only flag hours over both thresholds', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ t: fc.oneof(fc.date({ min: new Date('2026-01-01'), max: new Date('2026-12-31'), noInvalidDate: true }).map((d) => d.toISOString()), fc.string()), bytes: fc.oneof(fc.nat(), fc.double()) }), { maxLength: 400 }), (points) => {
      const spikes = detectTrafficSpikes([{ instanceId: 'i', region: 'r', points, periodSeconds: 300 }], { factor: 10, minBytes: 1000, timeZone: 'UTC' });
      for (const s of spikes) assert.ok(s.peakHourBytes >= 1000 && s.start <= s.end);
    }),
    { seed: 14, numRuns: 200 },
  );
});

test('billing: usage types decoded with AWS\'s region codes; unknown codes are shown, never guessed', () => {
  assert.equal(decodeUsageType('APS3-MES1-AWS-Out-Bytes').route, 'ap-south-1 → me-south-1');
  assert.equal(decodeUsageType('APS3-MES1-AWS-In-Bytes').route, 'me-south-1 → ap-south-1');
  assert.equal(decodeUsageType('USE1-DataTransfer-Out-Bytes').route, 'us-east-1 → internet');
  assert.equal(decodeUsageType('DataTransfer-Out-Bytes').route, 'us-east-1 → internet');
  assert.equal(decodeUsageType('EU-DataTransfer-Regional-Bytes').route, 'between zones of eu-west-1');
  assert.equal(decodeUsageType('ZZZ9-APS3-AWS-Out-Bytes').route, 'ZZZ9 → ap-south-1');
  assert.equal(decodeUsageType('BoxUsage:t3.micro').kind, 'other');
});

test('billing: the day the Mumbai → Bahrain transfer jumped is the spike; steady internet egress and free inbound are not', () => {
  const rows = [];
  for (let d = 1; d <= 14; d++) {
    const day = `2026-11-${String(d).padStart(2, '0')}`;
    rows.push({ day, usageType: 'USE1-DataTransfer-Out-Bytes', cost: 0.9 + (d % 3) * 0.1, amount: 10 + (d % 3) });
    rows.push({ day, usageType: 'APS3-MES1-AWS-In-Bytes', cost: 0, amount: d === 14 ? 209 : 0.2 });
    rows.push({ day, usageType: 'APS3-MES1-AWS-Out-Bytes', cost: d === 14 ? 18.81 : 0.02, amount: d === 14 ? 209 : 0.2 });
  }
  const spikes = detectCostSpikes(rows, { factor: 10, minCost: 1 });
  assert.equal(spikes.length, 1);
  assert.equal(spikes[0]!.day, '2026-11-14');
  assert.equal(spikes[0]!.sentence, 'ap-south-1 → me-south-1: 209.0 GB, USD 18.81 on 2026-11-14 (usually 0.2 GB, USD 0.02 a day)');
  assert.equal(formatBytes(209e9), '209 GB');
});

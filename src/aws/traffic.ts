import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { CostExplorerClient, GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import type { DailyUsage, Datapoint, InstanceTraffic } from '../core/investigate/traffic';
import { clientConfig, type AwsTarget } from './clients';
import { explainAwsError } from './errors';

const PERIOD = 300;
const HOUR_MS = 3_600_000;
/** GetMetricData takes at most 500 queries a call. */
const QUERIES_PER_CALL = 500;

// The shared client configuration: one memoized credential provider, the profile, the user agent.
const common = (target: AwsTarget, region: string) => clientConfig(target, { region });

type Metric = 'NetworkOut' | 'NetworkPacketsOut';
interface Ask {
  id: string;
  metric: Metric;
  period: number;
  from: Date;
  to: Date;
}

/**
 * Runs GetMetricData queries (Sum), up to 500 a call, same time range per call, paged through
 * NextToken; `into(ask, t, v)` receives each datapoint. Returns the number of calls.
 */
async function fetchMetrics(cw: CloudWatchClient, asks: Ask[], into: (ask: Ask, t: string, v: number) => void): Promise<number> {
  let calls = 0;
  // One call covers one time range: group the asks by range and period.
  const groups = new Map<string, Ask[]>();
  for (const q of asks) {
    const k = `${q.from.getTime()}/${q.to.getTime()}/${q.period}`;
    groups.set(k, [...(groups.get(k) ?? []), q]);
  }
  for (const list of groups.values()) {
    for (let i = 0; i < list.length; i += QUERIES_PER_CALL) {
      const batch = list.slice(i, i + QUERIES_PER_CALL);
      const queries: MetricDataQuery[] = batch.map((q, j) => ({
        Id: `q${j}`,
        MetricStat: { Metric: { Namespace: 'AWS/EC2', MetricName: q.metric, Dimensions: [{ Name: 'InstanceId', Value: q.id }] }, Period: q.period, Stat: 'Sum', ...(q.metric === 'NetworkOut' ? { Unit: 'Bytes' as const } : {}) },
        ReturnData: true,
      }));
      let token: string | undefined;
      do {
        calls++;
        const r = await cw.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: batch[0]!.from, EndTime: batch[0]!.to, NextToken: token, ScanBy: 'TimestampAscending' }));
        for (const res of r.MetricDataResults ?? []) {
          const ask = batch[Number((res.Id ?? '').slice(1))];
          if (!ask) continue;
          const ts = res.Timestamps ?? [];
          const vs = res.Values ?? [];
          for (let k = 0; k < Math.min(ts.length, vs.length); k++) into(ask, ts[k]!.toISOString(), vs[k]!);
        }
        token = r.NextToken;
      } while (token && calls < 10_000);
    }
  }
  return calls;
}

/**
 * `AWS/EC2` `NetworkOut` of each instance over the last `days`, in two passes: hourly sums of every
 * instance first (one query an instance, 500 a call: 336 datapoints for 14 days instead of 4032),
 * then, only for the instances whose hours look unusual by `flag`, 5-minute `NetworkOut` and
 * `NetworkPacketsOut` over those hours (and one hour either side), which replace the hourly points
 * there so the window can be said to the 5 minutes. An instance with no datapoints has an empty series.
 */
export async function instanceTraffic(
  target: AwsTarget,
  region: string,
  instanceIds: string[],
  days: number,
  now = new Date(),
  flag: (series: InstanceTraffic[]) => Array<{ instanceId: string; start: string; end: string }> = () => [],
): Promise<{ series: InstanceTraffic[]; calls: number }> {
  const cw = new CloudWatchClient(common(target, region));
  // Aligned to the hour, as CloudWatch advises (and answers fastest): every period then starts on a
  // boundary, so the windows said to the user are the real ones.
  const start = new Date(Math.floor((now.getTime() - days * 86_400_000) / HOUR_MS) * HOUR_MS);
  const end = new Date(Math.ceil(now.getTime() / HOUR_MS) * HOUR_MS);
  const out = new Map<string, InstanceTraffic>(instanceIds.map((id) => [id, { instanceId: id, region, points: [], packets: [], periodSeconds: 3600 }]));
  let calls = 0;
  try {
    calls += await fetchMetrics(cw, instanceIds.map((id) => ({ id, metric: 'NetworkOut', period: 3600, from: start, to: end })), (ask, t, v) => out.get(ask.id)?.points.push({ t, bytes: v }));
    const refine = flag([...out.values()]).map((w) => ({
      id: w.instanceId,
      from: new Date(Math.max(start.getTime(), Math.floor(Date.parse(w.start) / HOUR_MS) * HOUR_MS - HOUR_MS)),
      to: new Date(Math.min(end.getTime(), Math.ceil(Date.parse(w.end) / HOUR_MS) * HOUR_MS + HOUR_MS)),
    }));
    if (refine.length) {
      const fine = new Map<string, { points: Datapoint[]; packets: Datapoint[] }>();
      const asks: Ask[] = refine.flatMap((w) => (['NetworkOut', 'NetworkPacketsOut'] as const).map((metric) => ({ id: w.id, metric, period: PERIOD, from: w.from, to: w.to })));
      calls += await fetchMetrics(cw, asks, (ask, t, v) => {
        const f = fine.get(ask.id) ?? { points: [], packets: [] };
        fine.set(ask.id, f);
        (ask.metric === 'NetworkOut' ? f.points : f.packets).push({ t, bytes: v });
      });
      for (const w of refine) {
        const s = out.get(w.id);
        const f = fine.get(w.id);
        if (!s || !f) continue;
        const inside = (p: Datapoint): boolean => Date.parse(p.t) >= w.from.getTime() && Date.parse(p.t) < w.to.getTime();
        s.points = [...s.points.filter((p) => !inside(p)), ...f.points];
        s.packets = [...(s.packets ?? []), ...f.packets];
        s.periodSeconds = PERIOD;
      }
    }
  } catch (e) {
    throw explainAwsError('GetMetricData', e);
  } finally {
    cw.destroy();
  }
  return { series: [...out.values()], calls };
}

/**
 * Daily cost and usage per usage type over the last `days` (Cost Explorer, us-east-1). Each call
 * costs USD 0.01: callers ask only when the user asked for it.
 */
export async function dailyUsage(target: AwsTarget, days: number, now = new Date()): Promise<{ rows: DailyUsage[]; calls: number }> {
  const ce = new CostExplorerClient(common(target, 'us-east-1'));
  const day = (d: Date): string => d.toISOString().slice(0, 10);
  const rows: DailyUsage[] = [];
  let calls = 0;
  try {
    let token: string | undefined;
    do {
      calls++;
      const r = await ce.send(
        new GetCostAndUsageCommand({
          // End is exclusive: tomorrow includes today so far.
          TimePeriod: { Start: day(new Date(now.getTime() - days * 86_400_000)), End: day(new Date(now.getTime() + 86_400_000)) },
          Granularity: 'DAILY',
          Metrics: ['UnblendedCost', 'UsageQuantity'],
          GroupBy: [{ Type: 'DIMENSION', Key: 'USAGE_TYPE' }],
          NextPageToken: token,
        }),
      );
      for (const t of r.ResultsByTime ?? []) {
        const d = t.TimePeriod?.Start;
        if (!d) continue;
        // With GroupBy, Total is empty and the figures are in Groups.
        for (const g of t.Groups ?? []) {
          const usageType = g.Keys?.[0];
          if (!usageType) continue;
          rows.push({ day: d, usageType, cost: Number(g.Metrics?.UnblendedCost?.Amount ?? 0), amount: Number(g.Metrics?.UsageQuantity?.Amount ?? 0) });
        }
      }
      token = r.NextPageToken;
    } while (token && calls < 20);
  } catch (e) {
    throw explainAwsError('GetCostAndUsage', e);
  } finally {
    ce.destroy();
  }
  return { rows, calls };
}

import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { CostExplorerClient, GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { DailyUsage, InstanceTraffic } from '../core/investigate/traffic';
import { requestHandlerOptions, type AwsTarget } from './clients';
import { explainAwsError } from './errors';

const PERIOD = 300;
/** GetMetricData takes at most 500 queries a call. */
const QUERIES_PER_CALL = 500;

const common = (target: AwsTarget, region: string) => ({
  region,
  ...(target.endpoint ? { endpoint: target.endpoint } : {}),
  credentials: fromNodeProviderChain(target.profile ? { profile: target.profile } : {}),
  maxAttempts: Number(process.env.KEYSENTRY_AWS_MAX_ATTEMPTS) || 6,
  retryMode: 'standard' as const,
  requestHandler: requestHandlerOptions(),
});

/**
 * `AWS/EC2` `NetworkOut` and `NetworkPacketsOut` (Sum per 5 minutes) of each instance over the last
 * `days`: two queries an instance, batched up to 500 queries a call and paged through NextToken. An
 * instance with no datapoints has an empty series. `calls` counts the GetMetricData requests.
 */
export async function instanceTraffic(target: AwsTarget, region: string, instanceIds: string[], days: number, now = new Date()): Promise<InstanceTraffic[]> {
  const cw = new CloudWatchClient(common(target, region));
  // Aligned to the hour and the period, as CloudWatch advises (and answers fastest): every period
  // then starts on a 5-minute boundary, so the windows said to the user are the real ones.
  const start = new Date(Math.floor((now.getTime() - days * 86_400_000) / 3_600_000) * 3_600_000);
  const end = new Date(Math.ceil(now.getTime() / (PERIOD * 1000)) * PERIOD * 1000);
  const out = new Map<string, InstanceTraffic>(instanceIds.map((id) => [id, { instanceId: id, region, points: [], packets: [], periodSeconds: PERIOD }]));
  const perCall = Math.floor(QUERIES_PER_CALL / 2);
  try {
    for (let i = 0; i < instanceIds.length; i += perCall) {
      const batch = instanceIds.slice(i, i + perCall);
      const query = (id: string, j: number, metric: 'NetworkOut' | 'NetworkPacketsOut'): MetricDataQuery => ({
        Id: `${metric === 'NetworkOut' ? 'b' : 'p'}${j}`,
        MetricStat: { Metric: { Namespace: 'AWS/EC2', MetricName: metric, Dimensions: [{ Name: 'InstanceId', Value: id }] }, Period: PERIOD, Stat: 'Sum', ...(metric === 'NetworkOut' ? { Unit: 'Bytes' as const } : {}) },
        ReturnData: true,
      });
      const queries = batch.flatMap((id, j) => [query(id, j, 'NetworkOut'), query(id, j, 'NetworkPacketsOut')]);
      let token: string | undefined;
      do {
        const r = await cw.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, NextToken: token, ScanBy: 'TimestampAscending' }));
        for (const res of r.MetricDataResults ?? []) {
          const qid = res.Id ?? '';
          const id = batch[Number(qid.slice(1))];
          const series = id ? out.get(id) : undefined;
          if (!series) continue;
          const into = qid.startsWith('p') ? series.packets! : series.points;
          const ts = res.Timestamps ?? [];
          const vs = res.Values ?? [];
          for (let k = 0; k < Math.min(ts.length, vs.length); k++) into.push({ t: ts[k]!.toISOString(), bytes: vs[k]! });
        }
        token = r.NextToken;
      } while (token);
    }
  } catch (e) {
    throw explainAwsError('GetMetricData', e);
  } finally {
    cw.destroy();
  }
  return [...out.values()];
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

// "Unexpected data transfer" incidents from the two places the seed-2 attack showed: an instance's
// CloudWatch NetworkOut far above its own baseline, and a data-transfer usage type of the bill that
// jumped. Pure: src/aws gathers the series and the bill into the snapshot; this judges them.
//
// Ids are keyed by the instance (`data-transfer:ACCOUNT:REGION:INSTANCE`), so a later audit, and a
// notice about the same instance, find the same incident. A spike on the bill that no instance's
// traffic explains is keyed by its usage type (`data-transfer:ACCOUNT:usage:APS3-MES1-AWS-Out-Bytes`),
// unless its source region has exactly one instance, which then is the one that sent it.
import { detectCostSpikes, detectTrafficSpikes, formatBytes, type CostSpike, type DailyUsage, type InstanceTraffic, type TrafficSpike } from '../investigate/traffic';
import type { AccountSnapshot, IncidentDraft, InstanceFacts, ResourceRef } from './types';

/** What the audit read for the traffic and billing checks (absent: not asked for). */
export interface TrafficFacts {
  /** NetworkOut series of every instance read, over `days`. Regions that could not be read are in `unread` as `traffic:REGION`. */
  traffic?: { days: number; series: InstanceTraffic[]; calls: number };
  /** Cost Explorer daily usage by usage type over `days`; `unread.costs` when the call failed. */
  usage?: { days: number; rows: DailyUsage[]; calls: number };
}

export interface TrafficCheckOptions {
  /** An hour is unusual at this many times the instance's median hour (setting keysentry.audit.trafficRatio). */
  factor: number;
  /** …and at least this many bytes (keysentry.audit.trafficMinimumGB). */
  minBytes: number;
  /** A usage type's day is a spike from this many USD up (and `factor` times its median day). */
  minCost: number;
  /** The user's IANA time zone, for the windows. */
  timeZone?: string;
}

export const DEFAULT_TRAFFIC: TrafficCheckOptions = { factor: 10, minBytes: 1e9, minCost: 1 };

/** The figures the audit found, for `keysentry audit --format json` (bytes, GB and USD named). */
export interface TrafficFigures {
  traffic?: { days: number; instancesChecked: number; getMetricDataCalls: number; spikes: Array<{ instanceId: string; region: string; start: string; end: string; window: string; bytes: number; gigabytes: number; packets?: number; peakHourBytes: number; medianHourBytes: number }> };
  costs?: { days: number; getCostAndUsageCalls: number; costUsd: number; spikes: Array<{ usageType: string; route: string; from?: string; to?: string; day: string; costUsd: number; gigabytes: number; usualCostUsd: number; usualGigabytes: number }> };
}

const RUNNING = new Set(['pending', 'running']);
const gb = (bytes: number): number => Math.round(bytes / 1e7) / 100;

export function trafficFigures(s: AccountSnapshot & TrafficFacts, o: TrafficCheckOptions): TrafficFigures {
  const out: TrafficFigures = {};
  if (s.traffic) {
    out.traffic = {
      days: s.traffic.days,
      instancesChecked: s.traffic.series.length,
      getMetricDataCalls: s.traffic.calls,
      spikes: detectTrafficSpikes(s.traffic.series, o).map((x) => ({ instanceId: x.instanceId, region: x.region, start: x.start, end: x.end, window: x.sentence, bytes: x.bytes, gigabytes: gb(x.bytes), ...(x.packets !== undefined ? { packets: x.packets } : {}), peakHourBytes: x.peakHourBytes, medianHourBytes: x.medianHourBytes })),
    };
  }
  if (s.usage) {
    out.costs = {
      days: s.usage.days,
      getCostAndUsageCalls: s.usage.calls,
      costUsd: Math.round(s.usage.calls * 0.01 * 100) / 100,
      spikes: detectCostSpikes(s.usage.rows, { factor: o.factor, minCost: o.minCost }).map((c) => ({ usageType: c.usageType, route: c.decoded.route, from: c.decoded.from, to: c.decoded.to, day: c.day, costUsd: c.cost, gigabytes: c.amount, usualCostUsd: c.usualCost, usualGigabytes: c.usualAmount })),
    };
  }
  return out;
}

const instanceRef = (i: InstanceFacts | undefined, id: string, region: string): ResourceRef => ({
  kind: 'instance',
  id,
  region,
  label: i ? [i.name, i.type, i.state, i.publicIp].filter(Boolean).join(' · ') : undefined,
});

/** The day (UTC, as Cost Explorer's days are) a spike window touches. */
const touches = (spike: TrafficSpike, day: string): boolean => spike.start.slice(0, 10) <= day && day <= spike.end.slice(0, 10);

/** Every data-transfer incident the traffic and the bill support. */
export function dataTransferChecks(s: AccountSnapshot & TrafficFacts, o: TrafficCheckOptions): IncidentDraft[] {
  const spikes = s.traffic ? detectTrafficSpikes(s.traffic.series, o) : [];
  const costs = s.usage ? detectCostSpikes(s.usage.rows, { factor: o.factor, minCost: o.minCost }) : [];
  const byInstance = new Map<string, { region: string; id: string; spikes: TrafficSpike[]; costs: CostSpike[] }>();
  for (const x of spikes) {
    const k = `${x.region}/${x.instanceId}`;
    const e = byInstance.get(k) ?? { region: x.region, id: x.instanceId, spikes: [], costs: [] };
    e.spikes.push(x);
    byInstance.set(k, e);
  }
  const unexplained = new Map<string, CostSpike[]>();
  for (const c of costs) {
    const src = c.decoded.from;
    // The instances of the source region whose traffic jumped that day sent it.
    const senders = [...byInstance.values()].filter((e) => e.region === src && e.spikes.some((x) => touches(x, c.day)));
    if (senders.length) for (const e of senders) e.costs.push(c);
    else {
      const candidates = s.instances.filter((i) => i.region === src && i.state !== 'terminated');
      if (candidates.length === 1 && src) {
        const only = candidates[0]!;
        const k = `${src}/${only.id}`;
        const e = byInstance.get(k) ?? { region: src, id: only.id, spikes: [], costs: [] };
        e.costs.push(c);
        byInstance.set(k, e);
      } else unexplained.set(c.usageType, [...(unexplained.get(c.usageType) ?? []), c]);
    }
  }
  const out: IncidentDraft[] = [];
  const account: ResourceRef = { kind: 'account', id: s.account, label: 'every access key of the account' };
  for (const e of byInstance.values()) {
    const inst = s.instances.find((i) => i.id === e.id && i.region === e.region);
    const bytes = e.spikes.reduce((n, x) => n + x.bytes, 0);
    const cost = e.costs.reduce((n, c) => n + c.cost, 0);
    const gbBilled = e.costs.reduce((n, c) => n + c.amount, 0);
    const routes = [...new Set(e.costs.map((c) => c.decoded.route))];
    const volume = bytes ? formatBytes(bytes) : `${gbBilled.toFixed(1)} GB`;
    const seenBy = [e.spikes.length ? 'its CloudWatch NetworkOut' : '', e.costs.length ? 'the bill (Cost Explorer)' : ''].filter(Boolean).join(' and ');
    out.push({
      id: `data-transfer:${s.account}:${e.region}:${e.id}`,
      type: 'data-transfer',
      severity: e.spikes.length && e.costs.length ? 'critical' : 'high',
      title: `${e.id} (${e.region}) sent ${volume}${routes.length ? ` (${routes.join(', ')})` : ''}, far above its usual traffic`,
      summary: `Unexpected outbound traffic seen in ${seenBy}. An instance that suddenly sends this much, often at night, is being used as a relay, a DoS source or to move data out; an abuse notice usually follows. Restrict its outbound traffic or isolate it, then find out how it was entered.`,
      resources: [
        instanceRef(inst, e.id, e.region),
        ...(inst?.groupIds ?? []).map((g): ResourceRef => ({ kind: 'security-group', id: g, region: e.region, label: 'outbound rules of the instance' })),
        { kind: 'region', id: e.region },
        ...[...new Set(e.costs.map((c) => c.decoded.to).filter((r): r is string => !!r && r !== e.region && r !== 'internet'))].map((r): ResourceRef => ({ kind: 'region', id: r, label: 'destination on the bill' })),
        account,
      ],
      facts: [
        ['Instance', `${e.id} in ${e.region}${inst ? ` (${[inst.name, inst.type, inst.state].filter(Boolean).join(', ')})` : ''}`],
        ...e.spikes.map((x): [string, string] => ['Window', `${x.sentence}${x.packets !== undefined ? `; ${x.packets.toLocaleString('en-US')} packets` : ''}`]),
        ...(bytes ? [['Volume (NetworkOut)', `${formatBytes(bytes)} (${bytes} bytes)`] as [string, string]] : []),
        ...e.costs.map((c): [string, string] => ['On the bill', `${c.usageType}: ${c.sentence}`]),
        ...(e.costs.length ? [['Cost', `USD ${cost.toFixed(2)} for ${gbBilled.toFixed(1)} GB`] as [string, string]] : []),
        ...(routes.length ? [['Route', routes.join(', ')] as [string, string]] : []),
        ...(!e.spikes.length ? [['Tied by', `the only instance in ${e.region}, the source region of the charge (its NetworkOut ${s.traffic ? 'showed no spike' : 'was not read: run the audit with --traffic'})`] as [string, string]] : []),
      ],
    });
  }
  for (const [usageType, list] of unexplained) {
    const d = list[0]!.decoded;
    const src = d.from;
    const here = s.instances.filter((i) => i.region === src && i.state !== 'terminated');
    const cost = list.reduce((n, c) => n + c.cost, 0);
    out.push({
      id: `data-transfer:${s.account}:usage:${usageType}`,
      type: 'data-transfer',
      severity: 'high',
      title: `Data transfer ${d.route} jumped on the bill: USD ${cost.toFixed(2)} (${usageType})`,
      summary: `Cost Explorer shows ${d.route} far above its usual days. ${here.length ? `The instances of ${src} are listed: one of them sent it (run the audit with --traffic to see which).` : `No instance of ${src ?? 'its source region'} was found: the sender may be gone already, or be another service (NAT gateway, S3, load balancer).`}`,
      resources: [...here.filter((i) => RUNNING.has(i.state)).map((i) => instanceRef(i, i.id, i.region)), ...(src && !src.includes(' ') ? [{ kind: 'region', id: src } as ResourceRef] : []), account],
      facts: [
        ['Usage type', `${usageType} (${d.route})`],
        ...list.map((c): [string, string] => ['On the bill', c.sentence]),
        ['Cost', `USD ${cost.toFixed(2)}`],
        ['Instances in the source region', here.length ? here.map((i) => `${i.id} (${i.state})`).join(', ') : 'none'],
      ],
    });
  }
  return out;
}

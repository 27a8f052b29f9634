/**
 * Unexpected data transfer, from the two places it shows: an instance's CloudWatch `NetworkOut`
 * (bytes per period) and the bill's data-transfer usage types (Cost Explorer). Pure: the adapters
 * fetch the numbers. Every step is linear or n log n in the number of datapoints.
 */

export interface Datapoint {
  /** Start of the period, ISO. */
  t: string;
  bytes: number;
}

export interface InstanceTraffic {
  instanceId: string;
  region: string;
  /** NetworkOut sums per period (300 s with basic monitoring), any order. */
  points: Datapoint[];
  /** NetworkPacketsOut sums per period, when read: the packets of a spike tell a flood of small packets (DoS) from bulk transfer. */
  packets?: Datapoint[];
  periodSeconds: number;
}

export interface TrafficOptions {
  /** An hour is unusual when it sends this many times the instance's median hour… */
  factor: number;
  /** …and at least this many bytes. An instance with less than a day of history is judged on this alone. */
  minBytes: number;
  /** IANA time zone for the sentence (the user's). */
  timeZone?: string;
}

export interface TrafficSpike {
  instanceId: string;
  region: string;
  /** First and end of the unusual periods, ISO. */
  start: string;
  end: string;
  bytes: number;
  peakHourBytes: number;
  medianHourBytes: number;
  /** NetworkPacketsOut in the window, when read. */
  packets?: number;
  /** "between 01:10 and 04:40 on 14 Nov (Asia/Kolkata), while its other hours sent a median of 12 MB" */
  sentence: string;
}

const HOUR = 3_600_000;

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 || u === 0 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

function median(xs: number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function clock(ms: number, timeZone?: string): { time: string; day: string } {
  const d = new Date(ms);
  const time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone }).format(d);
  const day = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone }).format(d);
  return { time, day };
}

/**
 * Hours in which an instance sent far more than it usually does, merged into windows. Hours are
 * compared with the instance's own median hour over the series; an instance with under 24 hours of
 * data has no baseline and is judged on `minBytes` alone.
 */
export function detectTrafficSpikes(series: InstanceTraffic[], opts: TrafficOptions): TrafficSpike[] {
  const spikes: TrafficSpike[] = [];
  for (const s of series) {
    const periodMs = Math.max(60, s.periodSeconds) * 1000;
    const pts = s.points.filter((p) => Number.isFinite(p.bytes) && p.bytes >= 0 && !Number.isNaN(Date.parse(p.t))).map((p) => ({ ms: Date.parse(p.t), bytes: p.bytes }));
    if (!pts.length) continue;
    pts.sort((a, b) => a.ms - b.ms);
    const hours = new Map<number, number>();
    for (const p of pts) {
      const h = Math.floor(p.ms / HOUR) * HOUR;
      hours.set(h, (hours.get(h) ?? 0) + p.bytes);
    }
    const hourList = [...hours.entries()].sort((a, b) => a[0] - b[0]);
    const baseline = hourList.length >= 24;
    const med = baseline ? median(hourList.map(([, b]) => b)) : 0;
    const unusual = (b: number): boolean => b >= opts.minBytes && (!baseline || b >= opts.factor * Math.max(med, 1));
    // Consecutive unusual hours form one window.
    let run: Array<[number, number]> = [];
    const flush = (): void => {
      if (!run.length) return;
      const from = run[0]![0];
      const to = run.at(-1)![0] + HOUR;
      // Narrow the window to the periods that carried the traffic: those above their share of the threshold.
      const perPeriod = Math.max(opts.minBytes, opts.factor * med) / (HOUR / periodMs);
      const inside = pts.filter((p) => p.ms >= from && p.ms < to);
      const heavy = inside.filter((p) => p.bytes >= perPeriod);
      const first = (heavy[0] ?? inside[0])!.ms;
      const last = (heavy.at(-1) ?? inside.at(-1))!.ms + periodMs;
      const bytes = run.reduce((n, [, b]) => n + b, 0);
      const peak = Math.max(...run.map(([, b]) => b));
      const a = clock(first, opts.timeZone);
      const b = clock(last, opts.timeZone);
      const zone = opts.timeZone ? ` (${opts.timeZone})` : '';
      const others = hourList.filter(([h]) => h < from || h >= to).map(([, v]) => v);
      const usual = others.length ? `, while its other hours sent a median of ${formatBytes(median(others))} (at most ${formatBytes(Math.max(...others))})` : ', with no earlier history to compare';
      let packets: number | undefined;
      if (s.packets?.length) {
        packets = 0;
        for (const p of s.packets) {
          const ms = Date.parse(p.t);
          if (ms >= from && ms < to && Number.isFinite(p.bytes) && p.bytes >= 0) packets += p.bytes;
        }
      }
      spikes.push({
        ...(packets !== undefined ? { packets } : {}),
        instanceId: s.instanceId,
        region: s.region,
        start: new Date(first).toISOString(),
        end: new Date(last).toISOString(),
        bytes,
        peakHourBytes: peak,
        medianHourBytes: med,
        sentence: `sent ${formatBytes(bytes)} between ${a.time} and ${b.time} on ${a.day}${b.day !== a.day ? ` (until ${b.day})` : ''}${zone}${usual}`,
      });
      run = [];
    };
    for (const [h, b] of hourList) {
      if (unusual(b) && (!run.length || h === run.at(-1)![0] + HOUR)) run.push([h, b]);
      else {
        flush();
        if (unusual(b)) run.push([h, b]);
      }
    }
    flush();
  }
  return spikes;
}

/**
 * AWS's region billing codes, as in the "AWS Region billing codes" page (and `CPT`, af-south-1's
 * older code in cost and usage reports). A code not listed is shown as it is, never guessed.
 */
export const BILLING_CODES: Readonly<Record<string, string>> = {
  USE1: 'us-east-1',
  USE2: 'us-east-2',
  USW1: 'us-west-1',
  USW2: 'us-west-2',
  CAN1: 'ca-central-1',
  CAN2: 'ca-west-1',
  MXC1: 'mx-central-1',
  AFS1: 'af-south-1',
  CPT: 'af-south-1',
  APE1: 'ap-east-1',
  APE2: 'ap-east-2',
  APN1: 'ap-northeast-1',
  APN2: 'ap-northeast-2',
  APN3: 'ap-northeast-3',
  APS1: 'ap-southeast-1',
  APS2: 'ap-southeast-2',
  APS3: 'ap-south-1',
  APS4: 'ap-southeast-3',
  APS5: 'ap-south-2',
  APS6: 'ap-southeast-4',
  APS7: 'ap-southeast-5',
  APS8: 'ap-southeast-6',
  APS9: 'ap-southeast-7',
  EU: 'eu-west-1',
  EUW2: 'eu-west-2',
  EUW3: 'eu-west-3',
  EUC1: 'eu-central-1',
  EUN1: 'eu-north-1',
  EUS1: 'eu-south-1',
  MES1: 'me-south-1',
  MEC1: 'me-central-1',
  SAE1: 'sa-east-1',
  UGW1: 'us-gov-west-1',
  UGE1: 'us-gov-east-1',
};

export interface DecodedUsageType {
  usageType: string;
  kind: 'inter-region' | 'internet' | 'inter-zone' | 'other';
  direction?: 'out' | 'in';
  /** Region names where the code is known, else the code itself. */
  from?: string;
  to?: string;
  /** "ap-south-1 → me-south-1" */
  route: string;
}

const region = (code: string | undefined): string => (code === undefined ? 'us-east-1' : (BILLING_CODES[code] ?? code));

/** What a data-transfer usage type means: `APS3-MES1-AWS-Out-Bytes` is ap-south-1 → me-south-1. */
export function decodeUsageType(usageType: string): DecodedUsageType {
  const u = usageType.slice(0, 200);
  let m = /^(?:([A-Z0-9]{2,5})-)?([A-Z0-9]{2,5})-AWS-(Out|In)-Bytes$/.exec(u);
  if (m) {
    const [src, dst] = [region(m[1]), region(m[2])];
    const out = m[3] === 'Out';
    return { usageType: u, kind: 'inter-region', direction: out ? 'out' : 'in', from: out ? src : dst, to: out ? dst : src, route: out ? `${src} → ${dst}` : `${dst} → ${src}` };
  }
  m = /^(?:([A-Z0-9]{2,5})-)?DataTransfer-(Out|In)-Bytes$/.exec(u);
  if (m) {
    const r = region(m[1]);
    return m[2] === 'Out' ? { usageType: u, kind: 'internet', direction: 'out', from: r, to: 'internet', route: `${r} → internet` } : { usageType: u, kind: 'internet', direction: 'in', from: 'internet', to: r, route: `internet → ${r}` };
  }
  m = /^(?:([A-Z0-9]{2,5})-)?DataTransfer-Regional-Bytes$/.exec(u);
  if (m) return { usageType: u, kind: 'inter-zone', from: region(m[1]), to: region(m[1]), route: `between zones of ${region(m[1])}` };
  return { usageType: u, kind: 'other', route: u };
}

export interface DailyUsage {
  /** YYYY-MM-DD */
  day: string;
  usageType: string;
  cost: number;
  /** Usage quantity (GB for data transfer). */
  amount: number;
}

export interface CostSpike {
  usageType: string;
  decoded: DecodedUsageType;
  day: string;
  cost: number;
  amount: number;
  /** Median daily cost of that usage type on the other days. */
  usualCost: number;
  usualAmount: number;
  sentence: string;
}

/**
 * Days on which a data-transfer usage type cost (or moved) far more than on its other days: at
 * least `factor` times its median day and at least `minCost` USD. A type with no other day is
 * judged on `minCost` alone.
 */
export function detectCostSpikes(rows: DailyUsage[], opts: { factor: number; minCost: number }): CostSpike[] {
  const byType = new Map<string, DailyUsage[]>();
  for (const r of rows) {
    if (!/DataTransfer|-AWS-(Out|In)-Bytes$/.test(r.usageType) || !Number.isFinite(r.cost) || !Number.isFinite(r.amount)) continue;
    const list = byType.get(r.usageType) ?? [];
    list.push(r);
    byType.set(r.usageType, list);
  }
  const spikes: CostSpike[] = [];
  for (const [type, list] of byType) {
    const decoded = decodeUsageType(type);
    if (decoded.direction === 'in') continue; // inbound transfer is free: not the bill's problem
    // One row per day of the window (at most a year): comparing each day with the others is bounded.
    for (const r of list) {
      const others = list.filter((o) => o !== r);
      const usualCost = median(others.map((o) => o.cost));
      const usualAmount = median(others.map((o) => o.amount));
      const jumped = r.cost >= opts.minCost && (!others.length || r.cost >= opts.factor * Math.max(usualCost, 0.01) || r.amount >= opts.factor * Math.max(usualAmount, 0.001));
      if (!jumped) continue;
      spikes.push({
        usageType: type,
        decoded,
        day: r.day,
        cost: r.cost,
        amount: r.amount,
        usualCost,
        usualAmount,
        sentence: `${decoded.route}: ${r.amount.toFixed(1)} GB, USD ${r.cost.toFixed(2)} on ${r.day} (usually ${usualAmount.toFixed(1)} GB, USD ${usualCost.toFixed(2)} a day)`,
      });
    }
  }
  return spikes.sort((a, b) => b.cost - a.cost);
}

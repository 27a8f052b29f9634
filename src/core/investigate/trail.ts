/**
 * What a key did, from CloudTrail event history: each event reduced to what an investigation needs,
 * the resources its calls created or changed, and a summary a person can act on. Pure: the events
 * come from src/aws/cloudtrail.ts (LookupEvents). Everything in an event is attacker-influenced
 * (user names, user agents, request parameters): sizes are bounded here, and renderers escape.
 */

export type CreatedType =
  | 'iam-user'
  | 'access-key'
  | 'login-profile'
  | 'attached-policy'
  | 'user-policy'
  | 'role'
  | 'role-trust'
  | 'instance'
  | 'spot-request'
  | 'key-pair'
  | 'security-group-rule'
  | 'lambda-function';

export interface CreatedResource {
  type: CreatedType;
  /** The resource's id or name (for a policy: `user:policyArn` or `user:policyName`). */
  id: string;
  region: string;
  eventName: string;
  eventTime: string;
  /** The IAM user it belongs to, for keys, login profiles and policies. */
  user?: string;
}

export interface TrailEvent {
  id: string;
  time: string;
  name: string;
  source: string;
  region: string;
  ip: string | null;
  userAgent: string | null;
  errorCode: string | null;
  accessKeyId: string | null;
  arn: string | null;
  created: CreatedResource[];
}

/** The fields of LookupEvents' `Events[]` this module reads. */
export interface RawLookupEvent {
  EventId?: string;
  EventName?: string;
  EventTime?: Date | string;
  EventSource?: string;
  AccessKeyId?: string;
  CloudTrailEvent?: string;
}

/** A CloudTrail record larger than this is kept without its parameters (AWS's own records are a few KB). */
const MAX_RECORD_CHARS = 256 * 1024;
const MAX_FIELD = 512;

const str = (v: unknown, max = MAX_FIELD): string | null => (typeof v === 'string' && v ? v.slice(0, max) : null);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const items = (v: unknown): Array<Record<string, unknown>> => (Array.isArray(obj(v).items) ? (obj(v).items as unknown[]).slice(0, 1000).map(obj) : []);

/** The resources a successful call created or changed, from its request and response. */
export function createdBy(name: string, region: string, time: string, request: Record<string, unknown>, response: Record<string, unknown>): CreatedResource[] {
  const at = (type: CreatedType, id: string | null, user?: string | null): CreatedResource[] =>
    id ? [{ type, id, region, eventName: name, eventTime: time, ...(user ? { user } : {}) }] : [];
  switch (name) {
    case 'CreateUser':
      return at('iam-user', str(obj(response.user).userName) ?? str(request.userName));
    case 'CreateAccessKey': {
      const key = obj(response.accessKey);
      return at('access-key', str(key.accessKeyId), str(key.userName) ?? str(request.userName));
    }
    case 'CreateLoginProfile':
    case 'UpdateLoginProfile':
      return at('login-profile', str(request.userName), str(request.userName));
    case 'AttachUserPolicy': {
      const user = str(request.userName);
      const policy = str(request.policyArn);
      return user && policy ? at('attached-policy', `${user}:${policy}`, user) : [];
    }
    case 'PutUserPolicy': {
      const user = str(request.userName);
      const policy = str(request.policyName);
      return user && policy ? at('user-policy', `${user}:${policy}`, user) : [];
    }
    case 'CreateRole':
      return at('role', str(obj(response.role).roleName) ?? str(request.roleName));
    case 'UpdateAssumeRolePolicy':
      return at('role-trust', str(request.roleName));
    case 'RunInstances':
      return items(response.instancesSet).flatMap((i) => at('instance', str(i.instanceId)));
    case 'RequestSpotInstances':
      return items(response.spotInstanceRequestSet).flatMap((i) => at('spot-request', str(i.spotInstanceRequestId)));
    case 'CreateKeyPair':
    case 'ImportKeyPair':
      return at('key-pair', str(request.keyName) ?? str(response.keyName));
    case 'AuthorizeSecurityGroupIngress':
    case 'AuthorizeSecurityGroupEgress': {
      // The rule ids are in the response (2021 on); a rule is `group:ruleId`, else the group alone.
      const group = str(request.groupId) ?? str(request.groupName);
      const rules = items(response.securityGroupRuleSet).map((i) => str(i.securityGroupRuleId, 64)).filter((x): x is string => !!x);
      return rules.length && group ? rules.flatMap((rule) => at('security-group-rule', `${group}:${rule}`)) : at('security-group-rule', group);
    }
    case 'CreateFunction':
    case 'CreateFunction20150331':
      return at('lambda-function', str(response.functionName) ?? str(request.functionName));
    default:
      return [];
  }
}

/** One LookupEvents entry as an investigation reads it; undefined when it has no usable record. */
export function parseLookupEvent(raw: RawLookupEvent, lookupRegion: string): TrailEvent | undefined {
  const name = str(raw.EventName, 128);
  if (!name) return undefined;
  const time = raw.EventTime instanceof Date ? raw.EventTime.toISOString() : (str(raw.EventTime, 64) ?? '');
  let record: Record<string, unknown> = {};
  if (raw.CloudTrailEvent && raw.CloudTrailEvent.length <= MAX_RECORD_CHARS) {
    try {
      record = obj(JSON.parse(raw.CloudTrailEvent));
    } catch {
      record = {};
    }
  }
  const identity = obj(record.userIdentity);
  const region = str(record.awsRegion, 64) ?? lookupRegion;
  const errorCode = str(record.errorCode, 128);
  return {
    id: str(raw.EventId, 128) ?? `${time}/${name}`,
    time: str(record.eventTime, 64) ?? time,
    name,
    source: str(raw.EventSource, 128) ?? str(record.eventSource, 128) ?? '',
    region,
    ip: str(record.sourceIPAddress, 128),
    userAgent: str(record.userAgent),
    errorCode,
    accessKeyId: str(identity.accessKeyId, 128) ?? str(raw.AccessKeyId, 128),
    arn: str(identity.arn),
    created: errorCode ? [] : createdBy(name, region, str(record.eventTime, 64) ?? time, obj(record.requestParameters), obj(record.responseElements)),
  };
}

/**
 * Whether a call looks like the owner's own use: from an IP address *and* a tool (user agent)
 * seen in the baseline (the calls before the exposure).
 */
export function ownerJudge(baseline: TrailEvent[]): (e: TrailEvent) => boolean {
  const knownIps = new Set(baseline.map((e) => e.ip).filter((x): x is string => !!x));
  const knownAgents = new Set(baseline.map((e) => e.userAgent).filter((x): x is string => !!x));
  return (e) => !!e.ip && knownIps.has(e.ip) && (!e.userAgent || knownAgents.has(e.userAgent));
}

/** Events sorted by time (stable, linear-logarithmic). */
export const byTime = (a: TrailEvent, b: TrailEvent): number => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0);

export interface TrailSummary {
  from: string;
  to: string;
  /** Calls in the window (after the exposure began). */
  events: number;
  first: string | null;
  last: string | null;
  byName: Array<{ name: string; region: string; count: number; failed: number }>;
  ips: Array<{ ip: string; count: number; known: boolean }>;
  userAgents: Array<{ agent: string; count: number; known: boolean }>;
  failures: Array<{ name: string; errorCode: string; count: number }>;
  /** Calls in the window from an IP address and tool seen before the exposure: the owner's own use. */
  ownerCalls: number;
  /** Everything else in the window. */
  otherCalls: number;
  created: CreatedResource[];
  verdict: string[];
}

const ENUMERATION = new Set(['GetCallerIdentity', 'ListBuckets', 'GetAccountAuthorizationDetails', 'DescribeRegions', 'DescribeInstances', 'ListUsers', 'GetAccountSummary', 'ListRoles']);
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/**
 * Summarises the events of one key (or user). Events before `exposedSince` are the baseline: the IP
 * addresses and tools seen there are the owner's; only events from `exposedSince` on are counted.
 */
export function summarise(all: TrailEvent[], window: { from: string; to: string; exposedSince?: string }): TrailSummary {
  const since = window.exposedSince ?? window.from;
  const sorted = [...all].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const baseline = sorted.filter((e) => e.time < since);
  const events = sorted.filter((e) => e.time >= since && e.time <= window.to);
  const knownIps = new Set(baseline.map((e) => e.ip).filter((x): x is string => !!x));
  const knownAgents = new Set(baseline.map((e) => e.userAgent).filter((x): x is string => !!x));
  const count = <K>(keyOf: (e: TrailEvent) => K | null, list = events): Map<K, number> => {
    const m = new Map<K, number>();
    for (const e of list) {
      const k = keyOf(e);
      if (k !== null) m.set(k, (m.get(k) ?? 0) + 1);
    }
    return m;
  };
  const byNameMap = new Map<string, { name: string; region: string; count: number; failed: number }>();
  for (const e of events) {
    const k = `${e.name}\u0000${e.region}`;
    const entry = byNameMap.get(k) ?? { name: e.name, region: e.region, count: 0, failed: 0 };
    entry.count++;
    if (e.errorCode) entry.failed++;
    byNameMap.set(k, entry);
  }
  const failuresMap = new Map<string, { name: string; errorCode: string; count: number }>();
  for (const e of events) {
    if (!e.errorCode) continue;
    const k = `${e.name}\u0000${e.errorCode}`;
    const entry = failuresMap.get(k) ?? { name: e.name, errorCode: e.errorCode, count: 0 };
    entry.count++;
    failuresMap.set(k, entry);
  }
  const ips = [...count((e) => e.ip)].map(([ip, n]) => ({ ip, count: n, known: knownIps.has(ip) })).sort((a, b) => b.count - a.count);
  const userAgents = [...count((e) => e.userAgent)].map(([agent, n]) => ({ agent, count: n, known: knownAgents.has(agent) })).sort((a, b) => b.count - a.count);
  const isOwner = ownerJudge(baseline);
  const ownerCalls = events.filter(isOwner).length;
  const created = events.flatMap((e) => e.created);

  const verdict: string[] = [];
  const newIps = ips.filter((i) => !i.known);
  if (!events.length) verdict.push('no activity in the window');
  else if (newIps.length) verdict.push(`used from ${plural(newIps.length, 'IP address', 'IP addresses')} ${baseline.length ? 'not seen before the exposure' : 'in the window'}: ${newIps.slice(0, 5).map((i) => i.ip).join(', ')}${newIps.length > 5 ? ', …' : ''}`);
  else verdict.push('used only from IP addresses and tools seen before the exposure');
  const enumeration = [...new Set(events.filter((e) => ENUMERATION.has(e.name)).map((e) => e.name))];
  if (enumeration.length >= 2) verdict.push(`enumerated the account (${enumeration.join(', ')})`);
  const denied = events.filter((e) => /AccessDenied|UnauthorizedOperation|Unauthorized/.test(e.errorCode ?? '')).length;
  if (denied) verdict.push(`${plural(denied, 'call was', 'calls were')} denied (probing for permissions)`);
  const users = created.filter((c) => c.type === 'iam-user');
  for (const u of users) {
    const policies = created.filter((c) => c.type === 'attached-policy' && c.user === u.id).map((c) => c.id.slice(c.id.indexOf(':') + 1).replace(/^arn:aws:iam::aws:policy\//, ''));
    verdict.push(`created user ${u.id}${policies.length ? ` with ${policies.join(', ')}` : ''}`);
  }
  const keys = created.filter((c) => c.type === 'access-key');
  if (keys.length) verdict.push(`created ${plural(keys.length, 'access key')} (${keys.map((k) => `${k.id}${k.user ? ` for ${k.user}` : ''}`).join(', ')})`);
  const instances = created.filter((c) => c.type === 'instance');
  if (instances.length) verdict.push(`launched ${plural(instances.length, 'instance')} in ${plural(new Set(instances.map((i) => i.region)).size, 'region')}`);
  const spot = created.filter((c) => c.type === 'spot-request');
  if (spot.length) verdict.push(`requested ${plural(spot.length, 'spot instance')}`);
  const pairs = created.filter((c) => c.type === 'key-pair');
  if (pairs.length) verdict.push(`created or imported ${plural(pairs.length, 'key pair')}`);
  const others = created.filter((c) => ['login-profile', 'user-policy', 'role', 'role-trust', 'security-group-rule', 'lambda-function'].includes(c.type));
  if (others.length) verdict.push(`changed ${plural(others.length, 'other resource')} (${[...new Set(others.map((c) => c.type))].join(', ')})`);
  return {
    from: window.from,
    to: window.to,
    events: events.length,
    first: events[0]?.time ?? null,
    last: events.at(-1)?.time ?? null,
    byName: [...byNameMap.values()].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
    ips,
    userAgents,
    failures: [...failuresMap.values()].sort((a, b) => b.count - a.count),
    ownerCalls,
    otherCalls: events.length - ownerCalls,
    created,
    verdict,
  };
}

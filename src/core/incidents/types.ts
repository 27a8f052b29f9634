// The incident model shared by the editor's Incidents view, `keysentry audit` and
// `keysentry notice`. Plain data: it is persisted as JSON, exported and re-imported.

/** Each type has a runbook of the same id in media/runbooks/incidents.json. */
export const INCIDENT_TYPES = [
  'exposed-key',
  'compromised-instance',
  'data-transfer',
  'open-ingress',
  'key-pair',
  'unknown-resources',
  'root-key',
  'stale-key',
  'no-mfa',
  // audit hardening checks (issue 14): each with its runbook and a planned, confirmed fix
  'guardduty-off',
  'no-trail',
  'no-billing-alert',
  'no-security-contact',
] as const;
export type IncidentType = (typeof INCIDENT_TYPES)[number];

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const STATUSES = ['open', 'contained', 'resolved'] as const;
export type IncidentStatus = (typeof STATUSES)[number];

export type ResourceKind = 'instance' | 'security-group' | 'access-key' | 'user' | 'key-pair' | 'account' | 'ip' | 'region' | 'volume';

export interface ResourceRef {
  kind: ResourceKind;
  id: string;
  region?: string;
  /** Owner for access keys (the IAM user). */
  user?: string;
  /** Short human description, e.g. "port 22 from 0.0.0.0/0". */
  label?: string;
}

/** One AWS call an action made, and how it ended. */
export interface CallRecord {
  api: string;
  target: string;
  region?: string;
  ok: boolean;
  result?: string;
  error?: string;
}

export interface TimelineEntry {
  at: string;
  actor: string;
  kind: 'detected' | 'action' | 'error' | 'status' | 'step' | 'note' | 'imported';
  text: string;
  calls?: CallRecord[];
}

export interface StepState {
  done: boolean;
  at: string;
  by: string;
}

export interface Incident {
  /** Stable: the same problem found again by a later audit keeps its id, checklist and timeline. */
  id: string;
  type: IncidentType;
  severity: Severity;
  title: string;
  summary: string;
  source: 'audit' | 'notice' | 'manual';
  account?: string;
  profile?: string;
  resources: ResourceRef[];
  /** Label/value pairs shown in the runbook and the report (never a secret). */
  facts: Array<[string, string]>;
  status: IncidentStatus;
  createdAt: string;
  updatedAt: string;
  /** Checklist state by "Phase/stepId". */
  steps: Record<string, StepState>;
  timeline: TimelineEntry[];
}

/** What an account check reports before it becomes (or updates) an incident. */
export type IncidentDraft = Pick<Incident, 'id' | 'type' | 'severity' | 'title' | 'summary' | 'resources' | 'facts'> & {
  /**
   * Set when the severity depends on a fact the audit could not read: `severity` is what the
   * facts read support, `worst` what it would be if the missing facts were the bad case, and
   * `missing` names each missing fact and the call that failed. The book then keeps the last
   * known severity (or takes the worst for a new incident): unknown is never read as "fine".
   */
  uncertain?: { worst: Severity; missing: string[] };
};

// ---------------------------------------------------------------------------------------------
// What the account checks read from AWS (src/aws gathers it, src/core/incidents/checks judges it).

export interface SgRule {
  ruleId: string;
  egress: boolean;
  /** "-1" for all protocols. */
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidr?: string;
  /** Another security group or prefix list as the source/destination. */
  peer?: string;
}

export interface SecurityGroupFacts {
  region: string;
  groupId: string;
  groupName: string;
  vpcId?: string;
  rules: SgRule[];
}

export interface InstanceFacts {
  region: string;
  id: string;
  state: string;
  launchTime?: string;
  type?: string;
  keyName?: string;
  publicIp?: string;
  vpcId?: string;
  groupIds: string[];
  volumeIds: string[];
  name?: string;
  tags: Record<string, string>;
}

export interface KeyPairFacts {
  region: string;
  name: string;
  id?: string;
  fingerprint?: string;
  createdAt?: string;
}

export interface AccessKeyFacts {
  id: string;
  status: string;
  createdAt?: string;
  lastUsed?: string;
  /** GetAccessKeyLastUsed failed: `lastUsed` undefined means unknown, not "never". */
  lastUsedUnknown?: boolean;
}

export interface UserFacts {
  name: string;
  arn: string;
  createdAt?: string;
  /** undefined: could not be read (see AccountSnapshot.unread). */
  mfa?: boolean;
  consolePassword?: boolean;
  policies?: string[];
  keys?: AccessKeyFacts[];
}

export interface AccountSnapshot {
  account: string;
  caller: string;
  profile?: string;
  takenAt: string;
  /** Regions scanned. */
  regions: string[];
  /** Regions the account is expected to use; resources elsewhere are flagged. */
  homeRegions: string[];
  securityGroups: SecurityGroupFacts[];
  instances: InstanceFacts[];
  keyPairs: KeyPairFacts[];
  /** undefined when IAM could not be read (see errors). */
  users?: UserFacts[];
  rootKeysPresent?: boolean;
  rootMfa?: boolean;
  /** Checks that could not run (denied, throttled, region disabled), said plainly. */
  errors: string[];
  /**
   * Facts that could not be read, by key, with the reason (which call, denied or throttled):
   * `sg:REGION`, `instances:REGION`, `keyPairs:REGION`, `users`, `keys:USER`, `lastUsed:KEYID`,
   * `mfa:USER`, `login:USER`, `policies:USER`, `root`. A check that needs one says so and keeps
   * the incident's last known state; an incident that depends on one is never resolved.
   */
  unread?: Record<string, string>;
}

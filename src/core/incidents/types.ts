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

export type ResourceKind =
  | 'instance' | 'security-group' | 'access-key' | 'user' | 'key-pair' | 'account' | 'ip' | 'region' | 'volume'
  // investigate: what an attacker leaves behind (a policy is `user:policy`, a rule `group:ruleId`)
  | 'policy' | 'spot-request' | 'sg-rule' | 'login-profile' | 'role' | 'function';

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

/** What found an incident. One incident gathers the evidence of every source about the same key or instance. */
export type EvidenceSource = 'audit' | 'notice' | 'workspace' | 'push' | 'manual';

/**
 * One source's account of an incident: an audit check, a notice, a file and line of the
 * workspace, an outgoing or pushed commit. Each source refreshes only its own evidence, so an
 * audit never erases what a notice said, and a look that could not read a fact keeps the last
 * known resources and facts (see `missing`).
 */
export interface Evidence {
  /** Stable per source: "audit:<check id>", "notice:<case>", "workspace:<file>:<line>", "push:<commit>:<file>:<line>". */
  id: string;
  source: EvidenceSource;
  /** One line for lists ("workspace: .env line 3"). */
  label: string;
  severity: Severity;
  firstSeen: string;
  lastSeen: string;
  resources: ResourceRef[];
  facts: Array<[string, string]>;
  /** Facts the last look could not read, each with the call that failed: the values kept are the last known ones. */
  missing?: string[];
  /** false once its source no longer reports it (the line was removed, the audit no longer finds it). */
  current: boolean;
  /** What this source made of it: the incident takes the type, title and summary of its best-fitting evidence. */
  type?: IncidentType;
  title?: string;
  summary?: string;
}

export interface Incident {
  /** Stable: the same problem found again by a later audit keeps its id, checklist and timeline. */
  id: string;
  /** Ids this incident was also known by (an audit check's id, a notice's id): merged into it, found by them. */
  aliases?: string[];
  /** Every source's evidence; `resources` and `facts` are their union. Absent in files from before evidence existed. */
  evidence?: Evidence[];
  type: IncidentType;
  severity: Severity;
  title: string;
  summary: string;
  /** What opened it first (its evidence says what else found it since). */
  source: EvidenceSource;
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
  /**
   * Facts the check could not read (a denied or throttled call), each named with the call, when
   * they change what the draft lists rather than its severity (e.g. a user's access keys): the
   * book keeps the last known resources and facts instead of the draft's partial ones.
   */
  missing?: string[];
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

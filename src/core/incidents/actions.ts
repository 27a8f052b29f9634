import { KeysentryError } from '../types';
import { planIsolate, planRelease, type IsolateOptions, type IsolationOps } from '../contain/isolation';
import { planReplaceKeyPair, type KeyPairOps } from '../contain/keyPairIncident';
import { worldEgress, worldOpenPorts } from './checks';
// audit hardening (issue 14): kinds, verbs, planner in ./hardening
import { HARDENING_KINDS, HARDENING_RESOURCE, HARDENING_VERBS, isHardeningKind } from './hardening';
import type { CallRecord, Incident, InstanceFacts, ResourceRef, SgRule } from './types';
// investigate: removal of what an attacker left behind (kinds, verbs, planner in ./removal)
import { REMOVAL_KINDS, REMOVAL_RESOURCE, REMOVAL_VERBS, callerUser, planRemoval } from './removal';

// Containment actions a runbook step can take. Each is planned first (read-only calls that
// establish the current state, then the exact list of changing calls and their resources),
// shown to the user, and run only after confirmation. The AWS side implements ContainmentOps
// (src/aws/containment.ts); tests run it against moto.

export const ACTION_KINDS = [
  'deactivate-key',
  'rotate-key',
  'revoke-sessions',
  'revoke-ingress',
  'restrict-egress',
  'isolate-instance',
  'stop-instance',
  'terminate-instance',
  'delete-key-pair',
  // issue 15 (core/contain): undo an isolation; a new key pair to replace a compromised one
  'release-instance',
  'replace-key-pair',
  ...REMOVAL_KINDS, // investigate
  ...HARDENING_KINDS, // audit hardening
] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

/** What an action works on, derived from an incident's resources. */
export interface ActionTarget {
  kind: ActionKind;
  resource: ResourceRef;
  /** Button text, e.g. "Isolate i-0abc… (us-east-1)". */
  label: string;
  /** Choices the user made (isolate: Auto Scaling standby or detach, network ACL). */
  options?: IsolateOptions & { keyDir?: string; workspaceRoots?: string[] };
}

const VERBS: Record<ActionKind, string> = {
  'deactivate-key': 'Deactivate',
  'rotate-key': 'Rotate',
  'revoke-sessions': 'Revoke sessions of',
  'revoke-ingress': 'Revoke open ingress on',
  'restrict-egress': 'Restrict outbound traffic of',
  'isolate-instance': 'Isolate',
  'stop-instance': 'Stop',
  'terminate-instance': 'Terminate',
  'delete-key-pair': 'Delete key pair',
  'release-instance': 'Release',
  'replace-key-pair': 'Replace key pair',
  ...REMOVAL_VERBS, // investigate
  ...HARDENING_VERBS, // audit hardening
};
const RESOURCE_FOR: Record<ActionKind, ResourceRef['kind']> = {
  'deactivate-key': 'access-key',
  'rotate-key': 'access-key',
  'revoke-sessions': 'user',
  'revoke-ingress': 'security-group',
  'restrict-egress': 'security-group',
  'isolate-instance': 'instance',
  'stop-instance': 'instance',
  'terminate-instance': 'instance',
  'delete-key-pair': 'key-pair',
  'release-instance': 'instance',
  'replace-key-pair': 'key-pair',
  ...REMOVAL_RESOURCE, // investigate
  ...HARDENING_RESOURCE, // audit hardening
};

/** One button per resource the action applies to (an incident may name several instances). */
export function actionTargets(incident: Incident, kind: ActionKind): ActionTarget[] {
  const want = RESOURCE_FOR[kind];
  const seen = new Set<string>();
  return incident.resources
    .filter((r) => r.kind === want && !seen.has(`${r.region}/${r.id}`) && seen.add(`${r.region}/${r.id}`))
    .map((resource) => ({ kind, resource, label: `${VERBS[kind]} ${resource.id}${resource.region ? ` (${resource.region})` : ''}` }));
}

export interface InstanceState extends InstanceFacts {
  terminationProtection: boolean;
  shutdownBehavior?: string;
}

export interface ContainmentOps extends IsolationOps, KeyPairOps {
  /** Who is acting (ARN) and with which access key id, when known. */
  caller(): Promise<{ arn: string; account: string; accessKeyId?: string }>;
  instance(region: string, id: string): Promise<InstanceState | undefined>;
  groupRules(region: string, groupId: string): Promise<SgRule[]>;
  findIsolationGroup(region: string, vpcId: string | undefined): Promise<string | undefined>;
  /** Completed or pending snapshots by volume id. */
  snapshotsOf(region: string, volumeIds: string[]): Promise<Record<string, string[]>>;
  keyPairExists(region: string, name: string): Promise<boolean>;
  accessKey(keyId: string, user?: string): Promise<{ user: string; status: string } | undefined>;

  setTerminationProtection(region: string, id: string, on: boolean): Promise<void>;
  setShutdownBehaviorStop(region: string, id: string): Promise<void>;
  createIsolationGroup(region: string, vpcId: string | undefined, incidentId: string): Promise<string>;
  revokeIngress(region: string, groupId: string, ruleIds: string[]): Promise<void>;
  revokeEgress(region: string, groupId: string, ruleIds: string[]): Promise<void>;
  setInstanceGroups(region: string, id: string, groupIds: string[]): Promise<void>;
  createSnapshots(region: string, id: string, tags: Record<string, string>): Promise<string[]>;
  tag(region: string, ids: string[], tags: Record<string, string>): Promise<void>;
  stopInstance(region: string, id: string): Promise<string>;
  terminateInstance(region: string, id: string): Promise<string>;
  deleteKeyPair(region: string, name: string): Promise<void>;
  deactivateKey(user: string, keyId: string): Promise<void>;
  denyOlderSessions(user: string, before: string): Promise<string>;
}

/** One call the plan will make, in order. */
export interface PlannedCall {
  api: string;
  target: string;
  region?: string;
  /** What it does, in words. */
  what: string;
  run: (ctx: Record<string, string>) => Promise<string | void>;
}

export interface ActionPlan {
  target: ActionTarget;
  title: string;
  /** Read-only calls made while planning, and what they found. */
  checked: string[];
  calls: PlannedCall[];
  /** Consequences the user should know before confirming. */
  warnings: string[];
}

const TAG_PREFIX = 'keysentry:';

async function needInstance(ops: ContainmentOps, r: ResourceRef): Promise<InstanceState> {
  if (!r.region) throw new KeysentryError(`the region of ${r.id} is unknown: add it to the incident (a notice that names no region) before acting`);
  const i = await ops.instance(r.region, r.id);
  if (!i) throw new KeysentryError(`instance ${r.id} was not found in ${r.region}`);
  if (i.state === 'terminated' || i.state === 'shutting-down') throw new KeysentryError(`instance ${r.id} is already ${i.state}`);
  return i;
}

/** Builds the plan: reads the current state, then lists each changing call. Makes no change. */
export async function planAction(target: ActionTarget, incident: Incident, ops: ContainmentOps, others: Incident[] = []): Promise<ActionPlan> {
  const r = target.resource;
  const region = r.region;
  const checked: string[] = [];
  const calls: PlannedCall[] = [];
  const warnings: string[] = [];
  const plan = (title: string): ActionPlan => ({ target, title, checked, calls, warnings });
  const incidentTag = { [`${TAG_PREFIX}incident`]: incident.id.slice(0, 250) };
  // audit hardening: planned by planHardening (core/incidents/hardening) with the account's own calls
  if (isHardeningKind(target.kind)) throw new KeysentryError(`${target.label} is planned with planHardening, not the containment calls`);

  switch (target.kind) {
    case 'deactivate-key': {
      const key = await ops.accessKey(r.id, r.user);
      if (!key) throw new KeysentryError(`access key ${r.id} was not found in this account`);
      checked.push(`iam:ListAccessKeys: ${r.id} of ${key.user} is ${key.status}`);
      if (key.status === 'Inactive') throw new KeysentryError(`access key ${r.id} is already inactive`);
      const me = await ops.caller();
      checked.push(`sts:GetCallerIdentity: acting as ${me.arn}`);
      if (me.accessKeyId === r.id) throw new KeysentryError(`you are signing with ${r.id} itself: deactivating it would lock you out. Sign in with another identity (a profile or SSO) first`);
      calls.push({ api: 'iam:UpdateAccessKey', target: r.id, what: `set ${r.id} of ${key.user} to Inactive (it can be reactivated)`, run: () => ops.deactivateKey(key.user, r.id) });
      warnings.push('Anything still using this key (servers, CI, scripts) stops working at once. Rotate it to give them a new key.');
      return plan(`Deactivate access key ${r.id}`);
    }
    case 'revoke-sessions': {
      // The user named by the incident may be the one signing (a notice's "IAM user: admin" is
      // attacker-controlled text): denying its older sessions would lock out a signer that uses
      // temporary credentials of that user (an MFA session), so it is refused like deactivate-key.
      const me = await ops.caller();
      checked.push(`sts:GetCallerIdentity: acting as ${me.arn}`);
      if (callerUser(me.arn) === r.id) throw new KeysentryError(`you are signing as IAM user ${r.id}: revoking its sessions could lock you out (and would not stop its access keys). Sign in with another identity (a profile or SSO) first`);
      const before = new Date().toISOString();
      calls.push({
        api: 'iam:PutUserPolicy',
        target: r.id,
        what: `attach inline policy KeysentryRevokeOlderSessions to ${r.id}: deny every action to sessions issued before ${before} (aws:TokenIssueTime)`,
        run: () => ops.denyOlderSessions(r.id, before),
      });
      warnings.push('Temporary credentials issued from this user until now stop working; new ones work. Long-term access keys are not affected: deactivate them separately.');
      return plan(`Revoke sessions issued to ${r.id}`);
    }
    case 'revoke-ingress':
    case 'restrict-egress': {
      if (!region) throw new KeysentryError(`the region of ${r.id} is unknown`);
      const rules = await ops.groupRules(region, r.id);
      const ingress = target.kind === 'revoke-ingress';
      const hits = rules.filter((rule) => (ingress ? worldOpenPorts(rule) : worldEgress(rule)));
      checked.push(`ec2:DescribeSecurityGroupRules: ${rules.length} rule(s) on ${r.id}, ${hits.length} open to the internet${ingress ? ' on SSH, RDP or all ports' : ' outbound'}`);
      if (!hits.length) throw new KeysentryError(`nothing to revoke: ${r.id} has no ${ingress ? 'SSH, RDP or all-port rule open to 0.0.0.0/0 or ::/0' : 'outbound rule to 0.0.0.0/0 or ::/0'} any more`);
      const ids = hits.map((h) => h.ruleId);
      const desc = hits.map((h) => `${h.ruleId} (${ingress ? worldOpenPorts(h) : h.protocol === '-1' ? 'all traffic' : `${h.protocol} ${h.fromPort}-${h.toPort}`} ${ingress ? 'from' : 'to'} ${h.cidr})`).join(', ');
      calls.push({
        api: ingress ? 'ec2:RevokeSecurityGroupIngress' : 'ec2:RevokeSecurityGroupEgress',
        target: r.id,
        region,
        what: `remove ${desc}`,
        run: () => (ingress ? ops.revokeIngress(region, r.id, ids) : ops.revokeEgress(region, r.id, ids)),
      });
      calls.push({ api: 'ec2:CreateTags', target: r.id, region, what: 'tag the group with the incident id', run: () => ops.tag(region, [r.id], incidentTag) });
      warnings.push('Security groups are stateful: connections already open are not cut by removing a rule.');
      if (ingress) warnings.push('Add back a rule for your own address (or use SSM Session Manager) if you still need to reach the instances.');
      else warnings.push('Instances in this group lose outbound internet access, updates and AWS API calls over the internet included.');
      return plan(ingress ? `Revoke open ingress on ${r.id}` : `Restrict outbound traffic of ${r.id}`);
    }
    case 'isolate-instance':
      // Per network interface, through an all-traffic group, recorded, idempotent: core/contain/isolation.ts
      return planIsolate(target, incident, ops, others);
    case 'release-instance':
      return planRelease(target, incident, ops, others);
    case 'replace-key-pair':
      return planReplaceKeyPair(target, incident, ops);
    case 'stop-instance': {
      const i = await needInstance(ops, r);
      checked.push(`ec2:DescribeInstances: ${i.id} is ${i.state}`);
      if (i.state === 'stopped' || i.state === 'stopping') throw new KeysentryError(`instance ${i.id} is already ${i.state}`);
      const snaps = await ops.snapshotsOf(i.region, i.volumeIds);
      const missing = i.volumeIds.filter((v) => !snaps[v]?.length);
      checked.push(`ec2:DescribeSnapshots: ${i.volumeIds.length - missing.length} of ${i.volumeIds.length} volume(s) have a snapshot`);
      if (missing.length) warnings.push(`No snapshot yet of ${missing.join(', ')}: isolate the instance first if you want disk evidence.`);
      calls.push({ api: 'ec2:StopInstances', target: i.id, region: i.region, what: `stop ${i.id}`, run: () => ops.stopInstance(i.region, i.id) });
      warnings.push('Memory, running processes and instance-store volumes are lost; EBS volumes are kept. The public IP changes unless it is an Elastic IP.');
      return plan(`Stop instance ${i.id}`);
    }
    case 'terminate-instance': {
      const i = await needInstance(ops, r);
      checked.push(`ec2:DescribeInstances: ${i.id} is ${i.state}, termination protection ${i.terminationProtection ? 'ON' : 'off'}`);
      const snaps = await ops.snapshotsOf(i.region, i.volumeIds);
      const missing = i.volumeIds.filter((v) => !snaps[v]?.length);
      checked.push(`ec2:DescribeSnapshots: ${i.volumeIds.map((v) => `${v} → ${snaps[v]?.join(', ') || 'no snapshot'}`).join('; ') || 'no EBS volumes'}`);
      if (missing.length) throw new KeysentryError(`refusing to terminate ${i.id}: ${missing.join(', ')} ha${missing.length === 1 ? 's' : 've'} no snapshot, and terminating destroys the evidence. Isolate the instance first (it snapshots every volume)`);
      if (i.terminationProtection) {
        const ours = incident.timeline.some((t) => t.kind === 'action' && t.calls?.some((c) => c.ok && c.target === i.id && /termination protection on/.test(c.result ?? '')));
        warnings.push(
          ours
            ? 'Termination protection is on: Keysentry turned it on while isolating this instance. The plan turns it off first.'
            : 'Termination protection is ON and Keysentry did not turn it on: attackers set it to keep their instance alive. Check CloudTrail for ModifyInstanceAttribute on this instance. The plan turns it off first.',
        );
        calls.push({ api: 'ec2:ModifyInstanceAttribute', target: i.id, region: i.region, what: 'turn termination protection off', run: () => ops.setTerminationProtection(i.region, i.id, false) });
      }
      calls.push({ api: 'ec2:TerminateInstances', target: i.id, region: i.region, what: `terminate ${i.id} (snapshots kept)`, run: () => ops.terminateInstance(i.region, i.id) });
      warnings.push('Termination cannot be undone. Volumes set to delete on termination are deleted; the snapshots stay.');
      return plan(`Terminate instance ${i.id}`);
    }
    case 'delete-key-pair': {
      if (!region) throw new KeysentryError(`the region of key pair ${r.id} is unknown`);
      if (!(await ops.keyPairExists(region, r.id))) throw new KeysentryError(`key pair ${r.id} was not found in ${region}`);
      checked.push(`ec2:DescribeKeyPairs: ${r.id} exists in ${region}`);
      calls.push({ api: 'ec2:DeleteKeyPair', target: r.id, region, what: `delete EC2's copy of key pair ${r.id}`, run: () => ops.deleteKeyPair(region, r.id) });
      warnings.push('This only removes EC2\'s copy of the public key. Instances launched with it still trust it in ~/.ssh/authorized_keys: remove it there, or relaunch from an AMI with a new key pair.');
      return plan(`Delete key pair ${r.id}`);
    }
    case 'rotate-key':
      throw new KeysentryError('rotation runs through `keysentry rotate` (or "Rotate This Key" in the editor)');
    default: // investigate: the removals (src/core/incidents/removal.ts)
      return planRemoval(target, incident, ops);
  }
}

export interface ActionResult {
  ok: boolean;
  calls: CallRecord[];
  error?: string;
}

/**
 * Runs a confirmed plan in order and stops at the first failure; every call, done or failed,
 * is returned for the timeline. `explain` turns an SDK error into a plain message.
 */
export async function runPlan(plan: ActionPlan, explain: (api: string, e: unknown) => string, onCall?: (c: PlannedCall, i: number) => void): Promise<ActionResult> {
  const ctx: Record<string, string> = {};
  const records: CallRecord[] = [];
  for (const [i, call] of plan.calls.entries()) {
    onCall?.(call, i);
    try {
      const out = await call.run(ctx);
      records.push({ api: call.api, target: call.target, region: call.region, ok: true, result: out ? `${call.what}: ${out}` : call.what });
    } catch (e) {
      const error = explain(call.api, e);
      records.push({ api: call.api, target: call.target, region: call.region, ok: false, error });
      const skipped = plan.calls.slice(i + 1).map((c) => `${c.api} ${c.target}`);
      return { ok: false, calls: records, error: `${call.api} on ${call.target} failed: ${error}${skipped.length ? ` Not run: ${skipped.join(', ')}.` : ''}` };
    }
  }
  return { ok: true, calls: records };
}

/** The plan as text, for a confirmation dialog or the CLI. */
export function describePlan(plan: ActionPlan): string {
  const lines = [plan.title, '', 'Checked:', ...plan.checked.map((c) => `  · ${c}`), '', 'Will call, in order:'];
  plan.calls.forEach((c, i) => lines.push(`  ${i + 1}. ${c.api} on ${c.target}${c.region ? ` (${c.region})` : ''}: ${c.what}`));
  if (plan.warnings.length) lines.push('', 'Know before you confirm:', ...plan.warnings.map((w) => `  ! ${w}`));
  return lines.join('\n');
}

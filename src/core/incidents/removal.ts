import { KeysentryError } from '../types';
import type { ActionPlan, ActionTarget, ContainmentOps, PlannedCall } from './actions';
import type { Incident } from './types';

// Removal of what an attacker left behind (found by `keysentry investigate`, see
// core/investigate/persistence.ts): the same plan → confirm → run cycle as the containment
// actions. Each plan reads the current state first and lists every changing call in the order
// AWS requires; nothing runs before the user confirms. The AWS side is src/aws/removal.ts.

export const REMOVAL_KINDS = ['delete-access-key', 'delete-user', 'delete-login-profile', 'detach-policy', 'delete-user-policy', 'cancel-spot-request', 'revoke-rule'] as const;
export type RemovalKind = (typeof REMOVAL_KINDS)[number];

export const REMOVAL_VERBS: Record<RemovalKind, string> = {
  'delete-access-key': 'Deactivate and delete key',
  'delete-user': 'Delete user',
  'delete-login-profile': 'Delete console password of',
  'detach-policy': 'Detach',
  'delete-user-policy': 'Delete inline policy',
  'cancel-spot-request': 'Cancel spot request',
  'revoke-rule': 'Revoke rule',
};

/** The incident resource kind each removal acts on. */
export const REMOVAL_RESOURCE = {
  'delete-access-key': 'access-key',
  'delete-user': 'user',
  'delete-login-profile': 'login-profile',
  'detach-policy': 'policy',
  'delete-user-policy': 'policy',
  'cancel-spot-request': 'spot-request',
  'revoke-rule': 'sg-rule',
} as const satisfies Record<RemovalKind, string>;

export const isRemovalKind = (k: string): k is RemovalKind => (REMOVAL_KINDS as readonly string[]).includes(k);

/** Everything an IAM user holds that must go before DeleteUser succeeds. */
export interface UserHoldings {
  name: string;
  arn: string;
  keys: Array<{ id: string; status: string }>;
  loginProfile: boolean;
  mfaDevices: string[];
  signingCertificates: string[];
  sshPublicKeys: string[];
  serviceCredentials: string[];
  attachedPolicies: string[];
  inlinePolicies: string[];
  groups: string[];
}

export interface RemovalOps extends ContainmentOps {
  deleteAccessKey(user: string, keyId: string): Promise<void>;
  /** undefined when the user does not exist. */
  userHoldings(name: string): Promise<UserHoldings | undefined>;
  deleteLoginProfile(user: string): Promise<void>;
  deactivateMfa(user: string, serial: string): Promise<void>;
  /** Deletes a virtual MFA device (a hardware one has nothing to delete). */
  deleteVirtualMfa(serial: string): Promise<void>;
  deleteSigningCertificate(user: string, id: string): Promise<void>;
  deleteSshPublicKey(user: string, id: string): Promise<void>;
  deleteServiceCredential(user: string, id: string): Promise<void>;
  detachUserPolicy(user: string, policyArn: string): Promise<void>;
  deleteUserPolicy(user: string, policyName: string): Promise<void>;
  removeUserFromGroup(user: string, group: string): Promise<void>;
  deleteUser(user: string): Promise<void>;
  /** undefined when the request does not exist. */
  spotRequest(region: string, id: string): Promise<{ state: string; instanceId?: string } | undefined>;
  cancelSpotRequest(region: string, id: string): Promise<string>;
}

export const isRemovalOps = (ops: ContainmentOps): ops is RemovalOps => typeof (ops as Partial<RemovalOps>).userHoldings === 'function';

/** The IAM user name in a caller ARN (`arn:aws:iam::123:user/path/name`), if it is a user. */
export const callerUser = (arn: string): string | undefined => /:user\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1];

/** `user:policy` ids of attached and inline policies. */
function splitPair(id: string): [string, string] {
  const at = id.indexOf(':');
  if (at <= 0 || at === id.length - 1) throw new KeysentryError(`"${id}" is not NAME:ID (user:policy, group:rule)`);
  return [id.slice(0, at), id.slice(at + 1)];
}

/**
 * The calls that empty and delete an IAM user, in the order IAM requires: access keys
 * (deactivated, then deleted), the console password, MFA devices (deactivated, virtual ones
 * deleted), signing certificates, SSH public keys, service-specific credentials, attached and
 * inline policies, group memberships, then the user.
 */
export function userDeletionCalls(h: UserHoldings, ops: RemovalOps): PlannedCall[] {
  const u = h.name;
  const calls: PlannedCall[] = [];
  for (const k of h.keys) if (k.status !== 'Inactive') calls.push({ api: 'iam:UpdateAccessKey', target: k.id, what: `deactivate access key ${k.id} of ${u}`, run: () => ops.deactivateKey(u, k.id) });
  for (const k of h.keys) calls.push({ api: 'iam:DeleteAccessKey', target: k.id, what: `delete access key ${k.id} of ${u}`, run: () => ops.deleteAccessKey(u, k.id) });
  if (h.loginProfile) calls.push({ api: 'iam:DeleteLoginProfile', target: u, what: `delete the console password of ${u}`, run: () => ops.deleteLoginProfile(u) });
  for (const s of h.mfaDevices) {
    calls.push({ api: 'iam:DeactivateMFADevice', target: s, what: `deactivate MFA device ${s} of ${u}`, run: () => ops.deactivateMfa(u, s) });
    if (/:mfa\//.test(s)) calls.push({ api: 'iam:DeleteVirtualMFADevice', target: s, what: `delete virtual MFA device ${s}`, run: () => ops.deleteVirtualMfa(s) });
  }
  for (const c of h.signingCertificates) calls.push({ api: 'iam:DeleteSigningCertificate', target: c, what: `delete signing certificate ${c} of ${u}`, run: () => ops.deleteSigningCertificate(u, c) });
  for (const k of h.sshPublicKeys) calls.push({ api: 'iam:DeleteSSHPublicKey', target: k, what: `delete SSH public key ${k} of ${u}`, run: () => ops.deleteSshPublicKey(u, k) });
  for (const c of h.serviceCredentials) calls.push({ api: 'iam:DeleteServiceSpecificCredential', target: c, what: `delete service-specific credential ${c} of ${u}`, run: () => ops.deleteServiceCredential(u, c) });
  for (const p of h.attachedPolicies) calls.push({ api: 'iam:DetachUserPolicy', target: u, what: `detach ${p} from ${u}`, run: () => ops.detachUserPolicy(u, p) });
  for (const p of h.inlinePolicies) calls.push({ api: 'iam:DeleteUserPolicy', target: u, what: `delete inline policy ${p} of ${u}`, run: () => ops.deleteUserPolicy(u, p) });
  for (const g of h.groups) calls.push({ api: 'iam:RemoveUserFromGroup', target: u, what: `remove ${u} from group ${g}`, run: () => ops.removeUserFromGroup(u, g) });
  calls.push({ api: 'iam:DeleteUser', target: u, what: `delete IAM user ${u}`, run: () => ops.deleteUser(u) });
  return calls;
}

/** Plans one removal. Reads the current state; makes no change. */
export async function planRemoval(target: ActionTarget, incident: Incident, baseOps: ContainmentOps): Promise<ActionPlan> {
  if (!isRemovalKind(target.kind)) throw new KeysentryError(`${target.kind} is not a removal`);
  if (!isRemovalOps(baseOps)) throw new KeysentryError(`${target.label}: this action runs from the incident's Investigation section`);
  const ops = baseOps;
  const r = target.resource;
  const checked: string[] = [];
  const calls: PlannedCall[] = [];
  const warnings: string[] = [];
  const plan = (title: string): ActionPlan => ({ target, title, checked, calls, warnings });
  const me = await ops.caller();
  checked.push(`sts:GetCallerIdentity: acting as ${me.arn}`);
  const myUser = callerUser(me.arn);
  void incident;

  switch (target.kind) {
    case 'delete-access-key': {
      const key = await ops.accessKey(r.id, r.user);
      if (!key) throw new KeysentryError(`access key ${r.id} was not found in this account (already deleted?)`);
      checked.push(`iam:ListAccessKeys: ${r.id} of ${key.user} is ${key.status}`);
      if (me.accessKeyId === r.id) throw new KeysentryError(`you are signing with ${r.id} itself: sign in with another identity first`);
      if (key.status !== 'Inactive') calls.push({ api: 'iam:UpdateAccessKey', target: r.id, what: `set ${r.id} of ${key.user} to Inactive`, run: () => ops.deactivateKey(key.user, r.id) });
      calls.push({ api: 'iam:DeleteAccessKey', target: r.id, what: `delete ${r.id} of ${key.user}`, run: () => ops.deleteAccessKey(key.user, r.id) });
      warnings.push('Deleting a key cannot be undone. Its id stays searchable in CloudTrail.');
      return plan(`Deactivate and delete access key ${r.id}`);
    }
    case 'delete-user': {
      if (myUser === r.id) throw new KeysentryError(`you are signing as IAM user ${r.id}: deleting it would lock you out. Sign in with another identity first`);
      const h = await ops.userHoldings(r.id);
      if (!h) throw new KeysentryError(`IAM user ${r.id} was not found (already deleted?)`);
      checked.push(
        `iam:GetUser, ListAccessKeys, GetLoginProfile, ListMFADevices, ListSigningCertificates, ListSSHPublicKeys, ListServiceSpecificCredentials, ListAttachedUserPolicies, ListUserPolicies, ListGroupsForUser: ${r.id} has ${h.keys.length} access key(s), ${h.loginProfile ? 'a' : 'no'} console password, ${h.mfaDevices.length} MFA device(s), ${h.signingCertificates.length} signing certificate(s), ${h.sshPublicKeys.length} SSH key(s), ${h.serviceCredentials.length} service credential(s), ${h.attachedPolicies.length} attached and ${h.inlinePolicies.length} inline polic(ies), ${h.groups.length} group(s)`,
      );
      if (me.accessKeyId && h.keys.some((k) => k.id === me.accessKeyId)) throw new KeysentryError(`you are signing with a key of ${r.id}: sign in with another identity first`);
      calls.push(...userDeletionCalls(h, ops));
      warnings.push('Deleting a user cannot be undone; every credential it holds stops working at once. Its name and key ids stay in CloudTrail.');
      return plan(`Delete IAM user ${r.id} and everything it holds`);
    }
    case 'delete-login-profile': {
      const h = await ops.userHoldings(r.id);
      if (!h) throw new KeysentryError(`IAM user ${r.id} was not found`);
      checked.push(`iam:GetLoginProfile: ${r.id} ${h.loginProfile ? 'has' : 'has no'} console password`);
      if (!h.loginProfile) throw new KeysentryError(`${r.id} has no console password any more`);
      calls.push({ api: 'iam:DeleteLoginProfile', target: r.id, what: `delete the console password of ${r.id}`, run: () => ops.deleteLoginProfile(r.id) });
      warnings.push('Console sign-in of this user stops at once; existing console sessions last until they expire.');
      return plan(`Delete the console password of ${r.id}`);
    }
    case 'detach-policy':
    case 'delete-user-policy': {
      const [user, policy] = splitPair(r.id);
      const h = await ops.userHoldings(user);
      if (!h) throw new KeysentryError(`IAM user ${user} was not found`);
      const attached = target.kind === 'detach-policy';
      const list = attached ? h.attachedPolicies : h.inlinePolicies;
      checked.push(`iam:${attached ? 'ListAttachedUserPolicies' : 'ListUserPolicies'}: ${user} has ${list.join(', ') || 'none'}`);
      if (!list.includes(policy)) throw new KeysentryError(`${policy} is no longer ${attached ? 'attached to' : 'an inline policy of'} ${user}`);
      calls.push(
        attached
          ? { api: 'iam:DetachUserPolicy', target: user, what: `detach ${policy} from ${user}`, run: () => ops.detachUserPolicy(user, policy) }
          : { api: 'iam:DeleteUserPolicy', target: user, what: `delete inline policy ${policy} of ${user}`, run: () => ops.deleteUserPolicy(user, policy) },
      );
      // Never without a refusal: removing a policy of the signing user can take away the permissions it is using.
      if (myUser === user) throw new KeysentryError(`you are signing as IAM user ${user}: ${attached ? 'detaching' : 'deleting'} ${policy} could take away the permissions you are using. Sign in with another identity (a profile or SSO) first`);
      return plan(attached ? `Detach ${policy} from ${user}` : `Delete inline policy ${policy} of ${user}`);
    }
    case 'cancel-spot-request': {
      if (!r.region) throw new KeysentryError(`the region of ${r.id} is unknown`);
      const s = await ops.spotRequest(r.region, r.id);
      if (!s) throw new KeysentryError(`spot request ${r.id} was not found in ${r.region}`);
      checked.push(`ec2:DescribeSpotInstanceRequests: ${r.id} is ${s.state}${s.instanceId ? `, instance ${s.instanceId}` : ''}`);
      if (s.state === 'cancelled' || s.state === 'closed') throw new KeysentryError(`spot request ${r.id} is already ${s.state}`);
      const region = r.region;
      calls.push({ api: 'ec2:CancelSpotInstanceRequests', target: r.id, region, what: `cancel ${r.id} (no new instance is launched for it)`, run: () => ops.cancelSpotRequest(region, r.id) });
      if (s.instanceId) warnings.push(`Cancelling does not stop ${s.instanceId}, which it already launched: terminate it too (after its snapshots).`);
      return plan(`Cancel spot request ${r.id}`);
    }
    case 'revoke-rule': {
      if (!r.region) throw new KeysentryError(`the region of ${r.id} is unknown`);
      const [group, ruleId] = splitPair(r.id);
      const rules = await ops.groupRules(r.region, group);
      const rule = rules.find((x) => x.ruleId === ruleId);
      checked.push(`ec2:DescribeSecurityGroupRules: ${rules.length} rule(s) on ${group}${rule ? `, ${ruleId} is ${rule.protocol === '-1' ? 'all traffic' : `${rule.protocol} ${rule.fromPort ?? ''}-${rule.toPort ?? ''}`} ${rule.egress ? 'to' : 'from'} ${rule.cidr ?? rule.peer ?? '?'}` : ''}`);
      if (!rule) throw new KeysentryError(`rule ${ruleId} is no longer on ${group}`);
      const region = r.region;
      calls.push({
        api: rule.egress ? 'ec2:RevokeSecurityGroupEgress' : 'ec2:RevokeSecurityGroupIngress',
        target: group,
        region,
        what: `remove rule ${ruleId}`,
        run: () => (rule.egress ? ops.revokeEgress(region, group, [ruleId]) : ops.revokeIngress(region, group, [ruleId])),
      });
      warnings.push('Security groups are stateful: connections already open are not cut by removing a rule.');
      return plan(`Revoke rule ${ruleId} of ${group}`);
    }
  }
}

import { redact } from '../core/mask';
import { KeysentryError } from '../core/types';

/** IAM permissions each call needs, for messages and the README's minimal policy. */
export const PERMISSION: Record<string, string> = {
  GetCallerIdentity: 'none (always allowed)',
  LookupEvents: 'cloudtrail:LookupEvents',
  GetMetricData: 'cloudwatch:GetMetricData',
  GetCostAndUsage: 'ce:GetCostAndUsage',
  GetAccessKeyInfo: 'sts:GetAccessKeyInfo',
  GetAccessKeyLastUsed: 'iam:GetAccessKeyLastUsed',
  ListUsers: 'iam:ListUsers',
  ListAccessKeys: 'iam:ListAccessKeys',
  ListAttachedUserPolicies: 'iam:ListAttachedUserPolicies',
  UpdateAccessKey: 'iam:UpdateAccessKey',
  CreateAccessKey: 'iam:CreateAccessKey',
  DeleteAccessKey: 'iam:DeleteAccessKey',
  ListMFADevices: 'iam:ListMFADevices',
  GetLoginProfile: 'iam:GetLoginProfile',
  GetAccountSummary: 'iam:GetAccountSummary',
  PutUserPolicy: 'iam:PutUserPolicy',
  DescribeRegions: 'ec2:DescribeRegions',
  DescribeInstances: 'ec2:DescribeInstances',
  DescribeInstanceAttribute: 'ec2:DescribeInstanceAttribute',
  DescribeSecurityGroups: 'ec2:DescribeSecurityGroups',
  DescribeSecurityGroupRules: 'ec2:DescribeSecurityGroupRules',
  DescribeKeyPairs: 'ec2:DescribeKeyPairs',
  DescribeSnapshots: 'ec2:DescribeSnapshots',
  ModifyInstanceAttribute: 'ec2:ModifyInstanceAttribute',
  CreateSecurityGroup: 'ec2:CreateSecurityGroup',
  RevokeSecurityGroupIngress: 'ec2:RevokeSecurityGroupIngress',
  RevokeSecurityGroupEgress: 'ec2:RevokeSecurityGroupEgress',
  CreateSnapshots: 'ec2:CreateSnapshots',
  CreateTags: 'ec2:CreateTags',
  StopInstances: 'ec2:StopInstances',
  TerminateInstances: 'ec2:TerminateInstances',
  DeleteKeyPair: 'ec2:DeleteKeyPair',
};

/** An AWS failure, said plainly: what was denied or unreachable, and what to do. Never carries a secret. */
export class AwsCallError extends KeysentryError {
  constructor(
    message: string,
    readonly code: string,
    readonly action: string,
  ) {
    super(message);
    this.name = 'AwsCallError';
  }
}

export function explainAwsError(action: string, e: unknown, who?: string): AwsCallError {
  const err = e as { name?: string; Code?: string; message?: string; code?: string; $metadata?: { attempts?: number } };
  const code = err.name ?? err.Code ?? err.code ?? 'Error';
  const detail = redact(err.message ?? String(e));
  const attempts = err.$metadata?.attempts;
  let message: string;
  if (/AccessDenied|UnauthorizedOperation|NotAuthorized/.test(code)) {
    message = `AWS denied ${action}${who ? ` to ${who}` : ''}. It needs ${PERMISSION[action] ?? `permission for ${action}`}; an SCP, a permissions boundary or the AWSCompromisedKeyQuarantine policy can also deny it. (${detail})`;
  } else if (/Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/.test(code)) {
    message = `AWS kept throttling ${action}${attempts ? ` after ${attempts} attempts` : ''}. Nothing was lost; try again in a minute.`;
  } else if (/InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient|ExpiredToken|CredentialsProviderError|TokenProviderError/.test(code) || /Could not load credentials|SSO session/.test(detail)) {
    message = `the signing credentials were not accepted (${code}): sign in again (for SSO: aws sso login), or choose another profile. (${detail})`;
  } else if (/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|socket hang up|TimeoutError|NetworkingError|EAI_AGAIN/.test(`${code} ${detail}`)) {
    message = `cannot reach AWS for ${action}${attempts ? ` after ${attempts} attempts` : ''} (${detail}). Check the network, the region and any endpoint override.`;
  } else {
    message = `${action} failed: ${code}: ${detail}`;
  }
  return new AwsCallError(message, code, action);
}

import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { EC2Client } from '@aws-sdk/client-ec2';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { statSync } from 'node:fs';
import { configFile, credentialsFile, profileRegion } from '../core/awsProfiles';
import { KeysentryError } from '../core/types';

/** Who signs and where the calls go: AWS's own conventions (profiles, SSO, env, regions, AWS_ENDPOINT_URL). */
export interface AwsTarget {
  /** Named profile; undefined = the default chain (env, default profile, SSO, process, IMDS). */
  profile?: string;
  region: string;
  /** An endpoint override for every service (moto, LocalStack, a VPC endpoint). */
  endpoint?: string;
}

/**
 * The AWS SDK reads ~/.aws/config and ~/.aws/credentials (through symlinks) for every client; a
 * FIFO or a device there would make it wait forever (or read without end). Refused up front.
 */
export function checkSharedFiles(): void {
  for (const f of [configFile(), credentialsFile()]) {
    let st;
    try {
      st = statSync(f);
    } catch {
      continue; // missing: fine
    }
    if (!st.isFile()) throw new KeysentryError(`${f} is not a regular file (a FIFO, a device or a folder): the AWS SDK reads it and would wait on it forever. Point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at a regular file.`);
    if (st.size > 16 * 1024 * 1024) throw new KeysentryError(`${f} is ${st.size} bytes: too large to be an AWS configuration file`);
  }
}

export function resolveTarget(opts: { profile?: string; region?: string; endpoint?: string }): AwsTarget {
  checkSharedFiles();
  const profile = opts.profile || process.env.AWS_PROFILE || undefined;
  const region = opts.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || profileRegion(profile ?? 'default') || 'us-east-1';
  const endpoint = opts.endpoint || process.env.AWS_ENDPOINT_URL || undefined;
  return { profile, region, endpoint };
}

// The pinned SDK runs on Node 20; its notice about future releases needing Node 22 is not for our users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Timeouts for every AWS call. A call that never answers must fail (the SDK only logs a warning
 * unless told to throw), or a rotation holding its locks would wait forever and ignore Ctrl-C.
 */
export const requestHandlerOptions = () => ({
  connectionTimeout: 5000,
  requestTimeout: Number(process.env.KEYSENTRY_AWS_REQUEST_TIMEOUT_MS) || 30_000,
  throwOnRequestTimeout: true,
});

const maxAttempts = (): number => Number(process.env.KEYSENTRY_AWS_MAX_ATTEMPTS) || 6;

function common(t: AwsTarget, credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider, attempts?: number) {
  return {
    region: t.region,
    ...(t.endpoint ? { endpoint: t.endpoint } : {}),
    credentials: credentials ?? fromNodeProviderChain(t.profile ? { profile: t.profile } : {}),
    // Throttling, 5xx and dropped connections are retried with backoff.
    maxAttempts: attempts ?? maxAttempts(),
    retryMode: 'standard',
    requestHandler: requestHandlerOptions(),
  };
}

export const iamClient = (t: AwsTarget, credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider, attempts?: number): IAMClient => new IAMClient(common(t, credentials, attempts));
export const stsClient = (t: AwsTarget, credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider, attempts?: number): STSClient => new STSClient(common(t, credentials, attempts));
export const ec2Client = (t: AwsTarget, region?: string): EC2Client => new EC2Client(common({ ...t, region: region ?? t.region }));

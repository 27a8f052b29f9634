import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { EC2Client } from '@aws-sdk/client-ec2';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { loadConfig, NODE_REGION_CONFIG_FILE_OPTIONS, NODE_REGION_CONFIG_OPTIONS } from '@smithy/core/config';
import { sharedFilesProblem } from '../core/awsProfiles';
import { KeysentryError } from '../core/types';
import { VERSION } from '../core/version';

/**
 * Who signs and where the calls go. Only what the user chose (an option, a setting) is set here;
 * everything else (AWS_PROFILE, AWS_REGION, a profile's region and endpoint_url,
 * AWS_ENDPOINT_URL_<SERVICE>, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, SSO, credential_process) is
 * left to the AWS SDK, so Keysentry resolves them exactly as the AWS CLI and every SDK do.
 */
export interface AwsTarget {
  /** Named profile; undefined = the default chain (env, AWS_PROFILE, default profile, SSO, process, IMDS). */
  profile?: string;
  /** The region the user chose; undefined = what the SDK resolves for the profile, else us-east-1 (see `regionOf`). */
  region?: string;
  /** An endpoint the user chose for every service (moto, LocalStack, a VPC endpoint); undefined = the SDK's own resolution. */
  endpoint?: string;
}

/** Refuses shared AWS files the SDK would hang on (a FIFO, a device) or read without end. */
export function checkSharedFiles(): void {
  const problem = sharedFilesProblem();
  if (problem) throw new KeysentryError(problem);
}

/** A target from what the user set; nothing is read from the environment here (the SDK does that). */
export function resolveTarget(opts: { profile?: string; region?: string; endpoint?: string }): AwsTarget {
  checkSharedFiles();
  // AWS_PROFILE is named here only so messages and reports can say which profile signed; the SDK
  // would pick the same one.
  const profile = opts.profile || process.env.AWS_PROFILE || undefined;
  return { profile, region: opts.region || undefined, endpoint: opts.endpoint || undefined };
}

/**
 * The region of a target as the SDK resolves it (AWS_REGION, the profile's `region` parsed by the
 * SDK's own loader, so `region = us-west-2 # oregon` is us-west-2), else us-east-1 (IAM and STS are
 * global; the AWS CLI would refuse, Keysentry keeps its old default).
 */
function sdkRegion(profile: string | undefined): () => Promise<string> {
  // The SDK's own region loader (memoized by the SDK; files cached by its reader).
  const load = loadConfig(NODE_REGION_CONFIG_OPTIONS, { ...NODE_REGION_CONFIG_FILE_OPTIONS, ...(profile ? { profile } : {}) });
  let value: Promise<string> | undefined;
  return () => (value ??= load().then((r) => r || 'us-east-1', () => 'us-east-1'));
}

/** The region calls of this target go to: the user's choice, else the SDK's. */
export async function regionOf(t: AwsTarget): Promise<string> {
  return t.region ?? (await sdkRegion(t.profile)());
}

/** Asks for the code of an MFA device (`mfa_serial` in a profile); set by the CLI (terminal) and the editor (input box). */
export type MfaCodeProvider = (serial: string) => Promise<string>;
let mfaCodeProvider: MfaCodeProvider | undefined;
export function setMfaCodeProvider(p: MfaCodeProvider | undefined): void {
  mfaCodeProvider = p;
  credentialProviders.clear();
}
const askMfa: MfaCodeProvider = (serial) => {
  if (!mfaCodeProvider) return Promise.reject(new KeysentryError(`the profile needs a code from the MFA device ${serial} (mfa_serial), and there is nowhere to ask for it here: run Keysentry in a terminal, or use a profile without mfa_serial`));
  return mfaCodeProvider(serial);
};

/**
 * One credential provider per profile, memoized by the SDK and shared by every client (IAM, STS,
 * EC2 in every region): a `credential_process` runs once, an MFA code is asked once, until the
 * credentials expire. Long-term keys read from a file are forgotten after 15 minutes so an edited
 * ~/.aws/credentials is seen without a restart.
 */
const credentialProviders = new Map<string, { provider: AwsCredentialIdentityProvider; created: number }>();
const KEEP_MS = 15 * 60_000;
export function credentialsFor(t: AwsTarget): AwsCredentialIdentityProvider {
  // Also keyed by where credentials come from: the environment's key and the shared files' size
  // and time. A rotation that wrote a new key into a profile, `aws configure`, or a changed
  // environment takes effect at once, not after the 15 minutes.
  const key = [t.profile ?? '', process.env.AWS_PROFILE ?? '', process.env.AWS_ACCESS_KEY_ID ?? '', sharedFilesStamp()].join('\0');
  const hit = credentialProviders.get(key);
  if (hit && Date.now() - hit.created < KEEP_MS) return hit.provider;
  if (credentialProviders.size > 32) credentialProviders.clear();
  const provider = fromNodeProviderChain({ ...(t.profile ? { profile: t.profile } : {}), mfaCodeProvider: askMfa });
  credentialProviders.set(key, { provider, created: Date.now() });
  return provider;
}

function sharedFilesStamp(): string {
  const home = homedir();
  return [process.env.AWS_SHARED_CREDENTIALS_FILE || path.join(home, '.aws', 'credentials'), process.env.AWS_CONFIG_FILE || path.join(home, '.aws', 'config')]
    .map((f) => {
      try {
        const st = statSync(f);
        return `${st.size}:${st.mtimeMs}:${st.ino}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

/** Forgets every memoized credential (a profile was edited, a rotation replaced the key). */
export function forgetCredentials(): void {
  credentialProviders.clear();
}

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

/** `keysentry/<version>` in every request's User-Agent, so Keysentry's calls are recognisable in CloudTrail. */
export const USER_AGENT: [string, string] = ['keysentry', VERSION];

/**
 * The configuration every Keysentry client shares; other adapters (CloudTrail, CloudWatch, Cost
 * Explorer…) build theirs from it too. `region` overrides the target's (EC2 in each region).
 */
export function clientConfig(t: AwsTarget, opts: { credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider; attempts?: number; region?: string } = {}) {
  return {
    ...(t.profile ? { profile: t.profile } : {}),
    region: opts.region ?? t.region ?? sdkRegion(t.profile),
    ...(t.endpoint ? { endpoint: t.endpoint } : {}),
    credentials: opts.credentials ?? credentialsFor(t),
    // Throttling, 5xx and dropped connections are retried with backoff.
    maxAttempts: opts.attempts ?? maxAttempts(),
    retryMode: 'standard',
    requestHandler: requestHandlerOptions(),
    customUserAgent: [USER_AGENT],
  };
}

export const iamClient = (t: AwsTarget, credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider, attempts?: number): IAMClient => new IAMClient(clientConfig(t, { credentials, attempts }));
export const stsClient = (t: AwsTarget, credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider, attempts?: number): STSClient => new STSClient(clientConfig(t, { credentials, attempts }));
export const ec2Client = (t: AwsTarget, region?: string): EC2Client => new EC2Client(clientConfig(t, { region }));

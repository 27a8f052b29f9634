import { CloudTrailClient, LookupEventsCommand, type LookupAttributeKey } from '@aws-sdk/client-cloudtrail';
import { DescribeRegionsCommand } from '@aws-sdk/client-ec2';
import type { RegionFailure } from '../core/investigate/investigation';
import { parseLookupEvent, type TrailEvent } from '../core/investigate/trail';
import { KeysentryError } from '../core/types';
import { GetAccessKeyLastUsedCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { clientConfig, ec2Client, iamClient, stsClient, type AwsTarget } from './clients';
import { explainAwsError } from './errors';

export interface LookupHooks {
  onPage?: (region: string, eventsSoFar: number) => void;
  isCancelled?: () => boolean;
  /** Aborts the call in flight too (the editor's Cancel). */
  signal?: AbortSignal;
  /** Told each time a page is throttled past the SDK's own retries and waits before asking again. */
  onThrottle?: (region: string, waitMs: number) => void;
}

export type { RegionFailure };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** LookupEvents allows 2 requests per second per account and region: pages of one region are spaced by this much. */
const PAGE_SPACING_MS = Number(process.env.KEYSENTRY_LOOKUP_SPACING_MS) || 500;
/** After the SDK's retries, a throttled page waits this long (doubling) and is asked again, this many times. */
const THROTTLE_WAIT_MS = Number(process.env.KEYSENTRY_LOOKUP_THROTTLE_WAIT_MS) || 2000;
const THROTTLE_RETRIES = 4;
const throttled = (e: unknown): boolean => /Throttl|TooManyRequests|RequestLimitExceeded/.test((e as { name?: string }).name ?? '');

/**
 * CloudTrail event history of one access key or user, in each region (event history is
 * regional; IAM and STS calls are in us-east-1), over [from, to]. Pages through NextToken at
 * LookupEvents' rate; throttling is retried with backoff by the SDK; a region that fails is
 * reported and the others still count. Signed with the user's own identity.
 */
export async function lookupEvents(
  target: AwsTarget,
  attribute: { key: 'AccessKeyId' | 'Username'; value: string },
  regions: string[],
  window: { from: Date; to: Date },
  hooks: LookupHooks = {},
): Promise<{ events: TrailEvent[]; failures: RegionFailure[] }> {
  const events: TrailEvent[] = [];
  const seen = new Set<string>();
  const failures: RegionFailure[] = [];
  const one = async (region: string): Promise<void> => {
    // The shared client configuration: one memoized credential provider, the profile, the user agent.
    const client = new CloudTrailClient(clientConfig(target, { region, attempts: Number(process.env.KEYSENTRY_AWS_MAX_ATTEMPTS) || 8 }));
    let token: string | undefined;
    let pages = 0;
    try {
      do {
        if (hooks.isCancelled?.()) return;
        if (pages++) await sleep(PAGE_SPACING_MS);
        const command = new LookupEventsCommand({
          LookupAttributes: [{ AttributeKey: attribute.key as LookupAttributeKey, AttributeValue: attribute.value }],
          StartTime: window.from,
          EndTime: window.to,
          MaxResults: 50,
          NextToken: token,
        });
        let r;
        for (let attempt = 0; ; attempt++) {
          try {
            r = await client.send(command, hooks.signal ? { abortSignal: hooks.signal } : {});
            break;
          } catch (e) {
            // The SDK already retried with backoff; a region that keeps throttling (another tool
            // reading CloudTrail too) gets a few longer waits before it is reported.
            if (!throttled(e) || attempt >= THROTTLE_RETRIES || hooks.isCancelled?.()) throw e;
            const wait = THROTTLE_WAIT_MS * 2 ** attempt;
            hooks.onThrottle?.(region, wait);
            await sleep(wait);
          }
        }
        for (const raw of r.Events ?? []) {
          const e = parseLookupEvent(raw, region);
          // Global services' events can be returned by more than one region: one entry per event.
          if (e && !seen.has(e.id)) {
            seen.add(e.id);
            events.push(e);
          }
        }
        hooks.onPage?.(region, events.length);
        token = r.NextToken;
      } while (token);
    } catch (e) {
      if (hooks.isCancelled?.()) return;
      const err = explainAwsError('LookupEvents', e);
      failures.push({ region, message: err.message, denied: /AccessDenied|Unauthorized/.test(err.code) });
    } finally {
      client.destroy();
    }
  };
  // A few regions at a time: each has its own rate limit.
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(4, regions.length) }, async () => {
      while (next < regions.length) await one(regions[next++] as string);
    }),
  );
  return { events, failures };
}

/** Every region enabled for the account (EC2 DescribeRegions), or a clear error. */
export async function enabledRegions(target: AwsTarget): Promise<string[]> {
  try {
    const r = await ec2Client(target).send(new DescribeRegionsCommand({}));
    const names = (r.Regions ?? []).map((x) => x.RegionName).filter((x): x is string => !!x);
    if (!names.length) throw new KeysentryError('DescribeRegions returned no region');
    return names.sort();
  } catch (e) {
    if (e instanceof KeysentryError) throw e;
    throw explainAwsError('DescribeRegions', e);
  }
}

/**
 * Who signs, and a warning when it cannot (or should not) read the key's history: signing with
 * the leaked key itself, or as its IAM user, which AWS's quarantine policy
 * (AWSCompromisedKeyQuarantineV2/V3) denies cloudtrail:LookupEvents. Best effort: undefined note
 * when nothing is wrong or it cannot tell.
 */
export async function signerCheck(target: AwsTarget, keyId: string | undefined, user: string | undefined): Promise<{ arn?: string; note?: string }> {
  try {
    const sts = stsClient(target);
    const me = await sts.send(new GetCallerIdentityCommand({}));
    const arn = me.Arn ?? '';
    const creds = await sts.config.credentials();
    if (keyId && creds.accessKeyId === keyId) return { arn, note: `you are signing with ${keyId}, the leaked key itself: every call it makes is recorded in its history too, and AWS's quarantine policy denies it LookupEvents. Sign as another principal (--profile).` };
    let owner = user;
    if (!owner && keyId) owner = (await iamClient(target).send(new GetAccessKeyLastUsedCommand({ AccessKeyId: keyId })).catch(() => undefined))?.UserName;
    const signerUser = /:user\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1];
    if (owner && signerUser === owner) return { arn, note: `you sign as IAM user ${owner}, the user of the leaked key. When AWS quarantines it (AWSCompromisedKeyQuarantine policy), it is denied cloudtrail:LookupEvents: sign as another principal (--profile).` };
    return { arn };
  } catch {
    return {};
  }
}

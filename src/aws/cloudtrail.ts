import { CloudTrailClient, LookupEventsCommand, type LookupAttributeKey } from '@aws-sdk/client-cloudtrail';
import { DescribeRegionsCommand } from '@aws-sdk/client-ec2';
import { parseLookupEvent, type TrailEvent } from '../core/investigate/trail';
import { KeysentryError } from '../core/types';
import { clientConfig, ec2Client, type AwsTarget } from './clients';
import { explainAwsError } from './errors';

export interface LookupHooks {
  onPage?: (region: string, eventsSoFar: number) => void;
  isCancelled?: () => boolean;
}

export interface RegionFailure {
  region: string;
  message: string;
  denied: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** LookupEvents allows 2 requests per second per account and region: pages of one region are spaced by this much. */
const PAGE_SPACING_MS = 500;

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
        const r = await client.send(
          new LookupEventsCommand({
            LookupAttributes: [{ AttributeKey: attribute.key as LookupAttributeKey, AttributeValue: attribute.value }],
            StartTime: window.from,
            EndTime: window.to,
            MaxResults: 50,
            NextToken: token,
          }),
        );
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

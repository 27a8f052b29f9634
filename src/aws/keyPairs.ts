import { DescribeInstancesCommand, DescribeKeyPairsCommand } from '@aws-sdk/client-ec2';
import { matchesKeyPair, type KeyPairFingerprints } from '../core/investigate/keyPairs';
import { ec2Client, type AwsTarget } from './clients';
import { explainAwsError } from './errors';

export interface KeyPairMatch {
  region: string;
  keyName: string;
  keyPairId: string | null;
  /** Instances launched with that key pair (any state but terminated). */
  instances: Array<{ id: string; state: string | null }>;
}

/**
 * The EC2 key pairs, in each region, whose fingerprint is one of these keys', and the instances
 * launched with them. Read-only: DescribeKeyPairs and DescribeInstances (filtered by key-name).
 */
export async function findKeyPairs(
  target: AwsTarget,
  keys: KeyPairFingerprints[],
  regions: string[],
): Promise<{ matches: KeyPairMatch[][]; failures: Array<{ region: string; message: string }> }> {
  const matches: KeyPairMatch[][] = keys.map(() => []);
  const failures: Array<{ region: string; message: string }> = [];
  let next = 0;
  const one = async (region: string): Promise<void> => {
    const ec2 = ec2Client(target, region);
    try {
      const pairs = (await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs ?? [];
      for (const [i, k] of keys.entries()) {
        for (const p of pairs) {
          if (!p.KeyFingerprint || !p.KeyName || !matchesKeyPair(k, p.KeyFingerprint)) continue;
          const instances: KeyPairMatch['instances'] = [];
          let token: string | undefined;
          do {
            const r = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'key-name', Values: [p.KeyName] }], NextToken: token }));
            for (const res of r.Reservations ?? []) for (const inst of res.Instances ?? []) if (inst.InstanceId && inst.State?.Name !== 'terminated') instances.push({ id: inst.InstanceId, state: inst.State?.Name ?? null });
            token = r.NextToken;
          } while (token);
          matches[i]!.push({ region, keyName: p.KeyName, keyPairId: p.KeyPairId ?? null, instances });
        }
      }
    } catch (e) {
      const action = /DescribeInstances/.test(String((e as Error)?.message)) ? 'DescribeInstances' : 'DescribeKeyPairs';
      failures.push({ region, message: explainAwsError(action, e).message });
    } finally {
      ec2.destroy();
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(4, regions.length) }, async () => {
      while (next < regions.length) await one(regions[next++] as string);
    }),
  );
  for (const m of matches) m.sort((a, b) => a.region.localeCompare(b.region) || a.keyName.localeCompare(b.keyName));
  return { matches, failures };
}

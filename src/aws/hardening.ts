// The hardening checks' reads and fixes, through the real SDK: GuardDuty detectors (per region),
// CloudTrail trails and their status, billing alarms (us-east-1) and budgets, the security alternate
// contact, and every IAM access key (for "deactivate every key except the one signing").
import { AccountClient, GetAlternateContactCommand, PutAlternateContactCommand } from '@aws-sdk/client-account';
import { BudgetsClient, CreateBudgetCommand, DescribeBudgetsCommand, type DescribeBudgetsCommandOutput } from '@aws-sdk/client-budgets';
import { CloudTrailClient, DescribeTrailsCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient, DescribeAlarmsCommand, type DescribeAlarmsCommandOutput } from '@aws-sdk/client-cloudwatch';
import { CreateDetectorCommand, GuardDutyClient, ListDetectorsCommand, type ListDetectorsCommandOutput } from '@aws-sdk/client-guardduty';
import { ListAccessKeysCommand, ListUsersCommand, UpdateAccessKeyCommand, type ListUsersCommandOutput } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { HardeningFacts, HardeningOps } from '../core/incidents/hardening';
import { clientConfig, iamClient, stsClient, type AwsTarget } from './clients';

// The shared client configuration (memoized credentials, user agent, timeouts): src/aws/clients.ts.
const common = (t: AwsTarget, region?: string) => clientConfig(t, { region });

const notFound = (e: unknown): boolean => /ResourceNotFound|NotFoundException/.test((e as { name?: string }).name ?? '');

/** Detector ids of one region (ListDetectors, paged). */
export async function listDetectors(t: AwsTarget, region: string): Promise<string[]> {
  const gd = new GuardDutyClient(common(t, region));
  try {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page: ListDetectorsCommandOutput = await gd.send(new ListDetectorsCommand({ NextToken: token }));
      ids.push(...(page.DetectorIds ?? []));
      token = page.NextToken;
    } while (token);
    return ids;
  } finally {
    gd.destroy();
  }
}

type Missed = (fact: string, where: string, api: string, e: unknown) => void;

/**
 * The account-wide hardening facts (trails, billing alarms, budgets, security contact). Each read
 * that fails leaves its fact undefined and is recorded through `missed`; the others still run.
 */
export async function readAccountHardening(t: AwsTarget, accountId: string, facts: HardeningFacts, missed: Missed): Promise<void> {
  const trails = async (): Promise<void> => {
    const ct = new CloudTrailClient(common(t, t.region));
    try {
      // includeShadowTrails: multi-region trails created in other regions are listed too.
      const list = (await ct.send(new DescribeTrailsCommand({ includeShadowTrails: true }))).trailList ?? [];
      const out: NonNullable<HardeningFacts['trails']> = list.map((x) => ({ name: x.Name ?? '?', arn: x.TrailARN, homeRegion: x.HomeRegion, multiRegion: !!x.IsMultiRegionTrail }));
      for (const tr of out.filter((x) => x.multiRegion)) {
        // A trail's status is read in its home region, by ARN.
        const home = tr.homeRegion && tr.homeRegion !== t.region ? new CloudTrailClient(common(t, tr.homeRegion)) : ct;
        try {
          tr.logging = !!(await home.send(new GetTrailStatusCommand({ Name: tr.arn ?? tr.name }))).IsLogging;
        } catch (e) {
          missed(`trailStatus:${tr.name}`, `CloudTrail trail ${tr.name}`, 'GetTrailStatus', e);
        } finally {
          if (home !== ct) home.destroy();
        }
      }
      facts.trails = out;
    } catch (e) {
      missed('trails', 'CloudTrail', 'DescribeTrails', e);
    } finally {
      ct.destroy();
    }
  };
  const alarms = async (): Promise<void> => {
    const cw = new CloudWatchClient(common(t, 'us-east-1'));
    try {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page: DescribeAlarmsCommandOutput = await cw.send(new DescribeAlarmsCommand({ NextToken: token, AlarmTypes: ['MetricAlarm'], MaxRecords: 100 }));
        for (const a of page.MetricAlarms ?? []) {
          const billing = (a.Namespace === 'AWS/Billing' && a.MetricName === 'EstimatedCharges') || (a.Metrics ?? []).some((m) => m.MetricStat?.Metric?.Namespace === 'AWS/Billing' && m.MetricStat.Metric.MetricName === 'EstimatedCharges');
          if (billing) names.push(a.AlarmName ?? '?');
        }
        token = page.NextToken;
      } while (token);
      facts.billingAlarms = names;
    } catch (e) {
      missed('billingAlarms', 'CloudWatch (us-east-1)', 'DescribeAlarms', e);
    } finally {
      cw.destroy();
    }
  };
  const budgets = async (): Promise<void> => {
    const b = new BudgetsClient(common(t, 'us-east-1'));
    try {
      facts.budgets = await budgetNames(b, accountId);
    } catch (e) {
      missed('budgets', 'Budgets', 'DescribeBudgets', e);
    } finally {
      b.destroy();
    }
  };
  const contact = async (): Promise<void> => {
    const acc = new AccountClient(common(t, 'us-east-1'));
    try {
      facts.securityContact = await securityContactOf(acc);
    } catch (e) {
      missed('securityContact', 'Account', 'GetAlternateContact', e);
    } finally {
      acc.destroy();
    }
  };
  await Promise.all([trails(), alarms(), budgets(), contact()]);
}

async function budgetNames(b: BudgetsClient, accountId: string): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page: DescribeBudgetsCommandOutput = await b.send(new DescribeBudgetsCommand({ AccountId: accountId, NextToken: token }));
    names.push(...(page.Budgets ?? []).map((x) => x.BudgetName ?? '?'));
    token = page.NextToken ?? undefined;
  } while (token);
  return names;
}

async function securityContactOf(acc: AccountClient): Promise<{ email: string; name?: string } | null> {
  try {
    const c = (await acc.send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' }))).AlternateContact;
    return c?.EmailAddress ? { email: c.EmailAddress, name: c.Name } : null;
  } catch (e) {
    // AWS answers ResourceNotFoundException when no contact of that type is set.
    if (notFound(e)) return null;
    throw e;
  }
}

/** The hardening actions' calls, through the real SDK. Errors are thrown as the SDK raised them. */
export class AwsHardening implements HardeningOps {
  constructor(private readonly t: AwsTarget) {}

  async caller(): Promise<{ arn: string; account: string; accessKeyId?: string }> {
    const sts = stsClient(this.t);
    const me = await sts.send(new GetCallerIdentityCommand({}));
    const creds = await sts.config.credentials();
    return { arn: me.Arn ?? '?', account: me.Account ?? '?', accessKeyId: creds.accessKeyId };
  }
  detectors(region: string): Promise<string[]> {
    return listDetectors(this.t, region);
  }
  async createDetector(region: string): Promise<string> {
    const gd = new GuardDutyClient(common(this.t, region));
    try {
      return (await gd.send(new CreateDetectorCommand({ Enable: true }))).DetectorId ?? '?';
    } finally {
      gd.destroy();
    }
  }
  async budgets(accountId: string): Promise<string[]> {
    const b = new BudgetsClient(common(this.t, 'us-east-1'));
    try {
      return await budgetNames(b, accountId);
    } finally {
      b.destroy();
    }
  }
  async createBudget(accountId: string, name: string, limitUsd: number, email: string): Promise<void> {
    const b = new BudgetsClient(common(this.t, 'us-east-1'));
    const to = [{ SubscriptionType: 'EMAIL' as const, Address: email }];
    try {
      await b.send(
        new CreateBudgetCommand({
          AccountId: accountId,
          Budget: { BudgetName: name, BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: limitUsd.toFixed(2), Unit: 'USD' } },
          NotificationsWithSubscribers: [
            { Notification: { NotificationType: 'ACTUAL', ComparisonOperator: 'GREATER_THAN', Threshold: 80, ThresholdType: 'PERCENTAGE' }, Subscribers: to },
            { Notification: { NotificationType: 'FORECASTED', ComparisonOperator: 'GREATER_THAN', Threshold: 100, ThresholdType: 'PERCENTAGE' }, Subscribers: to },
          ],
        }),
      );
    } finally {
      b.destroy();
    }
  }
  async securityContact(): Promise<{ email: string; name?: string } | null> {
    const acc = new AccountClient(common(this.t, 'us-east-1'));
    try {
      return await securityContactOf(acc);
    } finally {
      acc.destroy();
    }
  }
  async putSecurityContact(c: { email: string; name: string; phone: string; title: string }): Promise<void> {
    const acc = new AccountClient(common(this.t, 'us-east-1'));
    try {
      await acc.send(new PutAlternateContactCommand({ AlternateContactType: 'SECURITY', EmailAddress: c.email, Name: c.name, PhoneNumber: c.phone, Title: c.title }));
    } finally {
      acc.destroy();
    }
  }
  async accessKeys(): Promise<Array<{ user: string; id: string; status: string }>> {
    const iam = iamClient(this.t);
    const users: string[] = [];
    let marker: string | undefined;
    do {
      const page: ListUsersCommandOutput = await iam.send(new ListUsersCommand({ Marker: marker }));
      users.push(...(page.Users ?? []).map((u) => u.UserName ?? '').filter(Boolean));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    const out: Array<{ user: string; id: string; status: string }> = [];
    for (const user of users) {
      const keys = (await iam.send(new ListAccessKeysCommand({ UserName: user }))).AccessKeyMetadata ?? [];
      for (const k of keys) out.push({ user, id: k.AccessKeyId ?? '?', status: k.Status ?? '?' });
    }
    return out;
  }
  async deactivateKey(user: string, keyId: string): Promise<void> {
    await iamClient(this.t).send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: keyId, Status: 'Inactive' }));
  }
}

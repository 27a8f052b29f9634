import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListUsersCommand,
  UpdateAccessKeyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { GetAccessKeyInfoCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { AccessKeyMeta } from '../core/rotation/types';
import type { AwsOps } from '../core/rotation/rotate';
import { iamClient, stsClient, type AwsTarget } from './clients';
import { explainAwsError } from './errors';

const isNotFound = (e: unknown): boolean => /NoSuchEntity|NotFound/.test((e as { name?: string }).name ?? '');

/** The rotation's calls, made with the AWS SDK against the user's own identity. */
export class IamOps implements AwsOps {
  private readonly iam: IAMClient;
  private callerArn?: string;
  /** The `Date` header of IAM's latest answer: IAM's clock, whatever this machine's says. */
  private lastServerDate?: string;

  constructor(private readonly target: AwsTarget) {
    this.iam = iamClient(target);
    this.iam.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        const date = (out.response as { headers?: Record<string, string | undefined> } | undefined)?.headers?.date;
        if (date && !Number.isNaN(Date.parse(date))) this.lastServerDate = new Date(Date.parse(date)).toISOString();
        return out;
      },
      { step: 'deserialize', name: 'keysentryServerDate' },
    );
  }

  serverTime(): string | undefined {
    return this.lastServerDate;
  }

  private async call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw explainAwsError(action, e, this.callerArn);
    }
  }

  async callerIdentity(): Promise<{ account: string; arn: string; accessKeyId?: string }> {
    const sts = stsClient(this.target);
    const id = await this.call('GetCallerIdentity', () => sts.send(new GetCallerIdentityCommand({})));
    const creds = await this.call('GetCallerIdentity', () => (sts.config.credentials as () => Promise<{ accessKeyId: string }>)());
    this.callerArn = id.Arn;
    return { account: id.Account ?? '', arn: id.Arn ?? '', accessKeyId: creds.accessKeyId };
  }

  async keyAccount(keyId: string): Promise<string | undefined> {
    try {
      return (await stsClient(this.target).send(new GetAccessKeyInfoCommand({ AccessKeyId: keyId }))).Account;
    } catch {
      return undefined; // STS could not say: the IAM lookup decides
    }
  }

  async keyOwner(keyId: string): Promise<{ userName?: string; lastUsed?: { date?: string; service?: string; region?: string } }> {
    try {
      const r = await this.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: keyId }));
      const u = r.AccessKeyLastUsed;
      return {
        userName: r.UserName,
        lastUsed: u?.LastUsedDate ? { date: u.LastUsedDate.toISOString(), service: u.ServiceName, region: u.Region } : undefined,
      };
    } catch (e) {
      if (!isNotFound(e) && !/AccessDenied/.test((e as { name?: string }).name ?? '')) throw explainAwsError('GetAccessKeyLastUsed', e, this.callerArn);
    }
    // Fallback: every user's keys.
    let marker: string | undefined;
    do {
      const page = await this.call('ListUsers', () => this.iam.send(new ListUsersCommand({ Marker: marker })));
      for (const user of page.Users ?? []) {
        const keys = await this.listKeys(user.UserName ?? '');
        if (keys.some((k) => k.id === keyId)) return { userName: user.UserName };
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return {};
  }

  async listKeys(userName: string): Promise<AccessKeyMeta[]> {
    const r = await this.call('ListAccessKeys', () => this.iam.send(new ListAccessKeysCommand({ UserName: userName })));
    return (r.AccessKeyMetadata ?? []).map((k) => ({ id: k.AccessKeyId ?? '', status: k.Status === 'Inactive' ? 'Inactive' : 'Active', created: k.CreateDate?.toISOString() }));
  }

  async attachedPolicies(userName: string): Promise<string[]> {
    const r = await this.call('ListAttachedUserPolicies', () => this.iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName })));
    return (r.AttachedPolicies ?? []).map((p) => p.PolicyName ?? '');
  }

  async setStatus(userName: string, keyId: string, status: 'Active' | 'Inactive'): Promise<void> {
    await this.call('UpdateAccessKey', () => this.iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: keyId, Status: status })));
  }

  /**
   * CreateAccessKey is not idempotent: a retry after a timeout or a dropped connection can make a
   * second key while the first one's secret is lost. So it is retried only when AWS answered with
   * throttling (the call did nothing); any other failure goes to the caller, whose journal says
   * the create may have happened (resume and rollback then find that key in IAM).
   */
  async createKey(userName: string): Promise<{ id: string; secret: string }> {
    const once = iamClient(this.target, undefined, 1);
    const attempts = Math.max(1, Number(process.env.KEYSENTRY_AWS_MAX_ATTEMPTS) || 6);
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await once.send(new CreateAccessKeyCommand({ UserName: userName }));
        return { id: r.AccessKey?.AccessKeyId ?? '', secret: r.AccessKey?.SecretAccessKey ?? '' };
      } catch (e) {
        const err = e as { name?: string; $metadata?: Record<string, unknown> };
        const throttled = /Throttl|TooManyRequests|RequestLimitExceeded/.test(err.name ?? '');
        if (!throttled || attempt >= attempts) {
          if (throttled) err.$metadata = { ...err.$metadata, attempts: attempt };
          throw explainAwsError('CreateAccessKey', e, this.callerArn);
        }
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random())));
      }
    }
  }

  async deleteKey(userName: string, keyId: string): Promise<void> {
    try {
      await this.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: keyId }));
    } catch (e) {
      if (!isNotFound(e)) throw explainAwsError('DeleteAccessKey', e, this.callerArn);
    }
  }

  async identityOf(keyId: string, secret: string): Promise<string> {
    // One attempt each: the caller retries while IAM propagates the new key.
    const sts = stsClient({ ...this.target, profile: undefined }, { accessKeyId: keyId, secretAccessKey: secret }, 1);
    const r = await sts.send(new GetCallerIdentityCommand({}));
    return r.Arn ?? '';
  }
}

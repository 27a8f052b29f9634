import { GetAccessKeyLastUsedCommand, ListAccessKeysCommand, type IAMClient } from '@aws-sdk/client-iam';
import { GetAccessKeyInfoCommand, GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { accountIdFromKeyId } from '../core/detect/accountId';
import { canaryOf } from '../core/investigate/canary';
import { judgeLiveness, type CallFailure, type KeyLiveness, type KeyLookupFacts } from '../core/investigate/liveness';
import { credentialsFor, iamClient, stsClient, type AwsTarget } from './clients';
import { explainAwsError, PERMISSION } from './errors';

function failure(action: string, e: unknown): CallFailure {
  const err = explainAwsError(action, e);
  const kind = /AccessDenied|UnauthorizedOperation|NotAuthorized/.test(err.code) ? 'denied' : /NoSuchEntity|NotFound/.test(err.code) ? 'not-found' : 'error';
  return { kind, permission: PERMISSION[action] ?? action, message: err.message };
}

/**
 * Looks keys up with the user's own identity: STS GetCallerIdentity once, then per key STS
 * GetAccessKeyInfo, IAM GetAccessKeyLastUsed and ListAccessKeys for its owner. Never signs with a
 * key it looks up (a key that is the signer's own is reported, not asked about). One lookup per
 * distinct key, a few at a time, remembered for the life of this object.
 */
export class KeyLookup {
  private readonly sts: STSClient;
  private readonly iam: IAMClient;
  private signerKey?: Promise<{ keyId?: string; failure?: CallFailure }>;
  private caller?: Promise<{ caller?: { account: string; arn: string }; failure?: CallFailure }>;
  private readonly cache = new Map<string, Promise<KeyLiveness>>();

  constructor(target: AwsTarget) {
    // One credential provider for both clients: a profile's credential_process or SSO runs once.
    const credentials = credentialsFor(target); // the shared, memoized provider of this profile
    this.sts = stsClient(target, credentials);
    this.iam = iamClient(target, credentials);
  }

  /** The access key id Keysentry would sign with, resolved locally (no call). */
  private signer(): Promise<{ keyId?: string; failure?: CallFailure }> {
    this.signerKey ??= (this.sts.config.credentials as () => Promise<{ accessKeyId: string }>)().then(
      (c) => ({ keyId: c.accessKeyId }),
      (e: unknown) => ({ failure: failure('GetCallerIdentity', e) }),
    );
    return this.signerKey;
  }

  private who(): Promise<{ caller?: { account: string; arn: string }; failure?: CallFailure }> {
    this.caller ??= this.sts.send(new GetCallerIdentityCommand({})).then(
      (id) => ({ caller: { account: id.Account ?? '', arn: id.Arn ?? '' } }),
      (e: unknown) => ({ failure: failure('GetCallerIdentity', e) }),
    );
    return this.caller;
  }

  check(keyId: string): Promise<KeyLiveness> {
    let p = this.cache.get(keyId);
    if (!p) {
      p = this.facts(keyId).then(judgeLiveness);
      this.cache.set(keyId, p);
    }
    return p;
  }

  /** Checks every key, `concurrency` at a time, in the order given. */
  async checkAll(keyIds: string[], concurrency = 4): Promise<KeyLiveness[]> {
    const out: KeyLiveness[] = new Array(keyIds.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keyIds.length) {
        const i = next++;
        out[i] = await this.check(keyIds[i] as string);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, keyIds.length) }, worker));
    return out;
  }

  private async facts(keyId: string): Promise<KeyLookupFacts> {
    const f: KeyLookupFacts = { keyId, decodedAccount: accountIdFromKeyId(keyId) };
    const canary = canaryOf(keyId);
    if (canary) return { ...f, canary };
    // Asking AWS anything signed with the key under investigation would be using it.
    const signer = await this.signer();
    if (signer.keyId === keyId) return { ...f, signerIsKey: true };
    if (signer.failure) return { ...f, callerFailure: signer.failure };
    const who = await this.who();
    if (!who.caller) return { ...f, callerFailure: who.failure };
    f.caller = who.caller;
    try {
      f.keyAccount = (await this.sts.send(new GetAccessKeyInfoCommand({ AccessKeyId: keyId }))).Account;
    } catch (e) {
      f.keyAccountFailure = failure('GetAccessKeyInfo', e);
    }
    const account = f.keyAccount ?? f.decodedAccount;
    if (account && account !== f.caller.account) return f;
    try {
      const r = await this.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: keyId }));
      if (!r.UserName) f.ownerFailure = { kind: 'not-found', permission: PERMISSION.GetAccessKeyLastUsed as string, message: 'no owner' };
      else {
        const u = r.AccessKeyLastUsed;
        f.owner = { userName: r.UserName, lastUsed: u?.LastUsedDate ? { date: u.LastUsedDate.toISOString(), service: u.ServiceName, region: u.Region } : undefined };
      }
    } catch (e) {
      f.ownerFailure = failure('GetAccessKeyLastUsed', e);
    }
    if (!f.owner || f.owner.userName === 'root') return f;
    try {
      let marker: string | undefined;
      do {
        const page = await this.iam.send(new ListAccessKeysCommand({ UserName: f.owner.userName, Marker: marker }));
        const k = page.AccessKeyMetadata?.find((m) => m.AccessKeyId === keyId);
        if (k) {
          f.listed = { status: k.Status === 'Inactive' ? 'Inactive' : 'Active', created: k.CreateDate?.toISOString() };
          break;
        }
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
    } catch (e) {
      f.listFailure = failure('ListAccessKeys', e);
    }
    return f;
  }
}

/** What STS said when asked with the found key itself. */
export interface KeyVerification {
  works: boolean;
  arn?: string;
  account?: string;
  reason: string;
}

/**
 * STS GetCallerIdentity signed with a found key: the one call that uses the key, so it is recorded
 * in the key owner's CloudTrail. Only on the user's explicit request, never for a canary token
 * (the caller refuses those first), and one attempt: a retry would be a second use.
 */
export async function verifyWithKey(target: AwsTarget, keyId: string, secret: string, sessionToken?: string): Promise<KeyVerification> {
  const sts = stsClient({ ...target, profile: undefined }, { accessKeyId: keyId, secretAccessKey: secret, ...(sessionToken ? { sessionToken } : {}) }, 1);
  try {
    const r = await sts.send(new GetCallerIdentityCommand({}));
    return { works: true, arn: r.Arn, account: r.Account, reason: `the key works: it signs as ${r.Arn ?? 'an unnamed principal'}` };
  } catch (e) {
    const err = explainAwsError('GetCallerIdentity', e);
    if (/InvalidClientTokenId|UnrecognizedClient/.test(err.code)) return { works: false, reason: 'AWS does not know this key id: it was deleted, or never existed' };
    if (/SignatureDoesNotMatch/.test(err.code)) return { works: false, reason: 'the key id exists but this secret does not match it' };
    if (/ExpiredToken/.test(err.code)) return { works: false, reason: 'these temporary credentials have expired' };
    throw err;
  }
}

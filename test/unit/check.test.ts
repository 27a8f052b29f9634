// keysentry check against moto through the real AWS SDK, as a separate process signing with the
// user's own key: active, inactive, deleted and other-account keys, a denied and a throttled
// lookup, the signer's own key (never asked about), bad input; JSON shape and exit codes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, IAMClient, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { assertNoSecret, runBuiltCli } from './helpers';
import { startFaultProxy, startMoto, type FaultProxy, type Moto } from '../aws/moto.mjs';
import type { KeyLiveness } from '../../src/core/investigate/liveness';
import { describeLiveness, judgeLiveness } from '../../src/core/investigate/liveness';

const OTHER_ACCOUNT = '111122223333';
let moto: Moto;
let proxy: FaultProxy;
const secrets: string[] = [];
const outputs: string[] = [];
let admin: { id: string; secret: string };

function iam(account?: string): IAMClient {
  const c = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'seed', secretAccessKey: 'seed' } });
  // moto's multi-account switch: this header picks the account the call acts in.
  if (account) c.middlewareStack.add((next) => (args) => ((args.request as { headers: Record<string, string> }).headers['x-moto-account-id'] = account, next(args)), { step: 'build' });
  return c;
}
async function userWithKey(user: string, account?: string): Promise<{ id: string; secret: string }> {
  await iam(account).send(new CreateUserCommand({ UserName: user }));
  const k = (await iam(account).send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!;
  secrets.push(k.SecretAccessKey!);
  return { id: k.AccessKeyId!, secret: k.SecretAccessKey! };
}

function check(args: string[], env: Record<string, string> = {}, endpoint = moto.endpoint): Promise<{ code: number | null; out: string; err: string }> {
  const base = { AWS_ACCESS_KEY_ID: admin.id, AWS_SECRET_ACCESS_KEY: admin.secret, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: endpoint, KEYSENTRY_AWS_MAX_ATTEMPTS: '3' };
  return runBuiltCli(['check', ...args], { ...base, ...env }, { outputs });
}
const json = (out: string): KeyLiveness[] => (JSON.parse(out) as { keys: KeyLiveness[] }).keys;

before(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint);
  admin = await userWithKey('admin');
});
after(async () => {
  await proxy?.stop();
  moto?.stop();
  assertNoSecret(outputs, secrets);
});

test('check: active, inactive, deleted and other-account keys, in one run (JSON shape, exit 1)', async () => {
  const active = await userWithKey('deploy-bot');
  const inactive = await userWithKey('ci.runner-old');
  await iam().send(new UpdateAccessKeyCommand({ UserName: 'ci.runner-old', AccessKeyId: inactive.id, Status: 'Inactive' }));
  const deleted = await userWithKey('gone');
  await iam().send(new DeleteAccessKeyCommand({ UserName: 'gone', AccessKeyId: deleted.id }));
  const foreign = await userWithKey('someone', OTHER_ACCOUNT);
  // Use the active key once, so IAM records a last use.
  await new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: active.id, secretAccessKey: active.secret } }).send(new GetCallerIdentityCommand({}));

  const r = await check([active.id, inactive.id, deleted.id, foreign.id, active.id, '--format', 'json']);
  assert.equal(r.code, 1, r.err);
  const keys = json(r.out);
  assert.equal(keys.length, 4, 'one entry per distinct key');
  const [a, i, d, o] = keys as [KeyLiveness, KeyLiveness, KeyLiveness, KeyLiveness];
  assert.deepEqual(Object.keys(a).sort(), ['accountId', 'created', 'keyId', 'lastUsed', 'reason', 'status', 'user']);
  assert.equal(a.status, 'active');
  assert.equal(a.user, 'deploy-bot');
  assert.equal(a.accountId, '123456789012');
  assert.match(a.created ?? '', /^\d{4}-\d\d-\d\dT/);
  assert.equal(i.status, 'inactive');
  assert.equal(i.user, 'ci.runner-old');
  assert.equal(d.status, 'deleted');
  assert.equal(d.user, null);
  assert.equal(o.status, 'other-account');
  assert.equal(o.accountId, OTHER_ACCOUNT);
  assert.match(o.reason, /111122223333/);

  const text = await check([inactive.id, deleted.id]);
  assert.equal(text.code, 0, 'none active: exit 0');
  assert.match(text.out, new RegExp(`${inactive.id}\\s+inactive\\s+inactive key of IAM user ci\\.runner-old`));
  assert.match(text.out, new RegExp(`${deleted.id}\\s+deleted`));
});

test('check: a denied lookup says which permission; a throttled one is retried', async () => {
  const k = await userWithKey('denied-bot');
  proxy.inject('GetAccessKeyLastUsed', 'deny', 1);
  const denied = await check([k.id, '--format', 'json'], {}, proxy.endpoint);
  assert.equal(denied.code, 2, 'could not check: exit 2');
  const [d] = json(denied.out) as [KeyLiveness];
  assert.equal(d.status, 'unknown');
  assert.equal(d.reason, 'could not check: iam:GetAccessKeyLastUsed denied');

  proxy.inject('ListAccessKeys', 'throttle', 1);
  const throttled = await check([k.id, '--format', 'json'], {}, proxy.endpoint);
  assert.equal(throttled.code, 1);
  assert.equal(json(throttled.out)[0]?.status, 'active');
});

test('check: the key Keysentry would sign with is never used to ask about itself', async () => {
  const own = await userWithKey('me');
  const before = proxy.calls.length;
  const r = await check([own.id, '--format', 'json'], { AWS_ACCESS_KEY_ID: own.id, AWS_SECRET_ACCESS_KEY: own.secret }, proxy.endpoint);
  assert.equal(r.code, 2);
  const [l] = json(r.out) as [KeyLiveness];
  assert.equal(l.status, 'unknown');
  assert.match(l.reason, /would sign with/);
  assert.deepEqual(proxy.calls.slice(before), [], 'no AWS call at all');
});

test('check: bad input is a clear error (exit 2), with control characters made printable', async () => {
  const r = await check(['AKIA\x1b[2Jnot-a-key']);
  assert.equal(r.code, 2);
  assert.match(r.err, /not an AWS access key id/);
  assert.ok(!r.err.includes('\x1b'), 'no raw escape character');
  const none = await check([]);
  assert.equal(none.code, 2);
  assert.match(none.err, /at least one access key id/);
  const unreachable = await check(['AKIAIOSFODNN7EXAMPLZ', '--format', 'json'], { KEYSENTRY_AWS_MAX_ATTEMPTS: '1' }, 'http://127.0.0.1:9');
  assert.equal(unreachable.code, 2);
  assert.equal(json(unreachable.out)[0]?.status, 'unknown');
  assert.match(json(unreachable.out)[0]?.reason ?? '', /could not check: cannot reach AWS/);
});

/** A key id whose embedded account (decoded as AWS does) is `account`. */
function keyIdForAccount(account: string): string {
  const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bits = (((BigInt(account) << 7n) | 0x35n) << 32n) | BigInt(Math.floor(Math.random() * 2 ** 32));
  let body = '';
  for (let i = 15; i >= 0; i--) body += B32[Number((bits >> BigInt(i * 5)) & 31n)];
  return `AKIA${body}`;
}

test('check: a canary-token key (Thinkst account) is reported without any AWS call, and never verified with itself', async () => {
  const canary = keyIdForAccount('052310077262');
  const before = proxy.calls.length;
  const r = await check([canary, '--format', 'json'], {}, proxy.endpoint);
  assert.equal(r.code, 0);
  const [l] = json(r.out) as [KeyLiveness];
  assert.equal(l.status, 'other-account');
  assert.equal(l.accountId, '052310077262');
  assert.match(l.reason, /canary token from canarytokens\.org/);
  const v = await check([canary, '--verify-with-key'], {}, proxy.endpoint);
  assert.equal(v.code, 2);
  assert.match(v.err, /will not use .*canary token/);
  assert.deepEqual(proxy.calls.slice(before), [], 'no AWS call at all');
});

test('liveness: the sentence a person reads', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  const l = judgeLiveness({
    keyId: 'AKIAEXAMPLEEXAMPLE22',
    caller: { account: '123456789012', arn: 'arn:aws:iam::123456789012:user/admin' },
    keyAccount: '123456789012',
    owner: { userName: 'deploy-bot', lastUsed: { date: '2026-11-22T10:00:00Z', service: 's3', region: 'eu-west-1' } },
    listed: { status: 'Active', created: '2026-01-01T00:00:00Z' },
  });
  assert.equal(describeLiveness(l, now), 'active key of IAM user deploy-bot (account 123456789012), last used 2 h ago by s3 in eu-west-1');
  const never = judgeLiveness({ keyId: 'AKIAEXAMPLEEXAMPLE22', caller: { account: '1', arn: 'x' }, keyAccount: '1', owner: { userName: 'u', lastUsed: { date: undefined, service: 'N/A', region: 'N/A' } }, listed: { status: 'Inactive' } });
  assert.equal(never.lastUsed, null);
  assert.match(describeLiveness(never, now), /inactive key of IAM user u .*never used/);
});

// keysentry check --verify-with-key against a moto that authenticates requests (moto's
// INITIAL_NO_AUTH_ACTION_COUNT: after the seeding calls, an unknown key id or a wrong secret is
// refused as AWS refuses it), through the real SDK: a working key, a wrong secret, a deleted key;
// the secret only from standard input; no secret in any output.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, IAMClient } from '@aws-sdk/client-iam';
import { assertNoSecret, runBuiltCli } from './helpers';
import { startMoto, type Moto } from '../aws/moto.mjs';
// @ts-expect-error plain ESM fixture helper
import { fakeSecret } from '../fixtures/fake-keys.mjs';

let moto: Moto;
const keys: Record<string, { id: string; secret: string }> = {};
const outputs: string[] = [];

before(async () => {
  // Four unauthenticated calls seed the account; every later call is authenticated.
  process.env.INITIAL_NO_AUTH_ACTION_COUNT = '4';
  moto = await startMoto();
  delete process.env.INITIAL_NO_AUTH_ACTION_COUNT;
  const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'seed', secretAccessKey: 'seed' } });
  await iam.send(new CreateUserCommand({ UserName: 'found' }));
  const a = (await iam.send(new CreateAccessKeyCommand({ UserName: 'found' }))).AccessKey!;
  const b = (await iam.send(new CreateAccessKeyCommand({ UserName: 'found' }))).AccessKey!;
  await iam.send(new DeleteAccessKeyCommand({ UserName: 'found', AccessKeyId: b.AccessKeyId! }));
  keys.live = { id: a.AccessKeyId!, secret: a.SecretAccessKey! };
  keys.deleted = { id: b.AccessKeyId!, secret: b.SecretAccessKey! };
});
after(() => {
  moto?.stop();
  assertNoSecret(outputs, Object.values(keys).map((k) => k.secret));
});

function verify(keyId: string, stdin: string, extra: string[] = []): Promise<{ code: number | null; out: string; err: string }> {
  return runBuiltCli(['check', keyId, '--verify-with-key', ...extra], { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: moto.endpoint }, { stdin, outputs });
}

test('verify with the key: works (exit 1, its ARN), wrong secret and deleted key do not (exit 0)', async () => {
  const ok = await verify(keys.live!.id, `${keys.live!.secret}\n`, ['--format', 'json']);
  assert.equal(ok.code, 1, ok.err);
  const v = JSON.parse(ok.out) as { works: boolean; arn: string; account: string };
  assert.equal(v.works, true);
  assert.equal(v.arn, 'arn:aws:iam::123456789012:user/found');
  const wrong = await verify(keys.live!.id, `${fakeSecret() as string}\n`);
  assert.equal(wrong.code, 0, wrong.err);
  assert.match(wrong.out, /does not work: the key id exists but this secret does not match it/);
  const gone = await verify(keys.deleted!.id, keys.deleted!.secret);
  assert.equal(gone.code, 0, gone.err);
  assert.match(gone.out, /does not work: AWS does not know this key id/);
});

test('verify with the key: the secret only from standard input; a temporary key needs its token', async () => {
  const none = await verify(keys.live!.id, '');
  assert.equal(none.code, 2);
  assert.match(none.err, /reads the secret access key \(40 characters\) from standard input/);
  const asia = await verify('ASIAY34FZKBOKMUTVV7A', `${keys.live!.secret}\n`);
  assert.equal(asia.code, 2);
  assert.match(asia.err, /temporary key: give its session token/);
});

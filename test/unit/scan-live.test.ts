// keysentry scan --check-live against moto through the real AWS SDK (the built CLI as its own
// process, signing with the user's own key): each access-key-id finding carries `live`, the
// `keysentry check` answer; a key found in several files is looked up once; no secret is printed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, IAMClient } from '@aws-sdk/client-iam';
import { assertNoSecret, runBuiltCli, tempDir } from './helpers';
import { startFaultProxy, startMoto, type FaultProxy, type Moto } from '../aws/moto.mjs';
import type { Finding } from '../../src/core/types';

let moto: Moto;
let proxy: FaultProxy;
const secrets: string[] = [];
const outputs: string[] = [];
let admin: { id: string; secret: string };

const iam = (): IAMClient => new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'seed', secretAccessKey: 'seed' } });
async function userWithKey(user: string): Promise<{ id: string; secret: string }> {
  await iam().send(new CreateUserCommand({ UserName: user }));
  const k = (await iam().send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!;
  secrets.push(k.SecretAccessKey!);
  return { id: k.AccessKeyId!, secret: k.SecretAccessKey! };
}

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

test('scan --check-live: every key-id finding carries the check answer; one lookup per distinct key', async (t) => {
  const dir = tempDir(t, 'keysentry-live-');
  const active = await userWithKey('deploy-bot');
  const deleted = await userWithKey('gone');
  await iam().send(new DeleteAccessKeyCommand({ UserName: 'gone', AccessKeyId: deleted.id }));
  mkdirSync(path.join(dir, 'a'));
  writeFileSync(path.join(dir, '.env'), `AWS_ACCESS_KEY_ID=${active.id}\nAWS_SECRET_ACCESS_KEY=${active.secret}\n`);
  writeFileSync(path.join(dir, 'a', 'ci.yml'), `env:\n  KEY: ${active.id}\n  OLD: ${deleted.id}\n`);
  writeFileSync(path.join(dir, 'a', 'secret.yaml'), `data:\n  AWS_ACCESS_KEY_ID: ${Buffer.from(deleted.id).toString('base64')}\n`);
  const env = { AWS_ACCESS_KEY_ID: admin.id, AWS_SECRET_ACCESS_KEY: admin.secret, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: proxy.endpoint, KEYSENTRY_AWS_MAX_ATTEMPTS: '3' };
  const before = proxy.calls.length;
  const r = await runBuiltCli(['scan', '--all-files', '--check-live', '--format', 'json'], env, { cwd: dir, outputs });
  assert.equal(r.code, 1, r.err);
  const findings = (JSON.parse(r.out) as { findings: Finding[] }).findings;
  const ids = findings.filter((f) => f.kind === 'aws-access-key-id');
  assert.equal(ids.length, 4, JSON.stringify(findings.map((f) => [f.file, f.kind])));
  for (const f of ids) {
    assert.ok(f.live, `${f.file}: live`);
    assert.equal(f.live.keyId, f.preview);
    assert.equal(f.live.status, f.preview === active.id ? 'active' : 'deleted', `${f.file} ${f.preview}`);
  }
  assert.equal(ids.find((f) => f.preview === active.id)?.live?.user, 'deploy-bot');
  assert.ok(findings.filter((f) => f.kind !== 'aws-access-key-id').every((f) => f.live === undefined), 'only key ids carry live');
  // GetAccessKeyInfo is asked once per distinct key (2), however many files hold it.
  assert.equal(proxy.calls.slice(before).filter((a) => a === 'GetAccessKeyInfo').length, 2, proxy.calls.slice(before).join(','));
  // Text output says it too; without --check-live nothing is asked.
  const text = await runBuiltCli(['scan', '--all-files', '--check-live'], env, { cwd: dir, outputs });
  assert.match(text.out, /active \(deploy-bot\)/);
  assert.match(text.out, /deleted/);
  const plain = await runBuiltCli(['scan', '--all-files', '--format', 'json'], { ...env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }, { cwd: dir, outputs });
  assert.ok((JSON.parse(plain.out) as { findings: Finding[] }).findings.every((f) => f.live === undefined));
});

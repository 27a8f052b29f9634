// Key rotation against moto (a real AWS emulator) through the real AWS SDK, by running the built
// CLI as a separate process: the happy path, the 2-key limit, the quarantine policy, denied,
// throttled and dropped calls (a proxy in front of moto), ASIA and root keys, and a crash (SIGKILL)
// after every step followed by --resume and by --rollback, each ending with one working key.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { assertNoSecret, tempDir } from './helpers';
import { startFaultProxy, startMoto, type Moto } from '../aws/moto.mjs';
import { planRotation } from '../../src/core/rotation/plan';
import { STEP_ORDER } from '../../src/core/rotation/types';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
let moto: Moto;
const seen: string[] = []; // every secret of the run, for the final grep
const outputs: string[] = [];

before(async () => {
  moto = await startMoto();
});
after(() => {
  moto?.stop();
  assertNoSecret(outputs, seen);
});
beforeEach(async () => {
  await moto.reset();
});

const creds = { accessKeyId: 'seed', secretAccessKey: 'seed' };
const iam = (endpoint = moto.endpoint): IAMClient => new IAMClient({ region: 'us-east-1', endpoint, credentials: creds });

async function createUserWithKey(user: string): Promise<{ id: string; secret: string }> {
  await iam().send(new CreateUserCommand({ UserName: user }));
  return addKey(user);
}
async function addKey(user: string): Promise<{ id: string; secret: string }> {
  const k = (await iam().send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!;
  seen.push(k.SecretAccessKey!);
  return { id: k.AccessKeyId!, secret: k.SecretAccessKey! };
}
const keysOf = async (user: string): Promise<Array<{ id: string; status: string }>> =>
  ((await iam().send(new ListAccessKeysCommand({ UserName: user }))).AccessKeyMetadata ?? []).map((k) => ({ id: k.AccessKeyId!, status: k.Status! }));
async function identity(id: string, secret: string): Promise<string> {
  const sts = new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: id, secretAccessKey: secret } });
  return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? '';
}

interface World {
  dir: string;
  project: string;
  env: NodeJS.ProcessEnv;
  leaked: { id: string; secret: string };
  envFile: string;
  envText: string;
  credFile: string;
  credText: string;
}

/** An admin who signs, a developer whose key leaked into a project's .env and a credentials profile. */
async function world(t: { after: (fn: () => void) => void }, endpoint = moto.endpoint): Promise<World> {
  const dir = tempDir(t, 'keysentry-rotate-');
  const admin = await createUserWithKey('admin');
  const leaked = await createUserWithKey('dev');
  const other = { id: 'AKIAOTHERPROFILE2345', secret: 'keep/this+value/untouched/1234567890abcd' };
  const project = path.join(dir, 'project');
  mkdirSync(project);
  const envFile = path.join(project, '.env');
  const envText = `# service settings\nAPP_PORT=8080\r\nAWS_ACCESS_KEY_ID=${leaked.id}\nAWS_SECRET_ACCESS_KEY=${leaked.secret}\n# end\n`;
  writeFileSync(envFile, envText, { mode: 0o640 });
  mkdirSync(path.join(dir, '.aws'));
  const credFile = path.join(dir, '.aws', 'credentials');
  const credText = `[default]\naws_access_key_id = ${other.id}\naws_secret_access_key = ${other.secret}\n\n; the dev profile\n[dev]\naws_access_key_id = ${leaked.id}\naws_secret_access_key = ${leaked.secret}\nregion = eu-west-1\n`;
  writeFileSync(credFile, credText);
  const env = {
    ...process.env,
    HOME: dir,
    KEYSENTRY_HOME: path.join(dir, 'keysentry'),
    AWS_SHARED_CREDENTIALS_FILE: credFile,
    AWS_CONFIG_FILE: path.join(dir, '.aws', 'config'),
    AWS_ACCESS_KEY_ID: admin.id,
    AWS_SECRET_ACCESS_KEY: admin.secret,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: endpoint,
    KEYSENTRY_VERIFY_INTERVAL_MS: '100',
    KEYSENTRY_AWS_MAX_ATTEMPTS: '4',
    NO_COLOR: '1',
  };
  delete (env as NodeJS.ProcessEnv).AWS_PROFILE;
  return { dir, project, env, leaked, envFile, envText, credFile, credText };
}

/** Runs the CLI asynchronously: the fault proxy lives in this process and must keep serving. */
function cli(w: World, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: w.project, env: { ...w.env, ...extraEnv } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill(), 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      outputs.push(out, err);
      resolve({ code, signal, out, err });
    });
  });
}

const newKeyIn = (file: string): string | undefined => /AWS_ACCESS_KEY_ID=(AKIA[A-Z2-7]{16})/.exec(readFileSync(file, 'utf8'))?.[1];

/** Exactly one key for dev, active, in the .env, and working. */
async function assertOneWorkingKey(w: World, expected?: string): Promise<string> {
  const keys = await keysOf('dev');
  assert.equal(keys.length, 1, `dev has exactly one key: ${JSON.stringify(keys)}`);
  const [key] = keys;
  assert.equal(key!.status, 'Active');
  if (expected) assert.equal(key!.id, expected);
  const text = readFileSync(w.envFile, 'utf8');
  assert.ok(text.includes(key!.id), 'the .env holds the working key');
  const secret = /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(text)![1]!;
  seen.push(secret);
  assert.match(await identity(key!.id, secret), /:user\/dev$/, 'the key in the .env signs as dev');
  return key!.id;
}

function journalsHaveNoSecrets(w: World): void {
  const dir = path.join(w.env.KEYSENTRY_HOME!, 'rotations');
  if (!existsSync(dir)) return;
  const texts = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => readFileSync(path.join(dir, f), 'utf8'));
  assertNoSecret(texts, seen);
}

test('happy path: new key in every file, everything else intact, old key deleted, secrets never printed', async (t) => {
  const w = await world(t);
  const r = await cli(w, ['rotate', w.leaked.id, '--yes', '--format', 'json']);
  assert.equal(r.code, 0, r.err);
  const outcome = JSON.parse(r.out);
  assert.equal(outcome.status, 'done');
  const newId = await assertOneWorkingKey(w);
  assert.equal(outcome.newKeyId, newId);
  assert.deepEqual(outcome.filesUpdated.sort(), [w.credFile, w.envFile].sort());
  // Only the key changed: same bytes elsewhere (CRLF, comments, other profile, order, mode).
  const env = readFileSync(w.envFile, 'utf8');
  const newSecret = /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(env)![1]!;
  assert.equal(env, w.envText.replace(w.leaked.id, newId).replace(w.leaked.secret, newSecret));
  assert.equal(readFileSync(w.credFile, 'utf8'), w.credText.replace(w.leaked.id, newId).replace(w.leaked.secret, newSecret));
  assert.equal((await import('node:fs')).statSync(w.envFile).mode & 0o777, 0o640);
  assert.ok(!(await keysOf('dev')).some((k) => k.id === w.leaked.id), 'old key deleted');
  assert.ok(outcome.checklist.some((c: string) => /CI\/CD secrets/.test(c)));
  assert.match(r.err, /Rotate .* of IAM user dev .*signing as arn:aws:iam::123456789012:user\/admin/s);
  assertNoSecret([r.out, r.err], [w.leaked.secret, newSecret]);
  journalsHaveNoSecrets(w);
});

test('the 2-key limit: another active key is never deleted; an inactive one only with consent', async (t) => {
  const w = await world(t);
  const second = await addKey('dev');
  const refused = await cli(w, ['rotate', w.leaked.id, '--yes']);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /already has two active access keys .* never deletes another active key/);
  assert.equal((await keysOf('dev')).length, 2, 'nothing changed');
  await iam().send(new UpdateAccessKeyCommand({ UserName: 'dev', AccessKeyId: second.id, Status: 'Inactive' }));
  const ask = await cli(w, ['rotate', w.leaked.id, '--yes']);
  assert.equal(ask.code, 1);
  assert.match(ask.err, /--delete-inactive/);
  const ok = await cli(w, ['rotate', w.leaked.id, '--yes', '--delete-inactive']);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.err, /iam:DeleteAccessKey .* \(inactive\) to make room/);
  await assertOneWorkingKey(w);
});

test('quarantine policy: explained and rotated by another principal; refused when the quarantined user signs', async (t) => {
  const w = await world(t);
  await iam().send(new AttachUserPolicyCommand({ UserName: 'dev', PolicyArn: 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3' }));
  const signerKey = await addKey('dev');
  const refused = await cli(w, ['rotate', w.leaked.id, '--yes'], { AWS_ACCESS_KEY_ID: signerKey.id, AWS_SECRET_ACCESS_KEY: signerKey.secret });
  assert.equal(refused.code, 1);
  assert.match(refused.err, /AWSCompromisedKeyQuarantineV3 to dev.*Sign with another principal/s);
  // The admin signs; the dev's spare key is made inactive first so there is room.
  await iam().send(new UpdateAccessKeyCommand({ UserName: 'dev', AccessKeyId: signerKey.id, Status: 'Inactive' }));
  const ok = await cli(w, ['rotate', w.leaked.id, '--yes', '--delete-inactive', '--format', 'json']);
  assert.equal(ok.code, 0, ok.err);
  const outcome = JSON.parse(ok.out);
  assert.ok(outcome.notes.some((n: string) => /AWSCompromisedKeyQuarantineV3/.test(n)));
  assert.ok(outcome.checklist.some((c: string) => /detach the AWSCompromisedKeyQuarantine policy/.test(c)));
  await assertOneWorkingKey(w);
});

test('access denied: a clear message, nothing lost; after a deactivation, rollback restores a working key', async (t) => {
  const proxy = await startFaultProxy(moto.endpoint);
  t.after(() => proxy.stop());
  const w = await world(t, proxy.endpoint);
  proxy.inject('CreateAccessKey', 'deny', 10);
  const r = await cli(w, ['rotate', w.leaked.id, '--yes', '--not-exposed']);
  assert.equal(r.code, 2);
  assert.match(r.err, /AWS denied CreateAccessKey to arn:aws:iam::123456789012:user\/admin\. It needs iam:CreateAccessKey/);
  assert.match(r.err, /Nothing was changed/);
  assert.equal(readFileSync(w.envFile, 'utf8'), w.envText);
  assert.deepEqual(await keysOf('dev'), [{ id: w.leaked.id, status: 'Active' }]);

  // Exposed: nothing is deactivated before the new key works, so a denied creation changes nothing.
  const exposed = await cli(w, ['rotate', w.leaked.id, '--yes', '--exposed']);
  assert.equal(exposed.code, 2);
  assert.match(exposed.err, /Nothing was changed/);
  assert.deepEqual(await keysOf('dev'), [{ id: w.leaked.id, status: 'Active' }]);
  await assertOneWorkingKey(w, w.leaked.id);
  await assertOneWorkingKey(w, w.leaked.id);
});

test('exposed: the old key is deactivated only after the new one works; a stop after that rolls back to a working key', async (t) => {
  const proxy = await startFaultProxy(moto.endpoint);
  t.after(() => proxy.stop());
  const w = await world(t, proxy.endpoint);
  proxy.inject('DeleteAccessKey', 'deny', 1);
  const stopped = await cli(w, ['rotate', w.leaked.id, '--yes', '--exposed']);
  assert.equal(stopped.code, 2);
  assert.match(stopped.err, /stopped at "delete-old" .*--resume.*--rollback/s);
  const order = proxy.calls.filter((c: string) => ['CreateAccessKey', 'GetCallerIdentity', 'UpdateAccessKey'].includes(c));
  assert.ok(order.indexOf('UpdateAccessKey') > order.lastIndexOf('CreateAccessKey'), 'no deactivation before the new key exists');
  const mid = await keysOf('dev');
  assert.equal(mid.find((k) => k.id === w.leaked.id)?.status, 'Inactive');
  assert.equal(mid.filter((k) => k.status === 'Active').length, 1, 'the new key works while the old one is inactive');
  const again = await cli(w, ['rotate', w.leaked.id, '--yes']);
  assert.equal(again.code, 2);
  assert.match(again.err, /was interrupted at "delete-old"/);
  const back = await cli(w, ['rotate', w.leaked.id, '--rollback']);
  assert.equal(back.code, 0, back.err);
  assert.match(back.out, /reactivated .* still exposed/);
  await assertOneWorkingKey(w, w.leaked.id);
});

test('throttling and dropped connections are retried; the rotation completes', async (t) => {
  const proxy = await startFaultProxy(moto.endpoint);
  t.after(() => proxy.stop());
  const w = await world(t, proxy.endpoint);
  proxy.inject('CreateAccessKey', 'throttle', 2);
  proxy.inject('ListAccessKeys', 'drop', 1);
  proxy.inject('UpdateAccessKey', 'throttle', 1);
  proxy.inject('DeleteAccessKey', 'drop', 1);
  const r = await cli(w, ['rotate', w.leaked.id, '--yes']);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(Object.fromEntries(proxy.injected), { ListAccessKeys: 1, CreateAccessKey: 2, UpdateAccessKey: 1, DeleteAccessKey: 1 });
  assert.equal(proxy.calls.filter((c: string) => c === 'CreateAccessKey').length, 3);
  await assertOneWorkingKey(w);
  // Throttled beyond the retries: said plainly, and nothing changed.
  proxy.inject('CreateAccessKey', 'throttle', 20);
  const newId = newKeyIn(w.envFile)!;
  const hard = await cli(w, ['rotate', newId, '--yes', '--not-exposed']);
  assert.equal(hard.code, 2);
  assert.match(hard.err, /AWS kept throttling CreateAccessKey after 4 attempts/);
  await assertOneWorkingKey(w, newId);
});

test('temporary (ASIA) keys are refused with the session-revocation guidance; root keys are refused', async (t) => {
  const w = await world(t);
  await iam().send(new CreateRoleCommand({ RoleName: 'deploy', AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}' }));
  const sts = new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: creds });
  const session = (await sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::123456789012:role/deploy', RoleSessionName: 's' }))).Credentials!;
  seen.push(session.SecretAccessKey!, session.SessionToken!);
  assert.match(session.AccessKeyId!, /^ASIA/);
  const r = await cli(w, ['rotate', session.AccessKeyId!, '--yes', '--format', 'json']);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.out).refused, 'temporary');
  assert.match(r.err, /Revoke active sessions/);
  // Root keys exist only in real accounts: the plan refuses them from what IAM reports.
  assert.throws(
    () => planRotation({ keyId: w.leaked.id, caller: { account: '123456789012', arn: 'arn:aws:iam::123456789012:user/admin' }, userName: 'root', keys: [], attachedPolicies: [] }, { exposed: true, keepOldInactive: false, deleteInactive: false, files: [] }),
    /root user.*delete it \(do not rotate it\)/s,
  );
  // Signing with the leaked key itself is refused before anything changes.
  const self = await cli(w, ['rotate', w.leaked.id, '--yes'], { AWS_ACCESS_KEY_ID: w.leaked.id, AWS_SECRET_ACCESS_KEY: w.leaked.secret });
  assert.equal(self.code, 1);
  assert.match(self.err, /the leaked key .* itself/);
});

for (const exposed of [false, true]) {
  const steps = STEP_ORDER.filter((s) => s !== 'delete-inactive' && (exposed ? s !== 'deactivate-old' : s !== 'deactivate-exposed'));
  for (const step of steps) {
    test(`crash after "${step}"${exposed ? ' (exposed key)' : ''}: resume and rollback each end with one working key`, async (t) => {
      for (const mode of ['--resume', '--rollback'] as const) {
        await moto.reset();
        const w = await world(t);
        const crashed = await cli(w, ['rotate', w.leaked.id, '--yes', exposed ? '--exposed' : '--not-exposed'], { KEYSENTRY_TEST_CRASH_AFTER: step });
        assert.equal(crashed.signal, 'SIGKILL', `the CLI was killed after ${step}: ${crashed.err}`);
        const r = await cli(w, ['rotate', w.leaked.id, mode]);
        if (mode === '--rollback' && step === 'delete-old') {
          assert.equal(r.code, 2);
          assert.match(r.err, /complete .*nothing to roll back/);
          await assertOneWorkingKey(w);
          continue;
        }
        assert.equal(r.code, 0, `${mode} after ${step}: ${r.err}`);
        if (mode === '--resume') {
          const id = await assertOneWorkingKey(w);
          assert.notEqual(id, w.leaked.id);
        } else {
          await assertOneWorkingKey(w, w.leaked.id);
          assert.equal(readFileSync(w.envFile, 'utf8'), w.envText, '.env restored byte for byte');
          assert.equal(readFileSync(w.credFile, 'utf8'), w.credText);
        }
        journalsHaveNoSecrets(w);
      }
    });
  }
}

test('cancel (SIGTERM, as the editor sends) after the new key exists: rolled back, the old key works', async (t) => {
  const w = await world(t);
  const result = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, 'rotate', w.leaked.id, '--yes', '--progress', '--format', 'json', '--not-exposed'], { cwd: w.project, env: { ...w.env, KEYSENTRY_VERIFY_INTERVAL_MS: '1500' } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (/"step":"write-files","phase":"done"/.test(d)) child.kill('SIGTERM');
    });
    child.on('close', (code) => {
      outputs.push(out, err);
      resolve({ code, out, err });
    });
  });
  assert.equal(result.code, 130, result.err);
  const outcome = JSON.parse(result.out);
  assert.equal(outcome.cancelled, true);
  assert.ok(outcome.notes.some((n: string) => /deleted the new key/.test(n)));
  await assertOneWorkingKey(w, w.leaked.id);
  assert.equal(readFileSync(w.envFile, 'utf8'), w.envText);
});

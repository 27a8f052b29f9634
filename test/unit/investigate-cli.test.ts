// keysentry investigate, the parts around the lookup: the exposure date from git (hardened, a
// hostile repository runs nothing), the signer warnings (the leaked key itself, or its quarantined
// user), throttling that outlasts the SDK's retries, the seeded attack's removals in the output.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { assertNoSecret, runBuiltCli } from './helpers';
import { startFaultProxy, startMoto, type FaultProxy, type Moto } from '../aws/moto.mjs';
import { seedAttack, type SeededAttack } from '../aws/seedAttack.mjs';
import type { PersistenceItem } from '../../src/core/investigate/persistence';

const creds = { accessKeyId: 'seed', secretAccessKey: 'seed' };
const DAY = 86_400_000;
let moto: Moto;
let proxy: FaultProxy;
let dir: string;
let leaked: { id: string; secret: string };
let second: { id: string; secret: string };
let admin: { id: string; secret: string };
let attack: SeededAttack;
const secrets: string[] = [];
const outputs: string[] = [];

before(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint);
  dir = mkdtempSync(path.join(tmpdir(), 'keysentry-inv-cli-'));
  const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: creds });
  const key = async (user: string): Promise<{ id: string; secret: string }> => {
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!;
    secrets.push(k.SecretAccessKey!);
    return { id: k.AccessKeyId!, secret: k.SecretAccessKey! };
  };
  await iam.send(new CreateUserCommand({ UserName: 'secops' }));
  admin = await key('secops');
  await iam.send(new CreateUserCommand({ UserName: 'deploy-bot' }));
  leaked = await key('deploy-bot');
  second = await key('deploy-bot');
  attack = await seedAttack(moto, { keyId: leaked.id, user: 'deploy-bot' }, 3);
  secrets.push(attack.backupSecret);
});
after(async () => {
  await proxy?.stop();
  moto?.stop();
  rmSync(dir, { recursive: true, force: true });
  assertNoSecret(outputs, secrets);
});

function cli(args: string[], opts: { as?: { id: string; secret: string }; endpoint?: string; cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; out: string; err: string }> {
  const as = opts.as ?? admin;
  const env = { AWS_ACCESS_KEY_ID: as.id, AWS_SECRET_ACCESS_KEY: as.secret, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: opts.endpoint ?? moto.endpoint, KEYSENTRY_AWS_MAX_ATTEMPTS: '2', ...opts.env };
  return runBuiltCli(['investigate', ...args], env, { outputs, cwd: opts.cwd ?? dir });
}

const git = (cwd: string, args: string[], date?: string): void => {
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd, stdio: 'ignore', env: { ...process.env, ...(date ? { GIT_COMMITTER_DATE: date, GIT_AUTHOR_DATE: date } : {}) } });
};

test('exposure: the first commit that added the key sets the window; a hostile repository runs nothing', async () => {
  const repo = path.join(dir, 'repo');
  execFileSync('git', ['init', '-q', repo]);
  writeFileSync(path.join(repo, 'README'), 'hello\n');
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-qm', 'init'], new Date(Date.now() - 20 * DAY).toISOString());
  writeFileSync(path.join(repo, '.env'), `AWS_ACCESS_KEY_ID=${leaked.id}\n`);
  git(repo, ['add', '-A']);
  const added = new Date(Date.now() - 3 * DAY - 10 * 60_000);
  git(repo, ['commit', '-qm', 'config'], added.toISOString());
  writeFileSync(path.join(repo, '.env'), `AWS_ACCESS_KEY_ID=${leaked.id}\nX=1\n`);
  git(repo, ['commit', '-qam', 'more'], new Date(Date.now() - DAY).toISOString());
  // The repository's own config names programs that git would run: none may run.
  const marker = path.join(dir, 'ran');
  const evil = path.join(dir, 'evil.sh');
  writeFileSync(evil, `#!/bin/sh\ntouch ${marker}\n`);
  chmodSync(evil, 0o755);
  git(repo, ['config', 'core.fsmonitor', evil]);
  git(repo, ['config', 'diff.external', evil]);
  git(repo, ['config', 'core.pager', evil]);
  const r = await cli([leaked.id, '--repo', repo, '--regions', 'us-east-1,ap-south-1', '--format', 'json']);
  assert.equal(r.code, 1, r.err);
  const j = JSON.parse(r.out) as { exposure: { since: string; source: string; detail: string } };
  assert.equal(j.exposure.source, 'git');
  assert.equal(j.exposure.since, new Date(Math.floor(added.getTime() / 1000) * 1000).toISOString());
  assert.ok(!existsSync(marker), 'no program named by the repository ran');
  // Not a repository, or a key not in it: the 90-day default, said so.
  const none = await cli([second.id, '--repo', repo, '--regions', 'us-east-1', '--format', 'json']);
  assert.equal((JSON.parse(none.out) as { exposure: { source: string } }).exposure.source, 'default');
});

test('signer: the leaked key itself, or its own user, is called out', async () => {
  const self = await cli([leaked.id, '--since', new Date(Date.now() - 3 * DAY).toISOString(), '--regions', 'us-east-1', '--format', 'json'], { as: leaked });
  assert.match((JSON.parse(self.out) as { signerNote: string }).signerNote, /the leaked key itself/);
  const sameUser = await cli([leaked.id, '--since', new Date(Date.now() - 3 * DAY).toISOString(), '--regions', 'us-east-1'], { as: second });
  assert.match(sameUser.out, /note: you sign as IAM user deploy-bot, the user of the leaked key.*quarantine/i);
  const ok = await cli([leaked.id, '--since', new Date(Date.now() - 3 * DAY).toISOString(), '--regions', 'us-east-1', '--format', 'json']);
  assert.equal((JSON.parse(ok.out) as { signerNote: string | null }).signerNote, null);
});

test('throttling that outlasts the SDK retries waits and asks again, then reports the region', async () => {
  proxy.inject('LookupEvents', 'throttle', 4); // 2 SDK attempts, twice
  const r = await cli([leaked.id, '--since', new Date(Date.now() - 3 * DAY).toISOString(), '--regions', 'us-east-1', '--format', 'json'], { endpoint: proxy.endpoint, env: { KEYSENTRY_LOOKUP_THROTTLE_WAIT_MS: '50' } });
  assert.equal(r.code, 1, r.err);
  assert.equal(proxy.injected.get('LookupEvents'), 4);
  assert.deepEqual((JSON.parse(r.out) as { failures: unknown[] }).failures, []);
  proxy.clear();
  proxy.inject('LookupEvents', 'throttle', 100);
  const gave = await cli([leaked.id, '--since', new Date(Date.now() - 3 * DAY).toISOString(), '--regions', 'us-east-1'], { endpoint: proxy.endpoint, env: { KEYSENTRY_LOOKUP_THROTTLE_WAIT_MS: '20' } });
  assert.equal(gave.code, 2);
  assert.match(gave.err, /kept throttling LookupEvents/);
  proxy.clear();
});

test('the seeded attack: resources with their removals, the owner\'s marked, the attacker key followed', async () => {
  const r = await cli([leaked.id, '--since', new Date(Date.now() - 3 * DAY).toISOString(), '--format', 'json']);
  assert.equal(r.code, 1, r.err);
  const j = JSON.parse(r.out) as { created: PersistenceItem[]; followed: Array<{ keyId: string; events: number }> };
  const backup = j.created.find((c) => c.type === 'iam-user' && c.id === 'backup');
  assert.equal(backup?.removal?.kind, 'delete-user');
  const reporting = j.created.find((c) => c.type === 'iam-user' && c.id === 'reporting');
  assert.equal(reporting?.ownership, 'owner-before-exposure');
  assert.equal(reporting?.removal, undefined);
  assert.deepEqual(j.followed.map((f) => f.keyId), [attack.backupKey]);
  const text = await cli([leaked.id, '--since', new Date(Date.now() - 3 * DAY).toISOString(), '--regions', 'us-east-1,ap-south-1']);
  assert.match(text.out, /iam-user\s+reporting .*\[yours\]/);
  assert.match(text.out, /remove: Delete user backup/);
  assert.match(text.out, /Access key AKIA\w+ \(backup\), created by the attacker: 2 call\(s\)/);
});

// keysentry investigate against moto through the real SDK. moto has no LookupEvents: the project's
// test server answers it from seeded CloudTrail records (test/aws/moto_server.py). The seeded attack
// is the published pattern (enumeration, then persistence, then instances in a region the owner
// never uses), and its resources really exist in moto: a user `backup` with AdministratorAccess and
// an access key, instances, a key pair and a spot request in ap-south-1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateKeyPairCommand, DescribeImagesCommand, DescribeInstancesCommand, EC2Client, RequestSpotInstancesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { assertNoSecret, runBuiltCli } from './helpers';
import { startFaultProxy, startMoto, type FaultProxy, type Moto } from '../aws/moto.mjs';
import type { TrailSummary } from '../../src/core/investigate/trail';
import { summarise, parseLookupEvent } from '../../src/core/investigate/trail';

const creds = { accessKeyId: 'seed', secretAccessKey: 'seed' };
const DAY = 86_400_000;
const OWNER_IP = '203.0.113.10';
const OWNER_AGENT = 'aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22';
const ATTACKER_AGENT = 'Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#5.15 lang/python#3.10.12';
let moto: Moto;
const noRepo = mkdtempSync(path.join(tmpdir(), 'keysentry-investigate-'));
let proxy: FaultProxy;
const secrets: string[] = [];
const outputs: string[] = [];
let leaked: string;
let ownerOnly: string;
let attack: { backupKey: string; instances: string[]; spot: string };

const iso = (msAgo: number): string => new Date(Date.now() - msAgo).toISOString().replace(/\.\d{3}Z$/, 'Z');
function record(keyId: string, user: string, name: string, source: string, region: string, msAgo: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::123456789012:user/${user}`, accountId: '123456789012', accessKeyId: keyId, userName: user },
    eventTime: iso(msAgo),
    eventSource: source,
    eventName: name,
    awsRegion: region,
    sourceIPAddress: OWNER_IP,
    userAgent: OWNER_AGENT,
    requestParameters: null,
    responseElements: null,
    eventID: randomUUID(),
    readOnly: name.startsWith('Describe') || name.startsWith('List') || name.startsWith('Get'),
    eventType: 'AwsApiCall',
    recipientAccountId: '123456789012',
    ...extra,
  };
}

before(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint);
  const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: creds });
  await iam.send(new CreateUserCommand({ UserName: 'deploy-bot' }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'deploy-bot' }))).AccessKey!;
  leaked = k.AccessKeyId!;
  secrets.push(k.SecretAccessKey!);
  await iam.send(new CreateUserCommand({ UserName: 'reporting' }));
  const o = (await iam.send(new CreateAccessKeyCommand({ UserName: 'reporting' }))).AccessKey!;
  ownerOnly = o.AccessKeyId!;
  secrets.push(o.SecretAccessKey!);

  // What the attacker really created, so the investigation's resources exist.
  await iam.send(new CreateUserCommand({ UserName: 'backup' }));
  await iam.send(new AttachUserPolicyCommand({ UserName: 'backup', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
  const b = (await iam.send(new CreateAccessKeyCommand({ UserName: 'backup' }))).AccessKey!;
  secrets.push(b.SecretAccessKey!);
  const ec2 = new EC2Client({ region: 'ap-south-1', endpoint: moto.endpoint, credentials: creds });
  await ec2.send(new CreateKeyPairCommand({ KeyName: 'm1n3r' }));
  const image = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.find((i) => i.ImageId)?.ImageId ?? 'ami-12c6146b';
  const run = await ec2.send(new RunInstancesCommand({ ImageId: image, MinCount: 2, MaxCount: 2, InstanceType: 'c5.4xlarge', KeyName: 'm1n3r' }));
  const instances = run.Instances!.map((i) => i.InstanceId!);
  const spot = (await ec2.send(new RequestSpotInstancesCommand({ InstanceCount: 1, LaunchSpecification: { ImageId: image, InstanceType: 'p3.2xlarge' } }))).SpotInstanceRequests![0]!.SpotInstanceRequestId!;
  attack = { backupKey: b.AccessKeyId!, instances, spot };

  const exposed = 10 * DAY;
  const a = (name: string, source: string, region: string, msAgo: number, extra: Record<string, unknown> = {}): Record<string, unknown> =>
    record(leaked, 'deploy-bot', name, source, region, msAgo, { sourceIPAddress: msAgo % 2000 ? '198.51.100.7' : '198.51.100.8', userAgent: ATTACKER_AGENT, ...extra });
  const t0 = exposed - 5 * 60_000; // five minutes after the push
  await moto.seedTrail([
    // the owner, before the exposure (the baseline) and after it
    record(leaked, 'deploy-bot', 'PutObject', 's3.amazonaws.com', 'eu-west-1', 15 * DAY),
    record(leaked, 'deploy-bot', 'ListBuckets', 's3.amazonaws.com', 'us-east-1', 14 * DAY),
    record(leaked, 'deploy-bot', 'ListBuckets', 's3.amazonaws.com', 'us-east-1', 2 * DAY),
    // the attacker
    a('GetCallerIdentity', 'sts.amazonaws.com', 'us-east-1', t0),
    a('ListBuckets', 's3.amazonaws.com', 'us-east-1', t0 - 1000),
    a('GetAccountAuthorizationDetails', 'iam.amazonaws.com', 'us-east-1', t0 - 2000, { errorCode: 'AccessDenied', errorMessage: 'User: arn:aws:iam::123456789012:user/deploy-bot is not authorized' }),
    a('DescribeRegions', 'ec2.amazonaws.com', 'us-east-1', t0 - 3000),
    a('DescribeInstances', 'ec2.amazonaws.com', 'ap-south-1', t0 - 4000),
    a('DescribeInstances', 'ec2.amazonaws.com', 'eu-north-1', t0 - 4500),
    a('CreateUser', 'iam.amazonaws.com', 'us-east-1', t0 - 5000, { requestParameters: { userName: 'backup' }, responseElements: { user: { userName: 'backup', arn: 'arn:aws:iam::123456789012:user/backup' } } }),
    a('AttachUserPolicy', 'iam.amazonaws.com', 'us-east-1', t0 - 6000, { requestParameters: { userName: 'backup', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' } }),
    a('CreateAccessKey', 'iam.amazonaws.com', 'us-east-1', t0 - 7000, { requestParameters: { userName: 'backup' }, responseElements: { accessKey: { accessKeyId: attack.backupKey, userName: 'backup', status: 'Active' } } }),
    a('CreateKeyPair', 'ec2.amazonaws.com', 'ap-south-1', t0 - 8000, { requestParameters: { keyName: 'm1n3r' } }),
    a('RunInstances', 'ec2.amazonaws.com', 'ap-south-1', t0 - 9000, { responseElements: { instancesSet: { items: instances.map((id) => ({ instanceId: id, instanceType: 'c5.4xlarge' })) } } }),
    a('RequestSpotInstances', 'ec2.amazonaws.com', 'ap-south-1', t0 - 10000, { responseElements: { spotInstanceRequestSet: { items: [{ spotInstanceRequestId: spot }] } } }),
    a('RunInstances', 'ec2.amazonaws.com', 'eu-north-1', t0 - 11000, { errorCode: 'Client.UnauthorizedOperation', errorMessage: 'You are not authorized' }),
    // then the attacker's own new key, signed as backup
    record(attack.backupKey, 'backup', 'ListUsers', 'iam.amazonaws.com', 'us-east-1', t0 - 60_000, { sourceIPAddress: '198.51.100.9', userAgent: ATTACKER_AGENT }),
    // a key used only by its owner
    record(ownerOnly, 'reporting', 'GetObject', 's3.amazonaws.com', 'eu-west-1', 20 * DAY),
    record(ownerOnly, 'reporting', 'GetObject', 's3.amazonaws.com', 'eu-west-1', 1 * DAY),
  ]);
});
after(async () => {
  await proxy?.stop();
  moto?.stop();
  assertNoSecret(outputs, secrets);
  rmSync(noRepo, { recursive: true, force: true });
});

function investigate(args: string[], endpoint = moto.endpoint): Promise<{ code: number | null; out: string; err: string }> {
  const env = { AWS_ACCESS_KEY_ID: 'admin', AWS_SECRET_ACCESS_KEY: 'admin', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: endpoint, KEYSENTRY_AWS_MAX_ATTEMPTS: '4' };
  // Outside any repository: the exposure date then comes from --since or the 90-day default, not from this project's history.
  return runBuiltCli(['investigate', ...args], env, { outputs, cwd: noRepo });
}
const sinceArg = (): string => new Date(Date.now() - 10 * DAY).toISOString();

test('investigate: the seeded attack in every enabled region: verdict, calls, IPs, denied probes, created resources (exit 1)', async () => {
  const r = await investigate([leaked, '--since', sinceArg(), '--format', 'json']);
  assert.equal(r.code, 1, r.err);
  const j = JSON.parse(r.out) as { summary: TrailSummary; created: TrailSummary['created']; events: Array<{ name: string }>; failures: unknown[] };
  assert.deepEqual(j.failures, []);
  const s = j.summary;
  assert.equal(s.events, 14, 'the 13 attacker calls and the owner\'s own call after the exposure');
  assert.equal(s.ownerCalls, 1);
  assert.equal(s.otherCalls, 13);
  assert.deepEqual(s.ips.filter((i) => !i.known).map((i) => i.ip).sort(), ['198.51.100.7', '198.51.100.8']);
  assert.ok(s.ips.some((i) => i.ip === OWNER_IP && i.known));
  assert.ok(s.verdict.includes('used from 2 IP addresses not seen before the exposure: 198.51.100.7, 198.51.100.8') || s.verdict.includes('used from 2 IP addresses not seen before the exposure: 198.51.100.8, 198.51.100.7'), s.verdict.join(' | '));
  assert.ok(s.verdict.includes('created user backup with AdministratorAccess'), s.verdict.join(' | '));
  assert.ok(s.verdict.includes('launched 2 instances in 1 region'), s.verdict.join(' | '));
  assert.ok(s.verdict.some((v) => /^2 calls were denied/.test(v)), s.verdict.join(' | '));
  assert.ok(s.verdict.some((v) => /^enumerated the account/.test(v)));
  const created = j.created.map((c) => `${c.type}:${c.id}:${c.region}`).sort();
  assert.deepEqual(
    created,
    [
      `access-key:${attack.backupKey}:us-east-1`,
      'attached-policy:backup:arn:aws:iam::aws:policy/AdministratorAccess:us-east-1',
      'iam-user:backup:us-east-1',
      ...attack.instances.map((i) => `instance:${i}:ap-south-1`),
      'key-pair:m1n3r:ap-south-1',
      `spot-request:${attack.spot}:ap-south-1`,
    ].sort(),
  );
  // The created instances are real: they exist in moto.
  const ec2 = new EC2Client({ region: 'ap-south-1', endpoint: moto.endpoint, credentials: creds });
  const found = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: attack.instances }))).Reservations?.flatMap((x) => x.Instances ?? []) ?? [];
  assert.equal(found.length, 2);
  assert.ok(!j.events.some((e) => e.name === 'PutObject'), 'events before the exposure are the baseline, not the result');
});

test('investigate: text report; the attacker\'s own key by --user; an empty history exits 0', async () => {
  const text = await investigate([leaked, '--since', sinceArg(), '--regions', 'us-east-1,ap-south-1,eu-north-1']);
  assert.equal(text.code, 1);
  assert.match(text.out, /created user backup with AdministratorAccess/);
  assert.match(text.out, /instance\s+i-\w+ \(ap-south-1, RunInstances at /);
  const byUser = await investigate(['--user', 'backup', '--regions', 'us-east-1', '--format', 'json']);
  assert.equal(byUser.code, 1, byUser.err);
  assert.deepEqual((JSON.parse(byUser.out) as { events: Array<{ name: string }> }).events.map((e) => e.name), ['ListUsers']);
  const none = await investigate(['AKIAIOSFODNN7EXAMPLZ', '--regions', 'us-east-1']);
  assert.equal(none.code, 0, none.err);
  assert.match(none.out, /0 call\(s\).*\n {2}- no activity in the window/);
});

test('investigate: a key used only by its owner says so', async () => {
  const r = await investigate([ownerOnly, '--since', new Date(Date.now() - 5 * DAY).toISOString(), '--regions', 'eu-west-1', '--format', 'json']);
  assert.equal(r.code, 1);
  const s = (JSON.parse(r.out) as { summary: TrailSummary }).summary;
  assert.equal(s.events, 1);
  assert.equal(s.ownerCalls, 1);
  assert.deepEqual(s.verdict, ['used only from IP addresses and tools seen before the exposure']);
});

test('investigate: throttled LookupEvents is retried; denied everywhere explains the quarantine', async () => {
  proxy.inject('LookupEvents', 'throttle', 2);
  const throttled = await investigate([leaked, '--since', sinceArg(), '--regions', 'us-east-1', '--format', 'json'], proxy.endpoint);
  assert.equal(throttled.code, 1, throttled.err);
  assert.equal(proxy.injected.get('LookupEvents'), 2);
  proxy.inject('LookupEvents', 'deny', 2);
  const denied = await investigate([leaked, '--regions', 'us-east-1,ap-south-1'], proxy.endpoint);
  assert.equal(denied.code, 2);
  assert.match(denied.err, /AWS denied LookupEvents.*cloudtrail:LookupEvents/);
  assert.match(denied.err, /AWSCompromisedKeyQuarantine/);
  // One region denied (whichever asks first), the other answers: its activity counts, the gap is named.
  await moto.seedTrail(['us-west-2', 'eu-west-1'].map((region) => record('AKIAPARTIALEXAMPLE23', 'p', 'GetObject', 's3.amazonaws.com', region, DAY)));
  proxy.inject('LookupEvents', 'deny', 1);
  const partial = await investigate(['AKIAPARTIALEXAMPLE23', '--regions', 'us-west-2,eu-west-1', '--format', 'json'], proxy.endpoint);
  assert.equal(partial.code, 1, 'activity found in the region that answered');
  const p = JSON.parse(partial.out) as { summary: TrailSummary; failures: Array<{ region: string; denied: boolean }> };
  assert.equal(p.summary.events, 1);
  assert.equal(p.failures.length, 1);
  assert.equal(p.failures[0]?.denied, true);
});

test('investigate: pages through long histories (NextToken) without losing or repeating an event', async () => {
  const many = Array.from({ length: 137 }, (_, i) => record('AKIAPAGINGEXAMPLE234', 'pager', 'GetObject', 's3.amazonaws.com', 'us-west-1', (i + 1) * 60_000));
  await moto.seedTrail(many);
  const r = await investigate(['AKIAPAGINGEXAMPLE234', '--regions', 'us-west-1', '--format', 'json']);
  assert.equal(r.code, 1, r.err);
  const events = (JSON.parse(r.out) as { events: Array<{ id: string }> }).events;
  assert.equal(events.length, 137);
  assert.equal(new Set(events.map((e) => e.id)).size, 137);
});

test('investigate: bad input is a clear error; hostile event fields are printed inert', async () => {
  for (const [args, pattern] of [
    [[], /an access key id or --user NAME/],
    [[leaked, '--user', 'x'], /one of them/],
    [[leaked, '--since', 'yesterday-ish'], /is not a date/],
    [[leaked, '--regions', 'us-east-1;rm -rf /'], /is not a region name/],
    [['--user', 'a b'], /IAM user name/],
  ] as Array<[string[], RegExp]>) {
    const r = await investigate(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, pattern);
  }
  await moto.seedTrail([record('AKIAHOSTILEEXAMPLE23', 'h', 'CreateUser', 'iam.amazonaws.com', 'us-east-2', 60_000, { userAgent: 'evil\u001b[2J\u001b]8;;https://phish.example\u0007agent', requestParameters: { userName: 'x\u001b[31m' }, responseElements: { user: { userName: 'x\u001b[31m\nforged line' } } })]);
  const r = await investigate(['AKIAHOSTILEEXAMPLE23', '--regions', 'us-east-2']);
  assert.equal(r.code, 1, r.err);
  assert.ok(!r.out.includes('\u001b'), 'no raw escape character reaches the terminal');
  assert.ok(!/\nforged line/.test(r.out), 'no line break from account data');
});

test('trail: malformed and oversized records never throw; created resources need a successful call', () => {
  assert.equal(parseLookupEvent({}, 'us-east-1'), undefined);
  const bad = parseLookupEvent({ EventName: 'CreateUser', EventTime: new Date(), CloudTrailEvent: '{not json' }, 'us-east-1');
  assert.equal(bad?.created.length, 0);
  const huge = parseLookupEvent({ EventName: 'RunInstances', CloudTrailEvent: JSON.stringify({ responseElements: { instancesSet: { items: [{ instanceId: 'i-1' }] } }, pad: 'x'.repeat(300_000) }) }, 'us-east-1');
  assert.equal(huge?.created.length, 0);
  const failed = parseLookupEvent({ EventName: 'CreateUser', CloudTrailEvent: JSON.stringify({ errorCode: 'AccessDenied', responseElements: { user: { userName: 'x' } } }) }, 'us-east-1');
  assert.equal(failed?.created.length, 0);
  assert.deepEqual(summarise([], { from: 'a', to: 'z' }).verdict, ['no activity in the window']);
});

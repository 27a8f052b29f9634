// AWS resolved the way the SDK and the AWS CLI resolve it, against moto through the real SDK:
// the region of a profile (inline comments, `[profile default]` over `[default]`), endpoints
// (AWS_ENDPOINT_URL_<SERVICE> and a profile's endpoint_url beat AWS_ENDPOINT_URL; only an explicit
// option overrides them), one credential_process run for a whole multi-region audit, and
// `keysentry/<version>` in every request's User-Agent.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { DescribeAvailabilityZonesCommand } from '@aws-sdk/client-ec2';
import { ListUsersCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { snapshotAccount } from '../../src/aws/account';
import { ec2Client, forgetCredentials, iamClient, regionOf, resolveTarget, stsClient } from '../../src/aws/clients';
import { listProfiles } from '../../src/core/awsProfiles';
import { tempDir } from './helpers';
import { startMoto, type Moto } from '../aws/moto.mjs';

let moto: Moto;
const saved = { ...process.env };
const AWS_VARS = /^AWS_/;

before(async () => {
  moto = await startMoto();
});
after(() => moto?.stop());
beforeEach(async () => {
  await moto.reset();
  for (const k of Object.keys(process.env)) if (AWS_VARS.test(k)) delete process.env[k];
  Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_CONFIG_FILE: '/nonexistent/config', KEYSENTRY_AWS_MAX_ATTEMPTS: '1' });
  forgetCredentials();
});
after(() => {
  for (const k of Object.keys(process.env)) if (AWS_VARS.test(k)) delete process.env[k];
  Object.assign(process.env, saved);
});

/** Writes ~/.aws/config (and credentials) for one test; a fresh path each time (the SDK caches files by path). */
function awsFiles(t: { after: (fn: () => void) => void }, config: string, credentials = ''): string {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'config'), config);
  writeFileSync(path.join(dir, 'credentials'), credentials);
  process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
  return dir;
}

/** The region moto answered for: EC2 availability zones are those of the signed region. */
async function zoneRegion(t: ReturnType<typeof resolveTarget>): Promise<string> {
  const r = await ec2Client(t).send(new DescribeAvailabilityZonesCommand({}));
  return (r.AvailabilityZones?.[0]?.RegionName ?? '') as string;
}

const KEYS = 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n';

test('region: `region = us-west-2 # oregon` is us-west-2 (the SDK strips the inline comment)', async (t) => {
  awsFiles(t, '[default]\nregion = us-west-2 # oregon\n', `[default]\n${KEYS}`);
  const target = resolveTarget({ endpoint: moto.endpoint });
  assert.equal(await regionOf(target), 'us-west-2');
  assert.equal(await iamClient(target).config.region(), 'us-west-2');
  assert.equal(await zoneRegion(target), 'us-west-2');
});

test('region: `[profile default]` wins over `[default]`, as in the SDK', async (t) => {
  awsFiles(t, '[default]\nregion = eu-west-1\n\n[profile default]\nregion = ap-southeast-2\n', `[default]\n${KEYS}`);
  const target = resolveTarget({ endpoint: moto.endpoint });
  assert.equal(await regionOf(target), 'ap-southeast-2');
  assert.equal(await zoneRegion(target), 'ap-southeast-2');
  assert.deepEqual(await listProfiles(), ['default']);
});

test('region: AWS_REGION beats the profile, an explicit option beats both, and nothing at all is us-east-1', async (t) => {
  awsFiles(t, '[profile work]\nregion = eu-central-1\n', `[work]\n${KEYS}`);
  assert.equal(await regionOf(resolveTarget({ profile: 'work' })), 'eu-central-1');
  process.env.AWS_REGION = 'sa-east-1';
  assert.equal(await regionOf(resolveTarget({ profile: 'work' })), 'sa-east-1');
  assert.equal(await regionOf(resolveTarget({ profile: 'work', region: 'ca-central-1' })), 'ca-central-1');
  delete process.env.AWS_REGION;
  awsFiles(t, '', `[default]\n${KEYS}`);
  assert.equal(await regionOf(resolveTarget({})), 'us-east-1');
});

/** A listener that refuses to be AWS: every request there is counted and answered 500. */
async function deadEndpoint(t: { after: (fn: () => void) => void }): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const srv = http.createServer((_q, r) => {
    hits++;
    r.writeHead(500).end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => srv.close());
  return { url: `http://127.0.0.1:${(srv.address() as { port: number }).port}`, hits: () => hits };
}

test('endpoints: AWS_ENDPOINT_URL_IAM / _STS / _EC2 beat AWS_ENDPOINT_URL (not copied into every client)', async (t) => {
  awsFiles(t, '[default]\nregion = us-east-1\n', `[default]\n${KEYS}`);
  const dead = await deadEndpoint(t);
  Object.assign(process.env, { AWS_ENDPOINT_URL: dead.url, AWS_ENDPOINT_URL_IAM: moto.endpoint, AWS_ENDPOINT_URL_STS: moto.endpoint, AWS_ENDPOINT_URL_EC2: moto.endpoint });
  const target = resolveTarget({});
  assert.equal(target.endpoint, undefined, 'the environment is left to the SDK');
  await iamClient(target).send(new ListUsersCommand({}));
  await stsClient(target).send(new GetCallerIdentityCommand({}));
  assert.equal(await zoneRegion(target), 'us-east-1');
  assert.equal(dead.hits(), 0);
});

// The SDK reads endpoint_url from the profile it resolves from the environment (AWS_PROFILE or
// default), not from a client's `profile` option (aws-sdk-js-v3's getEndpointFromConfig): Keysentry
// passes nothing here, so it behaves exactly as any SDK program with that environment.
test("endpoints: the profile's endpoint_url is used, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns it off, and an explicit option beats it", async (t) => {
  const dead = await deadEndpoint(t);
  awsFiles(t, `[default]\nregion = us-east-1\nendpoint_url = ${moto.endpoint}\n`, `[default]\n${KEYS}`);
  await iamClient(resolveTarget({})).send(new ListUsersCommand({}));
  awsFiles(t, `[profile lab]\nregion = us-east-1\nendpoint_url = ${moto.endpoint}\n`, `[lab]\n${KEYS}`);
  process.env.AWS_PROFILE = 'lab';
  await iamClient(resolveTarget({})).send(new ListUsersCommand({}));
  // Ignored: configured endpoints (the profile's, AWS_ENDPOINT_URL) are skipped, so the call goes to AWS itself (unreachable here).
  process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = 'true';
  process.env.AWS_ENDPOINT_URL = dead.url;
  await assert.rejects(iamClient(resolveTarget({})).send(new ListUsersCommand({})), /amazonaws\.com|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|timed? ?out/i);
  assert.equal(dead.hits(), 0);
  delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
  // The user's explicit choice (--endpoint-url, keysentry.aws.endpointUrl) wins over everything.
  awsFiles(t, `[profile lab]\nregion = us-east-1\nendpoint_url = ${dead.url}\n`, `[lab]\n${KEYS}`);
  await iamClient(resolveTarget({ endpoint: moto.endpoint })).send(new ListUsersCommand({}));
  assert.equal(dead.hits(), 0);
});

test('credentials: a credential_process profile runs once for an 8-region audit (one memoized provider shared by every client)', async (t) => {
  const dir = tempDir(t);
  const counter = path.join(dir, 'runs');
  const script = path.join(dir, 'creds.js');
  writeFileSync(counter, '');
  writeFileSync(
    script,
    `require('fs').appendFileSync(${JSON.stringify(counter)}, 'x');\nprocess.stdout.write(JSON.stringify({ Version: 1, AccessKeyId: 'AKIAIOSFODNN7EXAMPLE', SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }));\n`,
  );
  writeFileSync(path.join(dir, 'config'), `[profile proc]\nregion = us-east-1\ncredential_process = ${JSON.stringify(process.execPath)} ${JSON.stringify(script)}\n`);
  process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
  const regions = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-south-1', 'ap-northeast-1'];
  const snap = await snapshotAccount(resolveTarget({ profile: 'proc', endpoint: moto.endpoint }), { regions });
  assert.deepEqual(snap.regions, regions);
  assert.equal(snap.homeRegions[0], 'us-east-1');
  assert.equal(readFileSync(counter, 'utf8').length, 1, `credential_process ran ${readFileSync(counter, 'utf8').length} times`);
});

test('user agent: every request says keysentry/<version>', async (t) => {
  awsFiles(t, '[default]\nregion = us-east-1\n', `[default]\n${KEYS}`);
  const agents: string[] = [];
  const srv = http.createServer((q, r) => {
    agents.push(String(q.headers['user-agent'] ?? ''));
    r.writeHead(500).end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => srv.close());
  const target = resolveTarget({ endpoint: `http://127.0.0.1:${(srv.address() as { port: number }).port}` });
  await assert.rejects(stsClient(target).send(new GetCallerIdentityCommand({})));
  assert.ok(agents.length > 0);
  for (const a of agents) assert.match(a, /(^| )keysentry\/\S+/);
});

test('the AWS code does not set process.env (the extension host is shared with every other extension)', async () => {
  const before = JSON.stringify(process.env);
  await import('../../src/aws/clients');
  await import('../../src/aws/account');
  assert.equal(JSON.stringify(process.env), before);
  assert.doesNotMatch(readFileSync(path.join(__dirname, '..', '..', 'src', 'aws', 'clients.ts'), 'utf8'), /process\.env\.[A-Z_]+\s*(\?\?|\|\|)?=(?!=)/);
});

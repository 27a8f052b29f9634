// Audit conclusions under faults, against moto through the real SDK and the fault proxy:
// a throttled DescribeInstances or a denied GetLoginProfile leaves only the facts they read
// unknown. Unknown stays unknown: the incident keeps its last known severity, says which fact
// is missing and which call failed, and is never resolved by that audit.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { snapshotAccount } from '../../src/aws/account';
import { resolveTarget } from '../../src/aws/clients';
import { IncidentBook } from '../../src/core/incidents/book';
import { auditCovers, checkAccount, DEFAULT_CHECKS } from '../../src/core/incidents/checks';
import { formatAudit } from '../../src/core/incidents/report';
import type { Incident } from '../../src/core/incidents/types';
import { assertNoSecret, tempDir } from './helpers';
import { startFaultProxy, startMoto, type FaultProxy, type Moto } from '../aws/moto.mjs';
import { seedAccount, type SeededAccount } from '../aws/seedAccount.mjs';

const REGIONS = ['us-east-1', 'ap-south-1', 'eu-west-1'];
const ACCOUNT = '123456789012';
let moto: Moto;
let proxy: FaultProxy;
let seed: SeededAccount;
const outputs: string[] = [];
const secrets: string[] = [];

before(async () => {
  moto = await startMoto();
});
after(() => {
  moto?.stop();
  assertNoSecret(outputs, secrets);
});
beforeEach(async () => {
  await moto.reset();
  seed = await seedAccount(moto);
  secrets.push(...seed.secrets);
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: seed.admin.id, AWS_SECRET_ACCESS_KEY: seed.admin.secret, AWS_REGION: 'us-east-1', KEYSENTRY_AWS_MAX_ATTEMPTS: '2' });
  delete process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_PROFILE;
});

/** Audits through the proxy into `book`, the way the editor does. */
async function audit(book: IncidentBook) {
  const snap = await snapshotAccount(resolveTarget({ region: 'us-east-1', endpoint: proxy.endpoint }), { regions: REGIONS });
  const drafts = checkAccount(snap, { ...DEFAULT_CHECKS, now: new Date() });
  outputs.push(formatAudit(snap, drafts), JSON.stringify(snap));
  book.mergeAudit(drafts, { account: snap.account, actor: 'tester', covers: (i) => auditCovers(snap, i) });
  return snap;
}

test('audit faults: a throttled DescribeInstances keeps open SSH high, names the missing fact, resolves nothing it needs', async (t) => {
  proxy = await startFaultProxy(moto.endpoint);
  t.after(() => proxy.stop());
  const book = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  await audit(book);
  const sg = `open-ingress:${ACCOUNT}:us-east-1:${seed.web.group}`;
  assert.equal(book.get(sg)?.severity, 'high', 'the web instance uses the open group');
  const stray = `unknown-resources:${ACCOUNT}:ap-south-1`;
  assert.equal(book.get(stray)?.status, 'open');

  proxy.inject('DescribeInstances', 'throttle', 1000);
  const snap = await audit(book);
  assert.match(snap.errors.join('\n'), /kept throttling DescribeInstances/);
  const inc = book.get(sg) as Incident;
  assert.equal(inc.severity, 'high', 'unknown instances are not "no instance uses it"');
  // The last known value is kept and marked, with the call that failed; the instance stays a target.
  assert.match(inc.facts.find(([k]) => k === 'Running instances using it')?.[1] ?? '', new RegExp(`^${seed.web.instance} \\(last known; now unknown: .*DescribeInstances`));
  assert.ok(inc.resources.some((r) => r.kind === 'instance' && r.id === seed.web.instance), 'the instance is still a target of the actions');
  for (const id of [stray, `unknown-resources:${ACCOUNT}:us-east-1:recent`]) assert.equal(book.get(id)?.status, 'open', `${id} is not resolved by an audit that could not list instances`);
  assert.ok(!book.get(stray)?.timeline.some((e) => /No longer found/.test(e.text)));
});

test('audit faults: a denied GetLoginProfile affects only the MFA check of that user and names the call', async (t) => {
  proxy = await startFaultProxy(moto.endpoint);
  t.after(() => proxy.stop());
  const book = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  await audit(book);
  const intern = `no-mfa:${ACCOUNT}:intern`;
  assert.equal(book.get(intern)?.severity, 'high');

  proxy.inject('GetLoginProfile', 'deny', 1000);
  const snap = await audit(book);
  assert.ok(snap.users, 'the users were listed');
  const errors = snap.errors.join('\n');
  assert.match(errors, /IAM user \w+: AWS denied GetLoginProfile/);
  assert.doesNotMatch(errors, /ListUsers/);
  const inc = book.get(intern) as Incident;
  assert.equal(inc.status, 'open');
  assert.equal(inc.severity, 'high', 'the last known severity is kept');
  assert.match(inc.facts.find(([k]) => k === 'Console password')?.[1] ?? '', /^yes \(last known; now unknown: AWS denied GetLoginProfile/);
  assert.equal(book.get(`stale-key:${ACCOUNT}:${seed.oldKeyId}`)?.status, 'open', 'the other IAM checks still ran');

  // A first audit under the same denial takes the worst case, and says why.
  const fresh = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  await audit(fresh);
  assert.equal(fresh.get(intern)?.severity, 'high');
  assert.ok(fresh.get(`stale-key:${ACCOUNT}:${seed.oldKeyId}`));
});

test('audit faults: a denied ListMFADevices or ListAccessKeys keeps those incidents open, never resolved', async (t) => {
  proxy = await startFaultProxy(moto.endpoint);
  t.after(() => proxy.stop());
  const book = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  await audit(book);
  proxy.inject('ListMFADevices', 'deny', 1000);
  proxy.inject('ListAccessKeys', 'deny', 1000);
  const snap = await audit(book);
  assert.match(snap.errors.join('\n'), /AWS denied ListMFADevices/);
  for (const id of [`no-mfa:${ACCOUNT}:intern`, `stale-key:${ACCOUNT}:${seed.oldKeyId}`]) {
    assert.equal(book.get(id)?.status, 'open', id);
  }
  assert.equal(book.get(`open-ingress:${ACCOUNT}:us-east-1:${seed.web.group}`)?.status, 'open');
});

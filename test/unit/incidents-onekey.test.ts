// One incident per leaked key (and per instance), against moto through the real SDK: the seeded
// account is audited (snapshotAccount → checkAccount → mergeAudit), a notice names the audit's old
// key (or its stray instance), and the workspace and the gate see the key in a file and an outgoing
// commit. Whatever the order, there is one incident with every source's evidence, one checklist
// and timeline, the facts filled into its runbook and its buttons acting on that key.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { snapshotAccount } from '../../src/aws/account';
import { resolveTarget } from '../../src/aws/clients';
import { actionTargets } from '../../src/core/incidents/actions';
import { IncidentBook } from '../../src/core/incidents/book';
import { auditCovers, checkAccount, DEFAULT_CHECKS } from '../../src/core/incidents/checks';
import { sightingDraft } from '../../src/core/incidents/keyIncident';
import { noticeIncident, parseNotice } from '../../src/core/incidents/notice';
import { fillCliChecked, parseRunbooks } from '../../src/core/incidents/runbooks';
import { incidentReport } from '../../src/core/incidents/report';
import { assertNoSecret, tempDir } from './helpers';
import { startMoto, type Moto } from '../aws/moto.mjs';
import { seedAccount, type SeededAccount } from '../aws/seedAccount.mjs';
// @ts-expect-error plain ESM fixture generator
import { fakeSecret } from '../fixtures/fake-keys.mjs';

const RUNBOOKS = parseRunbooks(readFileSync(path.join(__dirname, '..', '..', 'media', 'runbooks', 'incidents.json'), 'utf8'));
let moto: Moto;
let seed: SeededAccount;
const outputs: string[] = [];
const secrets: string[] = [];

before(async () => {
  moto = await startMoto();
  seed = await seedAccount(moto);
  secrets.push(...seed.secrets);
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: seed.admin.id, AWS_SECRET_ACCESS_KEY: seed.admin.secret, AWS_REGION: 'us-east-1' });
  delete process.env.AWS_PROFILE;
});
after(() => {
  moto?.stop();
  assertNoSecret(outputs, secrets);
});

async function audit(book: IncidentBook): Promise<void> {
  const snap = await snapshotAccount(resolveTarget({ region: 'us-east-1', endpoint: moto.endpoint }), { regions: ['us-east-1', 'ap-south-1'] });
  book.mergeAudit(checkAccount(snap, { ...DEFAULT_CHECKS, now: new Date() }), { account: snap.account, actor: 'tester', covers: (i) => auditCovers(snap, i) });
}

test('one key: workspace, blocked push, audit and notice make one incident, in any order', async (t) => {
  const dir = tempDir(t);
  const key = seed.oldKeyId;
  const pasted = fakeSecret();
  secrets.push(pasted);
  const notice = noticeIncident(parseNotice(`Subject: Action Required: Your AWS Access Key is Exposed for AWS Account 123456789012\nDate: Mon, 07 Apr 2025 09:14:52 +0000\n\nCase ID: 174302977800511\n\nWe have become aware that the AWS Access Key ${key}, belonging to IAM User 'ci-deploy', along with the corresponding Secret Key ${pasted} is publicly available online at https://github.com/example-shop/api/compare/9c1e2f7...41ab0d3\n\nPlease contact AWS by 2025-04-14.\n`));
  const ws = sightingDraft({ keyId: key, source: 'workspace', file: 'services/billing/.env', line: 2, accountId: '123456789012' });
  const push = sightingDraft({ keyId: key, source: 'push', file: 'services/billing/.env', line: 2, commit: 'a'.repeat(40), subject: 'add billing config', ref: 'refs/heads/main', pushed: false });
  const steps: Array<[string, (b: IncidentBook) => Promise<unknown> | unknown]> = [
    ['audit', (b) => audit(b)],
    ['notice', (b) => b.upsert(notice, 'tester', 'notice')],
    ['workspace', (b) => b.upsert(ws, 'tester', 'found')],
    ['push', (b) => b.upsert(push, 'tester', 'blocked')],
  ];
  // Two orders: audit first, and audit last.
  for (const [n, order] of [[0, [0, 1, 2, 3]], [1, [2, 3, 1, 0]]] as const) {
    const file = path.join(dir, `incidents-${n}.json`);
    const book = new IncidentBook(file);
    for (const i of order) await (steps[i] as (typeof steps)[number])[1](book);
    const mentions = book.incidents.filter((i) => i.resources.some((r) => r.kind === 'access-key' && r.id === key));
    assert.equal(mentions.length, 1, `order ${order.join(',')}: one incident mentions the key (${mentions.map((i) => i.id).join(', ')})`);
    const inc = mentions[0];
    assert.ok(inc);
    assert.equal(inc.id, `key:${key}`);
    assert.equal(inc.type, 'exposed-key');
    assert.equal(inc.severity, 'critical');
    assert.deepEqual([...new Set(inc.evidence?.map((e) => e.source))].sort(), ['audit', 'notice', 'push', 'workspace']);
    for (const [k, v] of [['Found in', 'services/billing/.env line 2'], ['Pushed', 'no: the pre-push gate blocks it (refs/heads/main)'], ['Exposed at', 'https://github.com/example-shop/api/compare/9c1e2f7...41ab0d3'], ['Contact AWS by', '2025-04-14']]) assert.ok(inc.facts.some(([a, b]) => a === k && b === v), `${k}: ${v} in ${JSON.stringify(inc.facts)}`);
    // The audit check's id and the notice's id find it.
    assert.equal(book.get(`stale-key:123456789012:${key}`)?.id, inc.id);
    assert.equal(book.get('notice:174302977800511')?.id, inc.id);
    // Runbook filled with the key and its user (from the audit or the notice); buttons act on that key.
    const rb = RUNBOOKS['exposed-key'];
    const cli = rb?.phases.flatMap((p) => p.steps).find((s) => s.id === 'deactivate')?.cli as string;
    assert.equal(fillCliChecked(cli, inc).line, `aws iam update-access-key --user-name ci-deploy --access-key-id ${key} --status Inactive`);
    assert.deepEqual(actionTargets(inc, 'deactivate-key').map((a) => [a.resource.id, a.resource.user]), [[key, 'ci-deploy']]);
    assert.deepEqual(actionTargets(inc, 'rotate-key').map((a) => a.resource.id), [key]);
    assert.deepEqual(actionTargets(inc, 'revoke-sessions').map((a) => a.resource.id), ['ci-deploy']);
    // One checklist and timeline: a tick survives another audit.
    book.setStep(inc.id, 'Contain/deactivate', true, 'tester', ['Contain/deactivate', 'Contain/sessions']);
    await audit(book);
    assert.equal(book.get(inc.id)?.steps['Contain/deactivate']?.done, true);
    assert.equal(book.get(inc.id)?.status, 'open');
    outputs.push(readFileSync(file, 'utf8'), incidentReport(book.get(inc.id)!, rb, 'tester'));
  }
});

test('one instance: a notice naming the stray instance and the audit that lists it are one incident', async (t) => {
  const book = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  await audit(book);
  const auditId = '123456789012'.replace(/^/, 'unknown-resources:') + ':ap-south-1';
  assert.ok(book.get(auditId), 'the audit found the stray instance');
  const n = noticeIncident(parseNotice(`Subject: Your EC2 Abuse Report [61209934117] [AWS ID 123456789012]\nDate: Fri, 03 Jan 2025 18:20:00 +0000\n\nAWS ID: 123456789012 Region: ap-south-1 EC2 Instance Id: ${seed.stray.instance}\n\nhas been implicated in activity which resembles a denial of service attack. Please respond within 24 hours.\n`));
  const { incident, isNew } = book.upsert(n, 'tester', 'notice');
  assert.equal(isNew, false, 'the notice adds to the audit\'s incident');
  assert.equal(incident.id, auditId);
  assert.equal(incident.type, 'compromised-instance', 'the runbook that fits a reported instance');
  assert.deepEqual(actionTargets(incident, 'isolate-instance').map((a) => [a.resource.id, a.resource.region]), [[seed.stray.instance, 'ap-south-1']]);
  // The next audit keeps it one incident; the notice's instance id finds it.
  await audit(book);
  assert.equal(book.incidents.filter((i) => i.resources.some((r) => r.kind === 'instance' && r.id === seed.stray.instance)).length, 1);
  assert.equal(book.get(`instance:${seed.stray.instance}`)?.id, auditId);
});

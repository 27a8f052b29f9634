// The incident book under partial facts and hostile files:
// - an audit that could not read a fact (a denied or throttled call) never removes or replaces the
//   resources and facts known from before: actions keep their targets, the fact says it is the
//   last known value and which call failed (property test over random partial audits);
// - incidents.json, its lock and the lock's breaker are never followed when they are symlinks:
//   nothing is written outside, and the reason is said.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { actionTargets } from '../../src/core/incidents/actions';
import { IncidentBook } from '../../src/core/incidents/book';
import { auditCovers, checkAccount, DEFAULT_CHECKS } from '../../src/core/incidents/checks';
import type { AccountSnapshot, IncidentDraft, ResourceRef, UserFacts } from '../../src/core/incidents/types';
import { tempDir } from './helpers';

const ACCOUNT = '123456789012';
const NOW = new Date('2026-11-20T12:00:00Z');
const KEY = 'AKIAZ7EXAMPLEQRST234';

function snapshot(users: UserFacts[] | undefined, unread: Record<string, string> = {}, extra: Partial<AccountSnapshot> = {}): AccountSnapshot {
  return { account: ACCOUNT, caller: 'arn:aws:iam::123456789012:user/admin', takenAt: NOW.toISOString(), regions: ['us-east-1'], homeRegions: ['us-east-1'], securityGroups: [], instances: [], keyPairs: [], users, errors: Object.values(unread), unread, ...extra };
}

function audit(book: IncidentBook, snap: AccountSnapshot): IncidentDraft[] {
  const drafts = checkAccount(snap, { ...DEFAULT_CHECKS, now: NOW });
  book.mergeAudit(drafts, { account: snap.account, actor: 'tester', covers: (i) => auditCovers(snap, i) });
  return drafts;
}

const quarantined = (keys: UserFacts['keys']): UserFacts => ({ name: 'deploy.bot-ci', arn: 'arn:aws:iam::123456789012:user/deploy.bot-ci', mfa: true, consolePassword: false, policies: ['AWSCompromisedKeyQuarantineV3'], keys });

test('mergeAudit: a quarantine found while the user\'s keys could not be read keeps the key as the target of Deactivate', (t) => {
  const book = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  audit(book, snapshot([quarantined([{ id: KEY, status: 'Active', createdAt: '2026-11-01T00:00:00Z', lastUsed: '2026-11-19T00:00:00Z' }])]));
  const inc = book.get(`exposed-key:${ACCOUNT}:deploy.bot-ci`);
  assert.ok(inc, 'found by the check id');
  assert.equal(inc.id, `key:${KEY}`, 'a check about one key opens that key\'s incident');
  assert.equal(actionTargets(inc, 'deactivate-key')[0]?.resource.id, KEY);

  // ListAccessKeys denied this time: the draft lists no key.
  const u = quarantined(undefined);
  audit(book, snapshot([u], { [`keys:${u.name}`]: 'AWS denied ListAccessKeys to arn:aws:iam::123456789012:user/admin' }));
  const after = book.get(`key:${KEY}`);
  assert.ok(after);
  assert.equal(after.status, 'open');
  assert.deepEqual(actionTargets(after, 'deactivate-key').map((a) => a.resource.id), [KEY], 'the key is still the target');
  assert.equal(actionTargets(after, 'deactivate-key')[0]?.resource.user, 'deploy.bot-ci');
  const keysFact = after.facts.find(([k]) => k === 'Access keys')?.[1] ?? '';
  assert.match(keysFact, new RegExp(`^${KEY} \\(Active\\) \\(last known; now unknown: AWS denied ListAccessKeys`));
  assert.ok(after.facts.some(([k, v]) => /^Not read/.test(k) && /ListAccessKeys/.test(v)), 'says which fact is missing');
  assert.ok(after.timeline.some((e) => /could not read .*ListAccessKeys/.test(e.text)));

  // Read again in full: the draft's own list is the truth again (a key deleted since is gone).
  audit(book, snapshot([quarantined([{ id: KEY, status: 'Inactive', createdAt: '2026-11-01T00:00:00Z' }])]));
  const full = book.get(`key:${KEY}`);
  assert.match(full?.facts.find(([k]) => k === 'Access keys')?.[1] ?? '', new RegExp(`^${KEY} \\(Inactive\\)$`));
  assert.ok(!full?.facts.some(([k]) => /^Not read/.test(k)));
});

test('mergeAudit: partial drafts never lose a known resource or fact (property)', (t) => {
  const dir = tempDir(t);
  let n = 0;
  const res = fc.record({ kind: fc.constantFrom<ResourceRef['kind']>('instance', 'access-key', 'user', 'security-group'), id: fc.stringMatching(/^[a-z0-9-]{1,8}$/), region: fc.constantFrom(undefined, 'us-east-1') });
  const facts = fc.array(fc.tuple(fc.constantFrom('A', 'B', 'C', 'D'), fc.stringMatching(/^[a-z0-9 ]{1,8}$/)), { maxLength: 4 });
  fc.assert(
    fc.property(fc.array(res, { minLength: 1, maxLength: 5 }), facts, fc.array(fc.record({ keep: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), unknown: fc.subarray(['A', 'B', 'C', 'D']), flag: fc.constantFrom('missing', 'uncertain', 'fact') }), { minLength: 1, maxLength: 4 }), (first, firstFacts, later) => {
      const book = new IncidentBook(path.join(dir, `b${n++}.json`));
      const id = `open-ingress:${ACCOUNT}:us-east-1:sg-x`;
      const base: IncidentDraft = { id, type: 'open-ingress', severity: 'high', title: 't', summary: 's', resources: first, facts: firstFacts };
      book.mergeAudit([base], { account: ACCOUNT, actor: 'a', covers: () => true });
      const known = book.get(id)?.resources.map((r) => `${r.kind}/${r.region}/${r.id}`) ?? [];
      const knownFacts = new Map(book.get(id)?.facts.filter(([k]) => /^[A-D]$/.test(k)));
      for (const step of later) {
        const partial: IncidentDraft = {
          ...base,
          severity: 'medium',
          resources: first.filter((_, i) => step.keep[i]),
          facts: firstFacts.map(([k, v]): [string, string] => (step.unknown.includes(k) ? [k, 'unknown: AWS kept throttling DescribeInstances'] : [k, v])),
          ...(step.flag === 'missing' ? { missing: ['instances: throttled'] } : step.flag === 'uncertain' ? { uncertain: { worst: 'high', missing: ['instances: throttled'] } } : {}),
        };
        const isPartial = step.flag !== 'fact' || partial.facts.some(([, v]) => v.startsWith('unknown'));
        book.mergeAudit([partial], { account: ACCOUNT, actor: 'a', covers: () => true });
        const inc = book.get(id);
        assert.ok(inc);
        if (!isPartial) return; // a complete draft is the truth again
        const now = new Set(inc.resources.map((r) => `${r.kind}/${r.region}/${r.id}`));
        for (const k of known) assert.ok(now.has(k), `${k} kept`);
        for (const [k, v] of knownFacts) assert.ok(inc.facts.some(([k2, v2]) => k2 === k && v2.startsWith(v)), `fact ${k} keeps ${v}`);
        if (step.flag === 'uncertain') assert.equal(inc.severity, 'high', 'the last known severity');
      }
    }),
    { seed: 11, numRuns: 60 },
  );
});

test('incidents.json: a symlink there is never followed; the target is untouched and the reason said', (t) => {
  const dir = tempDir(t);
  const outside = path.join(dir, 'outside.json');
  writeFileSync(outside, 'precious, not ours\n');
  const file = path.join(dir, 'home', 'incidents.json');
  new IncidentBook(file).add({ id: 'manual:x', type: 'no-mfa', severity: 'low', title: 't', summary: 's', source: 'manual', resources: [], facts: [] }, 'a', 'hand');
  // Replace the book by a link to another file.
  renameSync(file, path.join(dir, 'home', 'old.json'));
  symlinkSync(outside, file);
  const book = new IncidentBook(file);
  assert.match(book.loadProblem ?? '', /symbolic link/);
  assert.throws(() => book.add({ id: 'manual:y', type: 'no-mfa', severity: 'low', title: 't', summary: 's', source: 'manual', resources: [], facts: [] }, 'a', 'hand'), /symbolic link/);
  assert.equal(readFileSync(outside, 'utf8'), 'precious, not ours\n');

  // A dangling link (to where a file would be created) is refused too.
  const file2 = path.join(dir, 'home2', 'incidents.json');
  const book2 = new IncidentBook(file2);
  book2.add({ id: 'manual:z', type: 'no-mfa', severity: 'low', title: 't', summary: 's', source: 'manual', resources: [], facts: [] }, 'a', 'hand');
  const target = path.join(dir, 'created-elsewhere.json');
  renameSync(file2, path.join(dir, 'home2', 'old.json'));
  symlinkSync(target, file2);
  assert.throws(() => new IncidentBook(file2).record('manual:z', { actor: 'a', kind: 'note', text: 'x' }));
  assert.ok(!existsSync(target), 'nothing created through the link');
});

test('incidents.json.lock and its breaker: a symlink or FIFO there is refused, nothing is written through it', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'incidents.json');
  const book = new IncidentBook(file);
  book.add({ id: 'manual:x', type: 'no-mfa', severity: 'low', title: 't', summary: 's', source: 'manual', resources: [], facts: [] }, 'a', 'hand');
  const outside = path.join(dir, 'victim');
  writeFileSync(outside, 'keep');
  for (const name of ['incidents.json.lock', 'incidents.json.lock.break']) {
    const p = path.join(dir, name);
    symlinkSync(outside, p);
    assert.throws(() => book.record('manual:x', { actor: 'a', kind: 'note', text: 'x' }), /symbolic link/);
    assert.equal(readFileSync(outside, 'utf8'), 'keep');
    unlinkSync(p);
  }
  execFileSync('mkfifo', [path.join(dir, 'incidents.json.lock')]);
  assert.throws(() => book.record('manual:x', { actor: 'a', kind: 'note', text: 'x' }), /not a regular file/);
  // The book itself still works once the FIFO is gone, and no temporary file is left behind.
  unlinkSync(path.join(dir, 'incidents.json.lock'));
  book.record('manual:x', { actor: 'a', kind: 'note', text: 'fine' });
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
});

test('key incident: sightings are evidence; a file that no longer holds the key is marked, not forgotten; liveness fills the owner', async (t) => {
  const { sightingDraft } = await import('../../src/core/incidents/keyIncident');
  const book = new IncidentBook(path.join(tempDir(t), 'incidents.json'));
  const a = sightingDraft({ keyId: KEY, source: 'workspace', file: '.env', line: 2 });
  const live = { status: 'active' as const, user: 'deploy.bot-ci', accountId: ACCOUNT, sentence: 'active key of IAM user deploy.bot-ci, last used 2 h ago by s3 in eu-west-1' };
  const b = sightingDraft({ keyId: KEY, source: 'workspace', file: 'config/prod.yml', line: 7 }, live);
  assert.equal(book.upsert(a, 't', 'found').isNew, true);
  assert.equal(book.upsert(b, 't', 'found').isNew, false);
  let inc = book.get(`key:${KEY}`);
  assert.ok(inc);
  assert.equal(inc.severity, 'critical', 'an active key');
  assert.equal(actionTargets(inc, 'deactivate-key')[0]?.resource.user, 'deploy.bot-ci', 'the owner from the liveness check reaches the button');
  assert.match(inc.title, new RegExp(`^Access key ${KEY} of deploy\\.bot-ci: exposed`));
  book.markGone([a.evidenceId], 't');
  inc = book.get(`key:${KEY}`);
  assert.ok(inc?.facts.some(([k, v]) => k === 'Found by' && /\.env line 2 \(no longer found\)/.test(v)));
  assert.equal(inc?.status, 'open', 'removing a key from a file does not make it safe');
  // Re-upserting the same evidence changes nothing in the timeline.
  const n = inc?.timeline.length;
  book.upsert(b, 't', 'found');
  assert.equal(book.get(`key:${KEY}`)?.timeline.length, n);
});

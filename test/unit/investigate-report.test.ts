// The investigation as stored (0600, no secret), reported (Markdown, inert) and judged (ownership):
// generated events with hostile names, and the invariants that hold for any of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import fc from 'fast-check';
import { incidentReport } from '../../src/core/incidents/report';
import type { Incident } from '../../src/core/incidents/types';
import { investigate, type Investigation } from '../../src/core/investigate/investigation';
import { findPersistence } from '../../src/core/investigate/persistence';
import { investigationMarkdown } from '../../src/core/investigate/report';
import { investigationFile, loadInvestigation, saveInvestigation } from '../../src/core/investigate/store';
import { createdBy, ownerJudge, parseLookupEvent, type TrailEvent } from '../../src/core/investigate/trail';
import { tempDir } from './helpers';
// @ts-expect-error markdown-it ships no types (installed with the packaging tools); the reference parser here
import MarkdownIt from 'markdown-it';

const md_ = new MarkdownIt({ html: true, linkify: true });

const SINCE = '2026-11-20T00:00:00Z';
const hostile = fc.constantFrom('x](https://evil.example)', '<img src=x onerror=alert(1)>', '# heading', 'a\nb', '\u202egnp.exe', '`code`', 'ok-name', '*bold*', '![i](http://x/y.png)');

function ev(p: { name: string; time: string; ip: string; agent: string; key: string; req?: Record<string, unknown>; res?: Record<string, unknown>; error?: string }): TrailEvent {
  const e = parseLookupEvent(
    {
      EventId: `${p.time}-${p.name}-${Math.random()}`,
      EventName: p.name,
      EventTime: p.time,
      CloudTrailEvent: JSON.stringify({ eventTime: p.time, awsRegion: 'us-east-1', sourceIPAddress: p.ip, userAgent: p.agent, userIdentity: { accessKeyId: p.key }, requestParameters: p.req ?? {}, responseElements: p.res ?? {}, ...(p.error ? { errorCode: p.error } : {}) }),
    },
    'us-east-1',
  );
  assert.ok(e);
  return e;
}

const arbEvent = fc.record({
  name: fc.constantFrom('CreateUser', 'CreateAccessKey', 'AttachUserPolicy', 'CreateKeyPair', 'ListBuckets', 'PutUserPolicy', 'CreateLoginProfile'),
  before: fc.boolean(),
  owner: fc.boolean(),
  failed: fc.boolean(),
  user: hostile,
  key: fc.constantFrom('AKIAIOSFODNN7EXAMPLE', 'AKIAI44QH8DHBEXAMPLE'),
});

test('ownership: a resource made only by the owner (before the exposure, or from its IP and tool) never gets a removal; one the attacker created does, one it only changed is marked attacker-changed', () => {
  fc.assert(
    fc.property(fc.array(arbEvent, { maxLength: 40 }), (specs) => {
      const events = specs.map((s, i) =>
        ev({
          name: s.name,
          time: new Date(Date.parse(SINCE) + (s.before ? -1 : 1) * (i + 1) * 60_000).toISOString(),
          ip: s.owner || s.before ? '203.0.113.10' : '198.51.100.7',
          agent: s.owner || s.before ? 'aws-cli/2' : 'Boto3',
          key: s.key,
          req: { userName: s.user, policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess', policyName: s.user, keyName: s.user },
          res: { user: { userName: s.user }, accessKey: { accessKeyId: 'AKIAJ7EXAMPLEKEY1234', userName: s.user } },
          ...(s.failed ? { error: 'AccessDenied' } : {}),
        }),
      );
      const baseline = events.filter((e) => e.time < SINCE);
      const items = findPersistence(events, SINCE, ownerJudge(baseline));
      for (const it of items) {
        const touching = events.filter((e) => !e.errorCode && e.created.some((c) => c.type === it.type && c.id === it.id && c.region === it.region));
        const isAttacker = (e: TrailEvent): boolean => e.time >= SINCE && !ownerJudge(baseline)(e);
        const attacker = touching.some(isAttacker);
        // B5 (incidents-adversary2): the attacker's creation only when the first call seen is the
        // attacker's and creates it; a change or an idempotent re-attach of something that may have
        // existed before is "attacker-changed", with no removal.
        const first = [...touching].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))[0] as TrailEvent;
        const firstName = first.created.find((c) => c.type === it.type && c.id === it.id)?.eventName ?? '';
        const userMade = events.some((e) => !e.errorCode && e.time <= first.time && e.created.some((c) => c.type === 'iam-user' && c.eventName === 'CreateUser' && c.id === it.user));
        const creates = !['UpdateLoginProfile', 'UpdateAssumeRolePolicy'].includes(firstName) && (!['AttachUserPolicy', 'PutUserPolicy'].includes(firstName) || userMade);
        assert.equal(it.ownership, !attacker ? it.ownership : isAttacker(first) && creates ? 'attacker' : 'attacker-changed');
        assert.ok(attacker || (it.ownership !== 'attacker' && it.ownership !== 'attacker-changed'));
        assert.equal(!!it.removal, it.ownership === 'attacker' && !['role', 'role-trust', 'lambda-function'].includes(it.type));
      }
      // Failed calls create nothing.
      assert.ok(items.every((it) => events.some((e) => !e.errorCode && e.created.some((c) => c.id === it.id))));
    }),
  );
});

test('report: hostile names stay text (no link, image, HTML or heading); the section is in the incident report', () => {
  fc.assert(
    fc.property(fc.array(hostile, { minLength: 1, maxLength: 6 }), (names) => {
      const events = names.map((n, i) => ev({ name: 'CreateUser', time: `2026-11-21T00:00:0${i}Z`, ip: '198.51.100.7', agent: n, key: 'AKIAIOSFODNN7EXAMPLE', res: { user: { userName: n } } }));
      const inv = fakeInvestigation(events);
      const md = investigationMarkdown(incident(), inv).join('\n');
      const html = String(md_.render(md));
      assert.ok(!/<a |<img|<script|<h1|<h4/.test(html), html);
      assert.deepEqual([...html.matchAll(/<h([23])>([^<]*)/g)].map((m) => m[2]?.split(' ')[0]), ['Investigation', 'Created', 'Calls']);
    }),
  );
});

function incident(): Incident {
  return { id: 'exposed-key:AKIAIOSFODNN7EXAMPLE', type: 'exposed-key', severity: 'critical', title: 'Exposed key', summary: 's', source: 'manual', resources: [{ kind: 'access-key', id: 'AKIAIOSFODNN7EXAMPLE' }], facts: [], status: 'open', createdAt: '2026-11-21T00:00:00Z', updatedAt: '2026-11-21T00:00:00Z', steps: {}, timeline: [] };
}
function fakeInvestigation(events: TrailEvent[]): Investigation {
  const baseline = events.filter((e) => e.time < SINCE);
  const resources = findPersistence(events, SINCE, ownerJudge(baseline));
  return {
    version: 1,
    subject: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
    at: '2026-11-22T00:00:00Z',
    window: { from: '2026-10-21T00:00:00Z', to: '2026-11-22T00:00:00Z' },
    exposure: { since: SINCE, source: 'git', detail: 'commit abc' },
    regions: ['us-east-1'],
    failures: [],
    summary: { from: '', to: '', events: events.length, first: null, last: null, byName: [], ips: [], userAgents: [], failures: [], ownerCalls: 0, otherCalls: events.length, created: [], verdict: ['created user x'] },
    followed: [],
    timeline: events,
    timelineTruncated: 0,
    resources,
  };
}

test('store: 0600 in a 0700 folder, secrets redacted, a tampered or foreign file is ignored; the report includes it and the removal', (t) => {
  const home = tempDir(t);
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const events = [ev({ name: 'CreateUser', time: '2026-11-21T00:00:00Z', ip: '198.51.100.7', agent: `curl ${secret}`, key: 'AKIAIOSFODNN7EXAMPLE', res: { user: { userName: 'backup' } } })];
  const inv = fakeInvestigation(events);
  const inc = incident();
  saveInvestigation(inc.id, inv, home);
  const file = investigationFile(inc.id, home);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const back = loadInvestigation(inc.id, home);
  assert.ok(back);
  assert.ok(!JSON.stringify(back).includes(secret), 'the secret in a user agent is redacted when stored');
  assert.equal(loadInvestigation('another-incident', home), undefined);
  inc.timeline.push({ at: '2026-11-22T01:00:00Z', actor: 'me', kind: 'action', text: 'Delete IAM user backup and everything it holds [backup]', calls: [{ api: 'iam:DeleteUser', target: 'backup', ok: true }] });
  const prev = process.env.KEYSENTRY_HOME;
  process.env.KEYSENTRY_HOME = home;
  try {
    const report = incidentReport(inc, undefined, 'tester');
    assert.match(report, /## Investigation \(CloudTrail\)/);
    assert.match(report, /iam-user `backup` .*not yours; \*\*removed\*\* 2026-11-22T01:00:00Z/);
    assert.ok(!report.includes(secret));
  } finally {
    if (prev === undefined) delete process.env.KEYSENTRY_HOME;
    else process.env.KEYSENTRY_HOME = prev;
  }
});

test('investigation: follows the attacker keys breadth first, at most MAX_FOLLOWED, never the investigated key again', async () => {
  // A chain of keys each creating the next: 30 long. Only 20 are followed.
  const key = (i: number): string => `AKIA${String(i).padStart(16, '0')}`;
  const calls: string[] = [];
  const r = await investigate(
    async (attr) => {
      calls.push(attr.value);
      const i = attr.value === 'AKIAIOSFODNN7EXAMPLE' ? 0 : Number(attr.value.slice(4)) + 1;
      return { events: i > 30 ? [] : [ev({ name: 'CreateAccessKey', time: `2026-11-21T00:${String(i).padStart(2, '0')}:00Z`, ip: '198.51.100.7', agent: 'Boto3', key: attr.value, res: { accessKey: { accessKeyId: key(i), userName: 'x' } } })], failures: [] };
    },
    { subject: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }, regions: ['us-east-1'], from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-11-22T00:00:00Z'), exposure: { since: SINCE, source: 'flag', detail: '' } },
  );
  assert.equal(r.investigation.followed.length, 20);
  assert.equal(new Set(calls).size, calls.length, 'no key is looked up twice');
  assert.equal(r.investigation.resources.filter((x) => x.type === 'access-key').length, 21);
  assert.deepEqual(createdBy('CreateFunction20150331', 'eu-west-1', 't', {}, { functionName: 'f' })[0]?.type, 'lambda-function');
});

// AWS notices beyond abuse reports, from our own realistic fixtures (test/fixtures/notices): the
// exposed-key family from 2014 to today ("publicly available online at URL", the key's IAM user,
// a GitHub compare URL, a "contact AWS by" date), the compromised-account family ("inappropriately
// accessed by a third-party", "Irregular activity in your AWS account", "Irregular Activity
// Detected for Your AWS Access Key", "may still be compromised"), support-case headers (Case ID,
// Severity), the abuse reporter's form (date, time, zone: used instead of today's year), a notice
// forwarded as an attachment (message/rfc822, through postal-mime), and malformed variants where
// nothing is guessed. Every notice about one key lands in that key's incident.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { IncidentBook } from '../../src/core/incidents/book';
import { isUsableNotice, noticeIncident, parseNotice, parseNoticeAsync, type ParsedNotice } from '../../src/core/incidents/notice';
import { assertNoSecret, tempDir } from './helpers';
// @ts-expect-error plain ESM fixture generator
import { fakeKeyId, fakeSecret } from '../fixtures/fake-keys.mjs';

const DIR = path.join(__dirname, '..', 'fixtures', 'notices');
const KEY: string = fakeKeyId();
const read = (f: string, key = KEY): string => readFileSync(path.join(DIR, f), 'utf8').replace(/\{\{KEY_ID\}\}/g, key);

interface Want {
  type: string;
  incidentType: string;
  keys?: string[];
  users?: string[];
  instances?: string[];
  caseId?: string;
  account?: string;
  severity?: string;
  exposedAt?: string;
  commits?: string[];
  contactBy?: string;
  within?: string;
  reported?: ParsedNotice['reported'];
  window?: { from: string; to: string };
}

const FAMILIES: Record<string, Want> = {
  'exposed-key-2014.txt': { type: 'exposed-key', incidentType: 'exposed-key', keys: [KEY], users: [], account: '284017736519', exposedAt: 'https://github.com/rdelacroix/photo-share/blob/master/settings.py' },
  'exposed-key.txt': { type: 'exposed-key', incidentType: 'exposed-key', keys: [KEY], users: ['ci-deploy'], commits: ['4f2a9c1'], within: '5 days' },
  'exposed-key-compare.eml': { type: 'exposed-key', incidentType: 'exposed-key', keys: [KEY], users: ['maria.lopez-dev'], caseId: '174302977800511', account: '593018274466', severity: 'Urgent', exposedAt: 'https://github.com/example-shop/checkout-api/compare/9c1e2f7...41ab0d3', commits: ['9c1e2f7', '41ab0d3'], contactBy: '2025-04-14' },
  'compromised-third-party.txt': { type: 'exposed-key', incidentType: 'exposed-key', keys: [KEY], users: ['ops.backup-2'], caseId: '171900284411052', account: '118273645509', within: '5 days' },
  'still-compromised.txt': { type: 'exposed-key', incidentType: 'exposed-key', keys: [KEY], users: ['ops.backup-2'], caseId: '171900284411052', account: '118273645509', within: '24 hours' },
  'irregular-key.eml': { type: 'exposed-key', incidentType: 'exposed-key', keys: [KEY], users: ['svc.data-pipeline'], caseId: '174241750900887', account: '907711264430', severity: 'High', within: '24 hours' },
  'irregular-activity.txt': { type: 'account-compromise', incidentType: 'unknown-resources', keys: [], instances: ['i-0a1b2c3d4e5f60718', 'i-0f9e8d7c6b5a40312'], account: '640128837701', within: '24 hours' },
  'abuse-form.txt': {
    type: 'intrusion',
    incidentType: 'compromised-instance',
    instances: ['i-0d4c3b2a1f0e9d8c7'],
    caseId: '61209934117',
    account: '552018476630',
    // The reporter's date and zone, not the notice's year read as UTC: 23:41:07 at -08:00 on 2024-12-30.
    reported: { date: '2024-12-30', time: '23:41:07', zone: '-08:00', at: '2024-12-31T07:41:07.000Z' },
    window: { from: '2024-12-31T07:41:07.000Z', to: '2024-12-31T07:41:09.000Z' },
  },
};

for (const [file, want] of Object.entries(FAMILIES)) {
  test(`notice family: ${file}`, () => {
    const n = parseNotice(read(file));
    assert.equal(isUsableNotice(n), true);
    assert.equal(n.abuseType, want.type);
    if (want.keys) assert.deepEqual(n.accessKeyIds, want.keys);
    if (want.users) assert.deepEqual(n.userNames, want.users);
    if (want.instances) assert.deepEqual(n.instanceIds, want.instances);
    assert.equal(n.caseId, want.caseId);
    if (want.account) assert.equal(n.accountId, want.account);
    assert.equal(n.caseSeverity, want.severity);
    if (want.exposedAt) assert.equal(n.exposedAt, want.exposedAt);
    if (want.commits) assert.deepEqual(n.commits, want.commits);
    assert.equal(n.contactBy, want.contactBy);
    if (want.within) assert.equal(n.replyWithin, want.within);
    if (want.reported) assert.deepEqual(n.reported, want.reported);
    if (want.window) assert.deepEqual(n.window, want.window);
    const d = noticeIncident(n);
    assert.equal(d.type, want.incidentType);
    if (want.keys?.length === 1) {
      assert.equal(d.id, `key:${KEY}`, 'a notice about one key is that key\'s incident');
      const key = d.resources.find((r) => r.kind === 'access-key');
      assert.equal(key?.user, want.users?.[0], 'the owner is filled in when the notice names one user');
    }
    assert.match(d.evidenceId, /^notice:/);
  });
}

test('notice family: malformed variants say what is wrong and guess nothing', () => {
  const m = parseNotice(read('exposed-key-malformed.txt'));
  assert.equal(m.abuseType, 'exposed-key');
  assert.deepEqual(m.accessKeyIds, [], 'a truncated key id is not a key id');
  assert.deepEqual(m.userNames, [], 'an empty user name is not a user');
  assert.equal(m.exposedAt, undefined, 'no URL after "at"');
  assert.equal(m.contactBy, undefined, '2025-02-30 is not a date');
  assert.equal(m.receivedAt, undefined);
  assert.equal(m.deadline, undefined, 'no sending time: no deadline computed');
  assert.match(m.warnings.join('\n'), /2025-02-30.*not a calendar date/);
  assert.ok(m.missing.includes('Access keys'));

  const z = parseNotice(read('abuse-form-no-zone.txt'));
  assert.equal(z.reported, undefined);
  assert.match(z.warnings.join('\n'), /2024-13-45.*not a calendar date/);
  // A valid date with no zone: shown as written, never converted, not put into the window.
  const nz = parseNotice('Subject: Your EC2 Abuse Report [61209934119]\n\nEC2 instance i-0d4c3b2a1f0e9d8c7 in us-west-1, port scanning.\nAbuse date (yyyy-mm-dd): 2024-11-02\nAbuse time: 04:05:06\n');
  assert.deepEqual(nz.reported, { date: '2024-11-02', time: '04:05:06' });
  assert.equal(nz.window, undefined);
  assert.match(nz.understood.find(([k]) => k === 'Reported abuse time')?.[1] ?? '', /2024-11-02 04:05:06 \(time zone not given\)/);
  assert.match(nz.warnings.join('\n'), /without a time zone/);
  // A zone that is not an offset is not used.
  const bad = parseNotice('Subject: Your EC2 Abuse Report [61209934120]\n\nEC2 instance i-0d4c3b2a1f0e9d8c7 port scanning.\nAbuse date (yyyy-mm-dd): 2024-11-02\nAbuse time: 04:05:06\nTime zone: +2500\n');
  assert.equal(bad.reported?.at, undefined);
  assert.match(bad.warnings.join('\n'), /not a UTC offset/);
  // "within five (5) days" and "within 5 (five) days" agree; a mismatch is said.
  assert.equal(parseNotice('Date: Tue, 02 Sep 2025 21:07:33 +0000\nSubject: s\n\nirregular activity from i-0d4c3b2a1f0e9d8c7, reply within five (5) days').deadline, '2025-09-07T21:07:33.000Z');
  assert.match(parseNotice('irregular activity, i-0d4c3b2a1f0e9d8c7, reply within five (7) days').warnings.join('\n'), /differ/);
  // A syslog line with no year in a January notice is last December's, not next December's.
  const jan = parseNotice('Date: Fri, 03 Jan 2025 18:20:00 +0000\nSubject: Your EC2 Abuse Report [61209934121]\n\nport scanning from i-0d4c3b2a1f0e9d8c7\nDec 30 23:41:07 fw kernel: DROP SRC=54.176.20.9\n');
  assert.equal(jan.window?.from, '2024-12-30T23:41:07.000Z');
});

test('notice family: a notice forwarded as an attachment (message/rfc822) is read from the attachment', async () => {
  const sync = parseNotice(read('forwarded-attachment.eml'));
  assert.equal(isUsableNotice(sync), false, 'the outer message says nothing');
  const n = await parseNoticeAsync(read('forwarded-attachment.eml'));
  assert.equal(n.abuseType, 'exposed-key');
  assert.deepEqual(n.accessKeyIds, [KEY]);
  assert.deepEqual(n.userNames, ['maria.lopez-dev']);
  assert.equal(n.caseId, '174302977800511');
  assert.equal(n.contactBy, '2025-04-14');
  assert.equal(n.receivedAt, '2025-04-07T09:14:52.000Z', 'the forwarded notice\'s own date, not the forward\'s');
  assert.match(n.warnings[0] ?? '', /forwarded as an attachment/);
  // Malformed: a 400 KB boundary in the outer message is never given to postal-mime.
  const b = 'z'.repeat(400_000);
  const huge = `From: a@b\nSubject: Fwd\nContent-Type: multipart/mixed; boundary="${b}"\n\n--${b}\nContent-Type: message/rfc822\n\n${read('exposed-key.txt')}\n--${b}--\n`;
  const h = await parseNoticeAsync(huge);
  assert.match(h.warnings.join('\n'), /boundary is longer|malformed or too large/);
});

test('notice family: notices, the workspace and an audit about one key make one incident; no secret is stored', (t) => {
  const secret: string = fakeSecret();
  const file = path.join(tempDir(t), 'incidents.json');
  const book = new IncidentBook(file);
  // Two notices of the same case family (first and follow-up) and one with a pasted secret.
  const first = noticeIncident(parseNotice(read('compromised-third-party.txt')));
  const again = noticeIncident(parseNotice(read('still-compromised.txt') + `\nour config: aws_secret_access_key = ${secret}\n`));
  const a = book.upsert(first, 'tester', 'Imported');
  const b = book.upsert(again, 'tester', 'Imported again');
  assert.equal(a.incident.id, `key:${KEY}`);
  assert.equal(b.incident.id, a.incident.id);
  assert.equal(b.newEvidence, false, 'same case id: the same evidence, refreshed');
  // An exposed-key notice with another case adds evidence.
  const c = book.upsert(noticeIncident(parseNotice(read('exposed-key-compare.eml'))), 'tester', 'Imported');
  assert.equal(c.incident.id, `key:${KEY}`);
  assert.equal(c.newEvidence, true);
  const inc = book.get(`key:${KEY}`);
  assert.ok(inc);
  assert.equal(inc.type, 'exposed-key');
  assert.equal(inc.evidence?.length, 2);
  assert.ok(inc.facts.some(([k]) => k === 'Found by'));
  // The notice's old-style id and the case id find it too.
  assert.equal(book.get('notice:171900284411052')?.id, inc.id);
  const stored = readFileSync(file, 'utf8');
  assertNoSecret([stored, JSON.stringify(inc)], [secret]);
});

test('keysentry notice (the built CLI): a forwarded notice with a pasted secret is read from its attachment; no secret in the output', async () => {
  const { runBuiltCli } = await import('./helpers');
  const secret: string = fakeSecret();
  const eml = read('forwarded-attachment.eml').replace('Please contact AWS by 2025-04-14.', `Please contact AWS by 2025-04-14.\naws_secret_access_key = ${secret}`);
  const outputs: string[] = [];
  const json = await runBuiltCli(['notice', '-', '--format', 'json'], {}, { stdin: eml, outputs });
  assert.equal(json.code, 0, json.err);
  const o = JSON.parse(json.out) as { abuseType: string; incident: { id: string; evidenceId: string; resources: Array<{ kind: string; id: string; user?: string }> } };
  assert.equal(o.abuseType, 'exposed-key');
  assert.equal(o.incident.id, `key:${KEY}`);
  assert.equal(o.incident.evidenceId, 'notice:174302977800511');
  assert.deepEqual(o.incident.resources.find((r) => r.kind === 'access-key'), { kind: 'access-key', id: KEY, user: 'maria.lopez-dev' });
  const text = await runBuiltCli(['notice', '-'], {}, { stdin: eml, outputs });
  assert.match(text.out, /forwarded as an attachment/);
  assert.match(text.out, /Contact AWS by\s+2025-04-14/);
  assertNoSecret(outputs, [secret]);
});

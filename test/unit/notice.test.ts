// The abuse-notice parser on realistic notices of each abuse type (plain text, forwarded, .eml
// with quoted-printable, base64 HTML, encoded headers) and on malformed input, through the core
// parser and through `keysentry notice`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isUsableNotice, noticeIncident, parseNotice } from '../../src/core/incidents/notice';
import { assertNoSecret, runCli, tempDir } from './helpers';
// @ts-expect-error plain ESM fixture generator
import { fakeKeyId, fakeSecret } from '../fixtures/fake-keys.mjs';

const DIR = path.join(__dirname, '..', 'fixtures', 'notices');
const read = (f: string): Buffer => readFileSync(path.join(DIR, f));

interface Expect {
  type?: string;
  instances?: string[];
  region?: string;
  ips?: string[];
  ec2Ips?: string[];
  caseId?: string;
  account?: string;
  window?: [string, string];
  within?: string;
  deadline?: string;
  format?: 'email' | 'text';
  incident?: string;
}

const CASES: Record<string, Expect> = {
  'dos-ec2.txt': { type: 'dos', instances: ['i-0f3e7a91c2d4b5a68'], region: 'ap-south-1', caseId: '48213377501', account: '731492036518', ips: ['198.51.100.23', '13.233.118.40'], window: ['2026-11-18T21:03:00.000Z', '2026-11-18T23:41:57.000Z'], within: '24 hours', incident: 'compromised-instance' },
  'port-scan.eml': { format: 'email', type: 'port-scan', instances: [], region: 'us-east-1', caseId: '50127733918', account: '731492036518', ec2Ips: ['3.91.12.7'], window: ['2026-11-19T02:11:09.000Z', '2026-11-19T04:37:52.000Z'], deadline: '2026-11-20T09:12:31.000Z' },
  'ssh-bruteforce-html.eml': { format: 'email', type: 'intrusion', instances: ['i-07c1d2e3f4a5b6c7d'], region: 'us-west-2', caseId: '77310042215', ips: ['35.162.44.201'], window: ['2026-11-20T01:15:00.000Z', '2026-11-20T05:48:30.000Z'], deadline: '2026-11-21T15:30:00.000Z' },
  'spam-forwarded.txt': { type: 'spam', instances: ['i-0a9b8c7d6e5f40312'], region: 'eu-west-1', caseId: '50218830014', account: '402917735260', ec2Ips: ['52.31.7.140'], window: ['2026-11-21T03:55:01.000Z', '2026-11-21T04:12:44.000Z'], deadline: '2026-11-22T14:02:17.000Z' },
  'botnet-c2.txt': { type: 'malware', instances: ['i-0c4d5e6f7a8b9c0d1', 'i-0e1f2a3b4c5d6e7f8'], region: 'eu-central-1', window: ['2026-11-17T08:00:00.000Z', '2026-11-19T16:30:00.000Z'] },
  'mining.txt': { type: 'mining', instances: ['i-0123456789abcdef0'], region: 'us-east-2', window: ['2026-11-15T22:10:00.000Z', '2026-11-16T06:55:00.000Z'] },
  'phishing.txt': { type: 'phishing', instances: ['i-0fedcba9876543210'], region: 'us-east-1', ips: ['34.201.9.77'] },
  'copyright.txt': { type: 'copyright', instances: ['i-0aa11bb22cc33dd44'], region: 'eu-west-2', caseId: 'DMCA-2026-88412', within: '2 business days' },
  'no-date-no-region.txt': { type: 'port-scan', instances: ['i-0b1b2b3b4b5b6b7b8'], within: '24 hours' },
};

for (const [file, want] of Object.entries(CASES)) {
  test(`notice: ${file} is read as ${want.type}`, () => {
    const n = parseNotice(read(file));
    assert.equal(isUsableNotice(n), true);
    assert.equal(n.abuseType, want.type);
    if (want.format) assert.equal(n.format, want.format);
    if (want.instances) assert.deepEqual(n.instanceIds, want.instances);
    assert.equal(n.region, want.region);
    if (want.ips) for (const ip of want.ips) assert.ok(n.ips.includes(ip), `${ip} in ${n.ips.join(', ')}`);
    if (want.ec2Ips) assert.deepEqual([...new Set(n.ec2Ips)], want.ec2Ips);
    if (want.caseId) assert.equal(n.caseId, want.caseId);
    if (want.account) assert.equal(n.accountId, want.account);
    if (want.window) assert.deepEqual(n.window, { from: want.window[0], to: want.window[1] });
    if (want.within) assert.equal(n.replyWithin, want.within);
    if (want.deadline) assert.equal(n.deadline, want.deadline);
    // private and documentation-internal addresses never show up as reported IPs
    assert.ok(!n.ips.some((ip) => /^(10\.|192\.168\.|127\.)/.test(ip)));
    const inc = noticeIncident(n);
    assert.equal(inc.type, want.incident ?? 'compromised-instance');
    assert.deepEqual(inc.resources.filter((r) => r.kind === 'instance').map((r) => r.id), n.instanceIds);
    for (const r of inc.resources.filter((x) => x.kind === 'instance')) assert.equal(r.region, n.region);
  });
}

test('notice: what is missing is said, not guessed', () => {
  const n = parseNotice(read('no-date-no-region.txt'));
  assert.deepEqual(n.missing.sort(), ['Activity window', 'Region']);
  assert.equal(n.deadline, undefined);
  assert.match(n.warnings.join('\n'), /reply within 24 hours, but the time it was sent is unknown/);
  const inc = noticeIncident(n);
  assert.ok(inc.facts.some(([k, v]) => k === 'Not found in the notice' && v.includes('Region')));
});

test('notice: an exposed-key notice opens an exposed-key incident for that key', () => {
  const id = fakeKeyId();
  const n = parseNotice(read('exposed-key.txt').toString('utf8').replace('{{KEY_ID}}', id));
  assert.equal(n.abuseType, 'exposed-key');
  assert.deepEqual(n.accessKeyIds, [id]);
  assert.equal(n.accountId, '731492036518');
  assert.equal(n.replyWithin, '5 days');
  assert.equal(n.deadline, '2026-11-27T06:05:00.000Z');
  assert.ok(n.urls.some((u) => u.startsWith('https://github.com/example-org/billing-service')));
  const inc = noticeIncident(n);
  assert.equal(inc.type, 'exposed-key');
  assert.equal(inc.severity, 'critical');
  assert.deepEqual(n.userNames, ['ci-deploy']);
  assert.deepEqual(inc.resources.map((r) => `${r.kind}:${r.id}`), [`access-key:${id}`, 'user:ci-deploy']);
  assert.equal(inc.resources[0]?.user, 'ci-deploy');
});

test('notice: the same notice imported twice gives the same incident id; another notice another id', () => {
  const a = noticeIncident(parseNotice(read('dos-ec2.txt')));
  const b = noticeIncident(parseNotice(read('dos-ec2.txt').toString('utf8').replace(/\n/g, '\r\n')));
  assert.equal(a.id, b.id);
  // One instance named: the instance's incident (an audit naming it adds to the same one); the notice is its evidence.
  assert.equal(a.id, 'instance:i-0f3e7a91c2d4b5a68');
  assert.equal(a.evidenceId, 'notice:48213377501');
  const c = noticeIncident(parseNotice(read('no-date-no-region.txt')));
  assert.match(c.evidenceId, /^notice:[0-9a-f]{16}$/);
  assert.notEqual(c.evidenceId, noticeIncident(parseNotice(read('mining.txt'))).evidenceId);
  // Two instances: the notice's own incident.
  assert.equal(noticeIncident(parseNotice(read('botnet-c2.txt'))).id.startsWith('notice:'), true);
});

test('notice: malformed input is reported plainly, never thrown', () => {
  for (const file of ['empty.txt', 'not-a-notice.txt', 'headers-only.eml']) {
    const n = parseNotice(read(file));
    assert.equal(isUsableNotice(n), false, file);
    assert.match(n.warnings.join('\n'), /does not look like an AWS abuse notice/, file);
  }
  assert.match(parseNotice(read('headers-only.eml')).warnings.join('\n'), /no readable text/);
  // binary (a PNG header and noise) and UTF-16 text
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), Buffer.from('IHDR i-0f3e7a91c2d4b5a68 junk')]);
  const bin = parseNotice(png);
  assert.match(bin.warnings.join('\n'), /binary data/);
  const utf16 = parseNotice(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(read('dos-ec2.txt').toString('utf8'), 'utf16le')]));
  assert.equal(utf16.abuseType, 'dos');
  assert.deepEqual(utf16.instanceIds, ['i-0f3e7a91c2d4b5a68']);
});

test('notice: a secret pasted along with a notice never reaches the output or the stored text', async (t) => {
  const dir = tempDir(t);
  const id = fakeKeyId();
  const secret = fakeSecret();
  const text = read('exposed-key.txt').toString('utf8').replace('{{KEY_ID}}', id) + `\nFor reference our config had:\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n`;
  writeFileSync(path.join(dir, 'n.txt'), text);
  const n = parseNotice(text);
  const textOut = await runCli(['notice', 'n.txt'], dir);
  const jsonOut = await runCli(['notice', 'n.txt', '--format', 'json'], dir);
  assert.equal(textOut.code, 0);
  assert.equal(jsonOut.code, 0);
  const json = JSON.parse(jsonOut.out);
  assert.equal(json.incident.type, 'exposed-key');
  assert.equal(json.usable, true);
  assertNoSecret([n.text, JSON.stringify(noticeIncident(n)), textOut.out, textOut.err, jsonOut.out, jsonOut.err], [secret]);
});

test('notice CLI: exit 1 and a plain reason for a non-notice; exit 2 for a missing file or a bad flag', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'lunch.txt'), read('not-a-notice.txt'));
  const r = await runCli(['notice', 'lunch.txt'], dir);
  assert.equal(r.code, 1);
  assert.match(r.out, /does not look like an AWS abuse notice/);
  const missing = await runCli(['notice', 'nope.eml'], dir);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /no such file: nope\.eml/);
  const bad = await runCli(['notice', 'lunch.txt', '--format', 'xml'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--format must be text or json/);
});

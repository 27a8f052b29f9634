// Second adversarial round on incidents (repros in /work/wt/repro-inc): every test here failed
// before its fix.
// B1: exports, reports and stored investigations are never written (or read) through a symlink
//     under $KEYSENTRY_HOME (file or folder), and stay 0600 in 0700 folders.
// B2/B3: a secret split by invisible (Unicode Cf) characters or a line break is still masked.
// B4: revoke-sessions is refused against the signing identity (moto through the real SDK).
// B5: an idempotent change from an unknown IP does not make the owner's resource the attacker's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writePrivateFile } from '../../src/core/privateFile';
import { investigationFile, loadInvestigation, saveInvestigation } from '../../src/core/investigate/store';
import { tempDir } from './helpers';

const INV = { version: 1, summary: {}, resources: [], timeline: [], exposure: {} } as never;

test('B1: writePrivateFile refuses a symlinked file, a symlinked folder below the home, and keeps 0600/0700', (t) => {
  const home = tempDir(t);
  const outside = tempDir(t);
  // the file itself a link (export default path)
  const exp = path.join(home, 'exports', 'keysentry-incidents.json');
  mkdirSync(path.dirname(exp), { recursive: true });
  writeFileSync(path.join(outside, 'public.json'), '{}\n');
  symlinkSync(path.join(outside, 'public.json'), exp);
  assert.throws(() => writePrivateFile(exp, '{"keysentry":1}', home), /symbolic link/);
  assert.equal(readFileSync(path.join(outside, 'public.json'), 'utf8'), '{}\n');
  // a dangling link too
  const dangling = path.join(home, 'exports', 'dangling.json');
  symlinkSync(path.join(outside, 'new.json'), dangling);
  assert.throws(() => writePrivateFile(dangling, 'x', home), /symbolic link/);
  assert.equal(existsSync(path.join(outside, 'new.json')), false);
  // the reports folder a link
  symlinkSync(outside, path.join(home, 'reports'));
  assert.throws(() => writePrivateFile(path.join(home, 'reports', 'r.md'), '# r', home), /symbolic link/);
  assert.equal(existsSync(path.join(outside, 'r.md')), false);
  // a deeper folder a link
  mkdirSync(path.join(home, 'a'));
  symlinkSync(outside, path.join(home, 'a', 'b'));
  assert.throws(() => writePrivateFile(path.join(home, 'a', 'b', 'c', 'f.md'), 'x', home), /symbolic link/);
  assert.equal(existsSync(path.join(outside, 'c')), false);
  // the happy path: 0700 folders, 0600 file, replaced atomically
  const ok = path.join(home, 'new', 'deeper', 'ok.md');
  writePrivateFile(ok, 'one', home);
  writePrivateFile(ok, 'two', home);
  assert.equal(readFileSync(ok, 'utf8'), 'two');
  assert.equal(statSync(ok).mode & 0o777, 0o600);
  assert.equal(statSync(path.join(home, 'new')).mode & 0o777, 0o700);
  assert.equal(statSync(path.join(home, 'new', 'deeper')).mode & 0o777, 0o700);
  // outside the home (a file the user chose): folders made, the file still never a link
  const chosen = path.join(outside, 'x', 'chosen.json');
  writePrivateFile(chosen, 'c', home);
  assert.equal(statSync(chosen).mode & 0o777, 0o600);
  symlinkSync(ok, path.join(outside, 'x', 'link.json'));
  assert.throws(() => writePrivateFile(path.join(outside, 'x', 'link.json'), 'c', home), /symbolic link/);
  assert.equal(readFileSync(ok, 'utf8'), 'two');
});

test('B1: investigations are neither saved nor loaded through a symlink (file or folder)', (t) => {
  const home = tempDir(t);
  const outside = tempDir(t);
  const id = 'key:AKIAIOSFODNN7EXAMPLE';
  const file = investigationFile(id, home);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(path.join(outside, 'inv.json'), '');
  symlinkSync(path.join(outside, 'inv.json'), file);
  assert.throws(() => saveInvestigation(id, INV, home), /symbolic link/);
  assert.equal(readFileSync(path.join(outside, 'inv.json'), 'utf8'), '');
  // a planted link to a valid investigation is not read
  writeFileSync(path.join(outside, 'inv.json'), JSON.stringify({ incident: id, investigation: INV }));
  assert.equal(loadInvestigation(id, home), undefined);
  // a symlinked investigations/ folder
  const home2 = tempDir(t);
  symlinkSync(outside, path.join(home2, 'investigations'));
  assert.throws(() => saveInvestigation(id, INV, home2), /symbolic link/);
  assert.equal(existsSync(path.join(outside, path.basename(file))), false);
  writeFileSync(path.join(outside, path.basename(file)), JSON.stringify({ incident: id, investigation: INV }));
  assert.equal(loadInvestigation(id, home2), undefined);
  // a real one round-trips, 0600 in 0700
  const home3 = tempDir(t);
  saveInvestigation(id, INV, home3);
  assert.ok(loadInvestigation(id, home3));
  const f3 = investigationFile(id, home3);
  assert.equal(lstatSync(f3).mode & 0o777, 0o600);
  assert.equal(lstatSync(path.dirname(f3)).mode & 0o777, 0o700);
});

// ------------------------------------------------------------------ B2/B3: invisible splits
import fc from 'fast-check';
import { redact } from '../../src/core/mask';
import { redactDeep } from '../../src/core/incidents/book';
import { mdText, oneLine } from '../../src/core/incidents/escape';
import { escapeControl } from '../../src/core/escape';
import { noticeIncident, parseNotice } from '../../src/core/incidents/notice';
import { formatNotice } from '../../src/core/incidents/report';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const HIDERS = ['\u00ad', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u200e', '\u202e', '\u2066', '\u{e0041}', '\u061c', '\n', '\r\n', '\n ', '\u2028'];
const CF = /\p{Cf}/gu;
const visible = (s: string): string => s.replace(CF, '').replace(/\r\n|[\n\r\u0085\u2028\u2029][ \t]*/g, '');

test('B2: a 40-char secret split by format characters or line breaks never survives redact (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...B64.split('')), { minLength: 40, maxLength: 44 }).map((a) => a.join('')),
      fc.array(fc.tuple(fc.nat(), fc.constantFrom(...HIDERS)), { minLength: 1, maxLength: 6 }),
      fc.constantFrom('', 'secret=', 'Subject: key ', 'backup aws_secret_access_key=', '"'),
      fc.constantFrom('', ' ', '\n', '"', ' end'),
      (secret, cuts, before, after) => {
        let s = secret;
        // insert from the last position back, so each lands between two characters of the secret
        const at = cuts.map(([pos, h]) => [1 + (pos % (secret.length - 1)), h] as const).sort((a, b) => b[0] - a[0]);
        for (const [p, h] of at) s = s.slice(0, p) + h + s.slice(p);
        const input = before + s + after;
        for (const out of [redact(input), redactDeep({ a: [input] }).a[0] as string, oneLine(redact(input)), mdText(redact(input))]) {
          assert.ok(!visible(out).includes(secret), `${JSON.stringify(input)} -> ${JSON.stringify(out)}`);
          assert.ok(!visible(out).includes(secret.slice(4, 40)), `${JSON.stringify(out)} keeps the secret's body`);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test('B2: redact keeps access key ids readable next to a split secret, and leaves ordinary text alone', () => {
  const secret = 'Zq9Xm2Tk4LQ7wJalrXUtnFEMIxK7MDENGbPxRfiC';
  assert.equal(redact(`AKIAIOSFODNN7EXAMPLE\n${secret}`), 'AKIAIOSFODNN7EXAMPLE\nZq9X****************');
  assert.equal(redact(`${secret.slice(0, 20)}\u00ad${secret.slice(20)}\nAKIAIOSFODNN7EXAMPLE`), 'Zq9X****************\nAKIAIOSFODNN7EXAMPLE');
  const plain = 'Hello\nworld\u200b and a line\nthat wraps';
  assert.equal(redact(plain), plain);
});

test('B2: redact stays linear on 10x hostile inputs (long runs of invisible characters and breaks)', () => {
  // not a timing assertion: a quadratic pass on 400k characters would not finish in the test's time
  for (const unit of ['A\u00ad', 'A\n', '\u200b', 'AAAA%', 'A\r\n ']) {
    const out = redact(unit.repeat(80_000));
    assert.equal(typeof out, 'string');
  }
});

test('B3: a secret split by U+00AD in a notice Subject reaches neither the parsed notice, the incident nor its display', () => {
  const secret = 'Zq9Xm2Tk4LQ7wJalrXUtnFEMIxK7MDENGbPxRfiC';
  for (const h of ['\u00ad', '\u200b', '\u2060', '\ufeff', '\u200d']) {
    const n = parseNotice(`From: abuse@amazonaws.com\nSubject: Exposed key AKIAIOSFODNN7ZZZZZZZ secret ${secret.slice(0, 20)}${h}${secret.slice(20)}\nDate: Sat, 21 Nov 2026 10:00:00 +0000\n\nYour access key AKIAIOSFODNN7ZZZZZZZ was found publicly available online.\n`);
    const all = JSON.stringify([n, noticeIncident(n), formatNotice(n)]);
    assert.ok(!visible(JSON.parse(JSON.stringify(all))).includes(secret), all);
    assert.ok(!all.replace(/\\u00ad|\\u200b|\\u2060|\\ufeff|\\u200d/gi, '').replace(CF, '').includes(secret));
  }
});

test('B3: display helpers make every format character visible (oneLine, mdText, escapeControl)', () => {
  for (const h of ['\u00ad', '\u200b', '\u2060', '\ufeff', '\u{e0041}', '\u0600', '\u180e']) {
    assert.ok(!CF.test(oneLine(`a${h}b`)), 'oneLine');
    CF.lastIndex = 0;
    assert.ok(!CF.test(mdText(`a${h}b`)), 'mdText');
    CF.lastIndex = 0;
    assert.ok(!CF.test(escapeControl(`a${h}b`)), 'escapeControl');
    CF.lastIndex = 0;
  }
});

// ------------------------------------------------------- B4/B5: never act on the signer (moto)
import { IAMClient, AttachUserPolicyCommand } from '@aws-sdk/client-iam';
import { actionTargets, planAction } from '../../src/core/incidents/actions';
import { AwsContainment } from '../../src/aws/account';
import { AwsRemoval } from '../../src/aws/removal';
import { resolveTarget } from '../../src/aws/clients';
import { findPersistence } from '../../src/core/investigate/persistence';
import { createdBy, type TrailEvent } from '../../src/core/investigate/trail';
import { startMoto, type Moto } from '../aws/moto.mjs';
import { seedAccount, type SeededAccount } from '../aws/seedAccount.mjs';

async function withSignedMoto(t: { after: (fn: () => void) => void }): Promise<{ moto: Moto; seed: SeededAccount }> {
  const moto = await startMoto();
  t.after(() => moto.stop());
  const seed = await seedAccount(moto);
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, region: process.env.AWS_REGION, profile: process.env.AWS_PROFILE };
  process.env.AWS_ACCESS_KEY_ID = seed.admin.id;
  process.env.AWS_SECRET_ACCESS_KEY = seed.admin.secret;
  process.env.AWS_REGION = 'us-east-1';
  delete process.env.AWS_PROFILE;
  t.after(() => {
    for (const [k, v] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret], ['AWS_REGION', saved.region], ['AWS_PROFILE', saved.profile]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  return { moto, seed };
}

test('B4: revoke-sessions is refused when the user named by a notice is the signing user (moto, real SDK)', async (t) => {
  const { moto, seed } = await withSignedMoto(t);
  const notice = parseNotice(`From: abuse@amazonaws.com\nSubject: Your AWS account may be compromised\nDate: Sat, 21 Nov 2026 10:00:00 +0000\n\nWe detected irregular activity. Your account may have been compromised.\nAccess key ${seed.oldKeyId} was found publicly available online.\nIAM user: admin\n`);
  const incident = { ...noticeIncident(notice), status: 'open', createdAt: '', updatedAt: '', timeline: [], steps: {}, evidence: [] } as never;
  const ops = new AwsContainment(resolveTarget({ endpoint: moto.endpoint, region: 'us-east-1' }));
  assert.match((await ops.caller()).arn, /:user\/admin$/);
  const targets = actionTargets(incident, 'revoke-sessions');
  const mine = targets.find((x) => x.resource.id === 'admin');
  assert.ok(mine, 'the notice names the signing user');
  await assert.rejects(planAction(mine, incident, ops), /signing as IAM user admin/);
  // another user is still planned
  const other = targets.find((x) => x.resource.id !== 'admin');
  if (other) assert.equal((await planAction(other, incident, ops)).calls[0]?.api, 'iam:PutUserPolicy');
});

test('B5: an idempotent re-attach of the owner\'s AdministratorAccess is "changed by the attacker", with no removal, and detaching the signer\'s own policy is refused (moto, real SDK)', async (t) => {
  const { moto, seed } = await withSignedMoto(t);
  const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';
  await new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'seed', secretAccessKey: 'seed' } }).send(new AttachUserPolicyCommand({ UserName: 'admin', PolicyArn: ADMIN }));
  const since = '2026-11-01T00:00:00Z';
  const at = (name: string, time: string, req: Record<string, unknown>, res: Record<string, unknown> = {}): TrailEvent => ({
    id: `${name}-${time}`, time, name, source: 'iam.amazonaws.com', region: 'us-east-1', ip: '203.0.113.9', userAgent: 'aws-cli/2', errorCode: null, accessKeyId: seed.oldKeyId, arn: 'arn:aws:iam::123456789012:user/ci-deploy',
    created: createdBy(name, 'us-east-1', time, req, res),
  });
  const events = [
    at('AttachUserPolicy', '2026-11-20T03:00:00Z', { userName: 'admin', policyArn: ADMIN }),
    at('UpdateLoginProfile', '2026-11-20T03:01:00Z', { userName: 'admin' }),
    // what the attacker did create stays the attacker's, with its removal
    at('CreateUser', '2026-11-20T03:02:00Z', { userName: 'backdoor' }, { user: { userName: 'backdoor' } }),
    at('AttachUserPolicy', '2026-11-20T03:03:00Z', { userName: 'backdoor', policyArn: ADMIN }),
  ];
  const items = findPersistence(events, since, () => false);
  const own = items.filter((i) => i.user === 'admin' || i.id === 'admin');
  assert.equal(own.length, 2);
  for (const i of own) {
    assert.equal(i.ownership, 'attacker-changed', i.id);
    assert.equal(i.removal, undefined, i.id);
    assert.match(i.note ?? '', /existed before/);
  }
  const backdoor = items.filter((i) => i.user === 'backdoor' || i.id === 'backdoor');
  assert.deepEqual(backdoor.map((i) => [i.ownership, i.removal?.kind]), [['attacker', 'delete-user'], ['attacker', 'detach-policy']]);
  // a removal of the signer's own policy, however it is reached, is refused
  const ops = new AwsRemoval(resolveTarget({ endpoint: moto.endpoint, region: 'us-east-1' }));
  const incident = { id: 'key:' + seed.oldKeyId, type: 'exposed-key', resources: [], facts: [], timeline: [], steps: {} } as never;
  await assert.rejects(planAction({ kind: 'detach-policy', resource: { kind: 'policy', id: `admin:${ADMIN}` }, label: 'Detach' } as never, incident, ops), /signing as IAM user admin/);
});

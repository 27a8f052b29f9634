// Issue #16: the leak families other scanners find and Keysentry missed, and the look-alikes it
// must stay quiet on. Every fixture is generated here (random keys, fresh per run); positives are
// checked by kind and line, negatives by silence, and no output holds a raw secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { scanText } from '../../src/core/detect/engine';
import { scanBytes } from '../../src/core/detect/scanFiles';
import type { Finding } from '../../src/core/types';
// @ts-expect-error plain ESM helper
import { fakeKeyId, fakeSecret, fakeSessionToken, fakePrivateKey } from '../fixtures/fake-keys.mjs';

type Want = Array<[kind: string, line: number]>;

/** Scans in both modes (anchored windows and every rule on the whole text): they must agree. */
async function scan(text: string, file = 'x.txt'): Promise<Finding[]> {
  const fast = await scanText(text, file);
  assert.deepEqual(fast, await scanText(text, file, { exhaustive: true }), 'anchored scan = exhaustive scan');
  return fast;
}

async function expect(text: string, want: Want, secrets: string[], file = 'x.txt', label = ''): Promise<Finding[]> {
  const found = await scan(text, file);
  assert.deepEqual(
    found.map((f) => [f.kind, f.line] as [string, number]).sort(),
    [...want].sort(),
    `${label}: ${JSON.stringify(found.map((f) => [f.kind, f.line, f.rule]))}`,
  );
  const out = JSON.stringify(found);
  for (const s of secrets) {
    const needles = s.includes('PRIVATE KEY') ? s.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----')) : [s];
    for (const n of needles) assert.ok(!out.includes(n), `${label}: raw secret in a finding`);
  }
  return found;
}

const lineOf = (text: string, needle: string): number => text.slice(0, text.indexOf(needle)).split('\n').length;
const pem = (label: string, der: Buffer, width = 64): string => `-----BEGIN ${label}-----\n${der.toString('base64').match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n')}\n-----END ${label}-----\n`;

/** An ML-DSA-44 private key in PKCS#8, seed form (OID 2.16.840.1.101.3.4.3.17): Node 20 cannot generate one. */
function mlDsaPkcs8(): Buffer {
  const oid = Buffer.from('0609608648016503040311', 'hex');
  const seed = Buffer.concat([Buffer.from([0x80, 0x20]), randomBytes(32)]);
  const alg = Buffer.concat([Buffer.from([0x30, oid.length]), oid]);
  const inner = Buffer.concat([Buffer.from([0x02, 0x01, 0x00]), alg, Buffer.from([0x04, seed.length]), seed]);
  return Buffer.concat([Buffer.from([0x30, inner.length]), inner]);
}

/** An OpenPGP secret-key packet (old format, tag 5, two-octet length) in armor. */
function pgpBlock(): string {
  const body = Buffer.concat([Buffer.from([0x95, 0x01, 0xd8, 0x04]), randomBytes(470)]);
  const b64 = body.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n${b64}\n=${randomBytes(3).toString('base64')}\n-----END PGP PRIVATE KEY BLOCK-----\n`;
}

const ed25519 = (): string => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const x25519 = (): string => generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const p256 = (): string => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

test('private keys that are short: Ed25519, X25519, EC P-256, ML-DSA seeds, PGP blocks', async () => {
  const keys: Record<string, string> = {
    ed25519: ed25519(),
    x25519: x25519(),
    'p256 pkcs8': p256(),
    'p256 sec1': fakePrivateKey('ec') as string,
    'ml-dsa-44 seed': pem('PRIVATE KEY', mlDsaPkcs8()),
    pgp: pgpBlock(),
  };
  for (const [name, key] of Object.entries(keys)) {
    const text = `# deploy key\n\n${key}`;
    await expect(text, [['private-key', 3]], [key], 'key.txt', name);
  }
  assert.ok(keys.ed25519!.split('\n')[1]!.length <= 64, 'the Ed25519 body is one short line');
});

test('private keys that are wrapped: concatenation, log prefixes, comments, JSON without \\n escapes', async () => {
  const key = fakePrivateKey('pkcs8') as string;
  const short = ed25519();
  const body = (k: string): string[] => k.trim().split('\n');
  const cases: Record<string, string> = {
    'Java concatenation': `String KEY =\n${body(key).map((l) => `    "${l}\\n"`).join(' +\n')};\n`,
    'JS concatenation, Ed25519': `const k = ${body(short).map((l) => `'${l}\\n'`).join(' +\n  ')};\n`,
    'CI log with timestamps': body(key).map((l, i) => `2026-11-22T07:0${i % 10}:00.123Z [deploy step 3/7] ${l}`).join('\n') + '\n',
    'C comment': `/*\n${body(key).map((l) => ` * ${l}`).join('\n')}\n */\nint main(void) { return 0; }\n`,
    'line comments, Ed25519': body(short).map((l) => `// ${l}`).join('\n') + '\n',
    'JSON without \\n escapes': JSON.stringify({ private_key: body(key).join('') }) + '\n',
    'JSON with spaces for newlines': JSON.stringify({ private_key: body(key).join(' ') }) + '\n',
  };
  for (const [name, text] of Object.entries(cases)) {
    const k = name.includes('Ed25519') ? short : key;
    const t = `\n${text}`;
    await expect(t, [['private-key', lineOf(t, '-----BEGIN')]], [k], 'Key.java', name);
  }
  // The same key wrapped three ways has one fingerprint (a baseline entry covers them all).
  const fps = await Promise.all([cases['Java concatenation']!, cases['CI log with timestamps']!, cases['C comment']!].map(async (t) => (await scan(t))[0]?.fingerprint));
  assert.equal(new Set(fps).size, 1);
});

test('session tokens named as such need no STS marker; unnamed ones still do', async () => {
  const token = randomBytes(280).toString('base64'); // no IQoJb3JpZ2luX2Vj, no YXdz (checked below)
  if (/YXdz|IQoJb3JpZ2luX2Vj/.test(token)) return;
  for (const line of [`aws_session_token = ${token}`, `AWS_SESSION_TOKEN="${token}"`, `  "SessionToken": "${token}",`, `security_token: ${token}`]) {
    await expect(`[profile ci]\n${line}\n`, [['aws-session-token', 2]], [token], 'credentials', line.slice(0, 20));
  }
  await expect(`blob = ${token}\n`, [], [token], 'x.txt', 'unnamed, no marker');
  await expect(`blob = ${fakeSessionToken()}\n`, [], [], 'x.txt', 'unnamed, marker, no id');
});

test('secrets named by a key/value pair on other lines: Postman environments, Kubernetes env lists', async () => {
  const id = fakeKeyId() as string;
  const secret = fakeSecret() as string;
  const token = randomBytes(300).toString('base64');
  const postman = JSON.stringify(
    {
      id: '5f0e6f7c-0000-4000-8000-000000000000',
      name: 'prod',
      values: [
        { key: 'region', value: 'eu-west-1', type: 'default', enabled: true },
        { key: 'aws_secret_access_key', value: secret, type: 'secret', enabled: true },
        { key: 'sessionToken', value: token, type: 'secret', enabled: true },
      ],
    },
    null,
    '\t',
  );
  await expect(postman, [['aws-secret-access-key', lineOf(postman, secret)], ['aws-session-token', lineOf(postman, token)]], [secret, token], 'prod.postman_environment.json', 'postman');
  const k8s = `env:\n  - name: AWS_REGION\n    value: eu-west-1\n  - name: AWS_SECRET_ACCESS_KEY\n    value: "${secret}"\n`;
  await expect(k8s, [['aws-secret-access-key', 5]], [secret], 'deploy.yaml', 'k8s env');
  // A key/value pair whose name is not a secret's is not one.
  await expect(`- name: BUILD_HASH\n  value: "${secret}"\n`, [], [secret], 'deploy.yaml', 'other name');
  await expect(`{"key": "client_secret_name", "value": "${secret}"}`, [], [secret], 'x.json', 'secret without AWS context');
  // With the id beside it, paired as always.
  await expect(`- name: AWS_ACCESS_KEY_ID\n  value: ${id}\n- name: X\n  value: ${secret}\n`, [['aws-access-key-id', 2], ['aws-secret-access-key', 4]], [secret], 'deploy.yaml', 'paired');
});

test('no false alarms: the look-alikes other scanners report', async () => {
  const hex40 = randomBytes(20).toString('hex');
  const path40 = '/Vnp' + randomBytes(27).toString('base64').slice(0, 36);
  const negatives: Record<string, string> = {
    'secret name without AWS context': `secret_looks_like_linux_path = "${path40}"\n`,
    'sops ENC values': `aws_secret_access_key: ENC[AES256_GCM,data:${randomBytes(30).toString('base64')},iv:${randomBytes(32).toString('base64')},tag:${randomBytes(16).toString('base64')},type:str]\nsops:\n    kms:\n    -   arn: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\n`,
    'ansible-vault': `aws_secret_access_key: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n${Array.from({ length: 5 }, () => '  ' + randomBytes(40).toString('hex')).join('\n')}\n`,
    'KMS ciphertext blob': `{"CiphertextBlob": "AQICAHh${randomBytes(180).toString('base64')}", "KeyId": "arn:aws:kms:us-east-1:123456789012:key/abc"}\n`,
    'IAM unique ids': `{"UserId": "AIDA${'JQABLZS4A3QDU576Q'}", "RoleId": "AROA${'3XFRBF535PLBIFPI4'}"}\n`,
    'CI secret references': 'env:\n  AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}\n  AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n  AWS_SESSION_TOKEN: ${{ secrets.AWS_SESSION_TOKEN }}\n',
    "moto's testing keys": 'os.environ["AWS_ACCESS_KEY_ID"] = "testing"\nos.environ["AWS_SECRET_ACCESS_KEY"] = "testing"\nos.environ["AWS_SECURITY_TOKEN"] = "testing"\nos.environ["AWS_SESSION_TOKEN"] = "testing"\n',
    'hex named *_secret': `webhook_secret = "${hex40}"\nclient_secret: ${hex40.toUpperCase()}\n`,
    'PEM header constants in a detector': `const BEGIN = '-----BEGIN RSA PRIVATE KEY-----';\nconst END = '-----END RSA PRIVATE KEY-----';\nconst re = /-----BEGIN[ A-Z]*PRIVATE KEY-----[\\s\\S]*?-----END[ A-Z]*PRIVATE KEY-----/;\nconst AKIA_RE = /(A3T[A-Z0-9]|AKIA|ASIA)[A-Z2-7]{16}/;\n`,
    'PEM placeholder': '-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n',
  };
  for (const [name, text] of Object.entries(negatives)) await expect(text, [], [], 'x.yml', name);
  // Certificates only in a .pem file.
  const cert = `-----BEGIN CERTIFICATE-----\n${randomBytes(600).toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  await expect(cert + cert, [], [], 'chain.pem', 'certificates');
  // Keysentry's own detector source.
  for (const f of ['patterns.ts', 'ownRules.ts', 'validity.ts', 'excerpt.ts', 'secretlintRules.ts', 'decode.ts']) {
    const p = path.join(__dirname, '..', '..', 'src', 'core', 'detect', f);
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch {
      continue;
    }
    await expect(text, [], [], `src/core/detect/${f}`, f);
  }
});

test('property: random keys in random wrappers are found once, at their line, and never shown raw', async () => {
  const wrap = fc.constantFrom('plain', 'json', 'comment', 'log', 'concat');
  await fc.assert(
    fc.asyncProperty(wrap, fc.nat({ max: 6 }), fc.constantFrom('ed25519', 'p256', 'pkcs8'), async (how, pad, kind) => {
      const key = kind === 'ed25519' ? ed25519() : kind === 'p256' ? p256() : (fakePrivateKey('pkcs8') as string);
      const lines = key.trim().split('\n');
      const wrapped =
        how === 'json' ? JSON.stringify({ k: key }) : how === 'comment' ? lines.map((l) => ` * ${l}`).join('\n') : how === 'log' ? lines.map((l) => `[12:00:0${pad}] ${l}`).join('\n') : how === 'concat' ? lines.map((l) => `"${l}\\n"`).join(' +\n') : key;
      const text = '\n'.repeat(pad) + wrapped + '\n';
      await expect(text, [['private-key', pad + 1]], [key], 'x.txt', how);
    }),
    { numRuns: 40 },
  );
});


const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('base64-encoded credentials: Kubernetes Secret data, Helm values, CI base64 PEM, a base64 credentials file', async () => {
  const id = fakeKeyId() as string;
  const secret = fakeSecret() as string;
  const key = fakePrivateKey('pkcs8') as string;
  const k8s = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: aws-creds\ntype: Opaque\ndata:\n  AWS_ACCESS_KEY_ID: ${b64(id)}\n  AWS_SECRET_ACCESS_KEY: ${b64(secret)}\n  region: ${b64('eu-west-1')}\n`;
  const found = await expect(k8s, [['aws-access-key-id', 7], ['aws-secret-access-key', 8]], [secret], 'secret.yaml', 'k8s Secret');
  assert.ok(found.every((f) => f.decoded === 'base64'), 'says it was decoded');
  assert.equal(found.find((f) => f.kind === 'aws-secret-access-key')?.column, k8s.split('\n')[7]!.indexOf(b64(secret)) + 1, 'at the encoded value');
  assert.equal(found.find((f) => f.kind === 'aws-secret-access-key')?.fingerprint, (await scan(`aws_secret_access_key = ${secret}`))[0]?.fingerprint, 'same fingerprint as written plain');
  const helm = `aws:\n  region: eu-west-1\n  accessKeyId: "${b64(id)}"\n  secretAccessKey: "${b64(secret)}"\n`;
  await expect(helm, [['aws-access-key-id', 3], ['aws-secret-access-key', 4]], [secret], 'values.yaml', 'Helm values');
  const ci = `variables:\n  DEPLOY_KEY_B64: ${b64(key)}\n`;
  await expect(ci, [['private-key', 2]], [key], '.gitlab-ci.yml', 'CI base64 PEM');
  const file = `[default]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\nregion = us-east-1\n`;
  const blob = `{"name": "ci-credentials", "content": "${b64(file)}"}\n`;
  const both = await expect(blob, [['aws-access-key-id', 1], ['aws-secret-access-key', 1]], [secret], 'x.json', 'base64 credentials file');
  assert.equal(both.find((f) => f.kind === 'aws-secret-access-key')?.pairedKeyId, id);
  // URL-safe base64, and base64 of base64 (two levels).
  await expect(`creds: ${Buffer.from(file).toString('base64url')}\n`, [['aws-access-key-id', 1], ['aws-secret-access-key', 1]], [secret], 'x.yml', 'base64url');
  // Two levels: base64 of a text holding a percent-encoded secret.
  let slashed: string;
  do slashed = fakeSecret() as string;
  while (!/[+/]/.test(slashed.slice(0, 39)));
  await expect(`backup: ${b64(`target = s3://${id}:${encodeURIComponent(slashed)}@bucket/db`)}\n`, [['aws-access-key-id', 1], ['aws-secret-access-key', 1]], [slashed], 'x.yml', 'base64 of a percent-encoded URL');
});

test('base64 look-alikes stay quiet: binary and ciphertext, documentation keys, plain text', async () => {
  // Random bytes behind an encoded anchor: decoded, not text, not scanned.
  const withAnchor = Buffer.concat([randomBytes(30), Buffer.from('AKIA'), randomBytes(60)]).toString('base64');
  const cases: Record<string, string> = {
    'binary behind an encoded AKIA': `blob: ${withAnchor}\n`,
    'KMS ciphertext named as a secret': `AWS_SECRET_ACCESS_KEY: ${randomBytes(120).toString('base64')}\n`,
    'documentation key, encoded': `data:\n  AWS_ACCESS_KEY_ID: ${b64('AKIAIOSFODNN7EXAMPLE')}\n  AWS_SECRET_ACCESS_KEY: ${b64('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')}\n`,
    'encoded prose': `readme: ${b64('This is a secret recipe for AKIA-free living, not a key at all.')}\n`,
    'encoded certificate': `ca.crt: ${b64(`-----BEGIN CERTIFICATE-----\n${randomBytes(300).toString('base64')}\n-----END CERTIFICATE-----\n`)}\n`,
  };
  for (const [name, text] of Object.entries(cases)) await expect(text, [], [], 'x.yml', name);
});

test('percent-encoded credentials: presigned S3 URLs, credentials in URLs, query strings', async () => {
  const asia = fakeKeyId('ASIA') as string;
  const token = fakeSessionToken() as string;
  const url = `https://bucket.s3.eu-west-1.amazonaws.com/report.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${asia}%2F20261122%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20261122T070000Z&X-Amz-Expires=3600&X-Amz-Security-Token=${encodeURIComponent(token)}&X-Amz-SignedHeaders=host&X-Amz-Signature=${randomBytes(32).toString('hex')}`;
  const md = `# Shared report\n\nDownload: ${url}\n`;
  const found = await expect(md, [['aws-access-key-id', 3], ['aws-session-token', 3]], [token], 'README.md', 'presigned URL');
  assert.equal(found.find((f) => f.kind === 'aws-session-token')?.decoded, 'percent');
  let secret: string;
  do secret = fakeSecret() as string;
  while (!/[+/]/.test(secret.slice(0, 39)));
  const id = fakeKeyId() as string;
  await expect(`source = "s3://${id}:${encodeURIComponent(secret)}@backups/db"\n`, [['aws-access-key-id', 1], ['aws-secret-access-key', 1]], [secret], 'main.tf', 's3 URL');
  await expect(`curl "https://api.example.com/upload?aws_access_key_id=${id}&aws_secret_access_key=${encodeURIComponent(secret)}&bucket=x"\n`, [['aws-access-key-id', 1], ['aws-secret-access-key', 1]], [secret], 'run.sh', 'query string');
  // Percent-encoded text without a secret in it.
  await expect(`see https://example.com/a%2Fb%2Fc%3Dd?next=%2Fhome%2Fuser%2Fdocs%2Freport.pdf\n`, [], [], 'x.md', 'plain URL');
});

test('binary key stores by name and magic bytes: .jks/.keystore/.jceks with a key, .snk key pairs; truststores and public keys are not', async () => {
  const u32 = (n: number): Buffer => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  const utf = (s: string): Buffer => Buffer.concat([Buffer.from([0, s.length]), Buffer.from(s)]);
  const cert = (): Buffer => Buffer.concat([utf('X.509'), u32(300), randomBytes(300)]);
  const jks = (magic: number, tags: number[]): Buffer =>
    Buffer.concat([
      u32(magic),
      u32(2),
      u32(tags.length),
      ...tags.map((t, i) => (t === 2 ? Buffer.concat([u32(2), utf(`ca${i}`), randomBytes(8), cert()]) : Buffer.concat([u32(t), utf(`key${i}`), randomBytes(8), u32(600), randomBytes(600), u32(1), cert()]))),
      randomBytes(20),
    ]);
  const der = (inner: Buffer): Buffer => Buffer.concat([Buffer.from([0x30, 0x82, inner.length >> 8, inner.length & 255]), inner]);
  const shroudedKeyBag = Buffer.from('060b2a864886f70d010c0a0102', 'hex');
  const snk = (type: number, magic: string): Buffer => Buffer.concat([Buffer.from([type, 2, 0, 0, 0, 0x24, 0, 0]), Buffer.from(magic), randomBytes(580)]);
  const positives: Record<string, Buffer> = {
    'release.jks': jks(0xfeedfeed, [2, 1]),
    'app.keystore': jks(0xfeedfeed, [1]),
    'secrets.jceks': jks(0xcececece, [3]),
    'pkcs12.keystore': der(Buffer.concat([randomBytes(100), shroudedKeyBag, randomBytes(900)])),
    'signing.snk': snk(7, 'RSA2'),
  };
  const negatives: Record<string, Buffer> = {
    'truststore.jks': jks(0xfeedfeed, [2, 2, 2]),
    'cacerts.keystore': der(Buffer.from(randomBytes(1200).map((b) => (b === 0x06 ? 0x07 : b)))),
    'public.snk': snk(6, 'RSA1'),
    'notes.jks': Buffer.from('not a key store\n'),
  };
  for (const [name, bytes] of Object.entries(positives)) {
    const r = await scanBytes(bytes, `keys/${name}`, {});
    assert.ok(Array.isArray(r));
    assert.deepEqual(r.map((f) => [f.kind, f.line, f.rule]), [['private-key', 1, 'keysentry/key-pair-file']], name);
    assert.match(r[0]!.preview, /masked/);
  }
  for (const [name, bytes] of Object.entries(negatives)) assert.deepEqual(await scanBytes(bytes, `keys/${name}`, {}), [], name);
  // The same bytes under another name are not a key store.
  assert.deepEqual(await scanBytes(positives['release.jks']!, 'release.bin', {}), []);
});

test('property: encoded leaks in random layouts are found at their line, both scan modes agree, nothing raw is shown', async () => {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('');
  const secretArb = fc.string({ unit: fc.constantFrom(...B64), minLength: 40, maxLength: 40 }).filter((s) => /[a-z]/.test(s) && /[A-Z]/.test(s) && /[0-9+/]/.test(s) && (s.match(/\//g) ?? []).length < 4 && !/(.)\1{3}/.test(s) && new Set(s).size > 20);
  const filler = fc.oneof(fc.constantFrom('', 'x: 1', 'data:', '  tls.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t', 'url: https://a.example/b%2Fc', 'secret: none', 'QUtJQUFBQUFB'), fc.string({ maxLength: 30 }));
  const piece = fc.oneof(
    { weight: 2, arbitrary: fc.tuple(secretArb, fc.constantFrom('k8s', 'file', 'pct', 'query')).map(([s, how]) => ({ s, how })) },
    { weight: 3, arbitrary: filler.map((f) => ({ s: '', how: f })) },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 12 }), async (pieces) => {
      const lines: string[] = [];
      const want: Array<[string, number]> = [];
      const secrets: string[] = [];
      for (const p of pieces) {
        if (!p.s) {
          lines.push(p.how);
          continue;
        }
        secrets.push(p.s);
        const id = fakeKeyId() as string;
        if (p.how === 'k8s') lines.push(`  AWS_SECRET_ACCESS_KEY: ${b64(p.s)}`);
        else if (p.how === 'file') lines.push(`creds: ${b64(`[default]\naws_access_key_id = ${id}\naws_secret_access_key = ${p.s}\n`)}`);
        else if (p.how === 'pct') lines.push(`aws_secret_access_key=${encodeURIComponent(p.s)}`);
        else lines.push(`GET /?aws_access_key_id=${id}&aws_secret_access_key=${encodeURIComponent(p.s)}&x=1`);
        want.push(['aws-secret-access-key', lines.length]);
      }
      const text = lines.join('\n');
      const found = await scan(text, 'values.yaml');
      const got = found.filter((f) => f.kind === 'aws-secret-access-key').map((f) => f.line);
      for (const [, line] of want) assert.ok(got.includes(line), `secret on line ${line} found: ${JSON.stringify(found.map((f) => [f.kind, f.line, f.rule, f.decoded]))}\n${text}`);
      const out = JSON.stringify(found);
      for (const s of secrets) assert.ok(!out.includes(s) && !out.includes(b64(s)), 'no raw or encoded secret in the findings');
    }),
    { numRuns: 80 },
  );
});

test('key/value pairs far apart: both scan modes agree (the pair is bounded to the name’s window)', async () => {
  const token = randomBytes(300).toString('base64');
  const secret = fakeSecret() as string;
  for (const gap of [0, 10, 20, 30, 60, 120, 250]) {
    const pad = 'd'.repeat(gap);
    await scan(`{"key": "sessionToken", "note": "${pad}", "value": "${token}"}\n`, 'env.json');
    await scan(`{"key": "aws_secret_access_key", "note": "${pad}",\n "value": "${secret}"}\n`, 'env.json');
    await scan(`{"key": "aws_secret_access_key_for_the_production_account_${pad}", "value": "${secret}"}\n`, 'env.json');
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanText } from '../../src/core/detect/engine';
import { accountIdFromKeyId } from '../../src/core/detect/accountId';
import { maskSecret } from '../../src/core/mask';
// @ts-expect-error plain ESM helper
import { fakeKeyId, fakeSecret, fakeSessionToken, fakePrivateKey, fakeOpenSshKey, fakePuttyKey } from '../fixtures/fake-keys.mjs';

const kinds = async (text: string, file = 'x.txt'): Promise<string[]> => (await scanText(text, file)).map((f) => f.kind).sort();

test('access key ids: every prefix, base32 only, exact columns', async () => {
  for (const prefix of ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'A3TX']) {
    const id = fakeKeyId(prefix);
    const text = `line one\nkey = "${id}"\n`;
    const [f] = await scanText(text, 'a.py');
    assert.ok(f, prefix);
    assert.equal(f.kind, 'aws-access-key-id');
    assert.deepEqual([f.line, f.column, f.endLine, f.endColumn], [2, 8, 2, 28]);
    assert.equal(f.preview, id);
  }
  // 0, 1, 8, 9 never occur in real ids (base32): not reported.
  assert.deepEqual(await kinds(`id=AKIA${'ABCD0189EFGHJKLM'}\n`), []);
});

test('account id decodes offline and round-trips; old I/J ids give none', () => {
  const account = 123456789012n;
  // Encode: 48 bits = account << 7 (plus a flag bit), followed by 32 random bits, as base32.
  const bits = (((account << 7n) | 0x800000000000n) << 32n) | 0x12345678n;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let body = '';
  for (let i = 15; i >= 0; i--) body += alphabet[Number((bits >> BigInt(i * 5)) & 31n)];
  assert.equal(accountIdFromKeyId(`AKIA${body}`), '123456789012');
  assert.equal(accountIdFromKeyId('AKIAIZZZZZZZZZZZZZZZ'), undefined);
  assert.equal(accountIdFromKeyId('AKIA7777777777777777'), undefined, 'more than 12 digits: not an account id');
});

test('secret keys: named, paired with an id, ending in / or +', async () => {
  for (const end of ['/', '+', undefined]) {
    const secret = fakeSecret(end);
    assert.deepEqual(await kinds(`aws_secret_access_key = ${secret}\n`, 'credentials'), ['aws-secret-access-key'], `named, ends ${end}`);
    const [f] = await scanText(`"SecretAccessKey": "${secret}"`, 'x.json');
    assert.equal(f?.column, 21);
    assert.equal(f?.endColumn, 61);
  }
  const id = fakeKeyId();
  const paired = await scanText(`${id}\n\nvalue: ${fakeSecret()}\n`, 'notes.yml');
  assert.deepEqual(paired.map((f) => f.kind).sort(), ['aws-access-key-id', 'aws-secret-access-key']);
  assert.equal(paired.find((f) => f.kind === 'aws-secret-access-key')?.pairedKeyId, id);
  // credentials.csv as exported by the IAM console
  const csv = `User name,Password,Access key ID,Secret access key,Console login link\nci-bot,,${fakeKeyId()},${fakeSecret()},https://console.aws.amazon.com\n`;
  assert.deepEqual(await kinds(csv, 'credentials.csv'), ['aws-access-key-id', 'aws-secret-access-key']);
});

test('session tokens next to an ASIA id or a session-token name', async () => {
  const token = fakeSessionToken();
  assert.deepEqual(await kinds(`AWS_ACCESS_KEY_ID=${fakeKeyId('ASIA')}\nAWS_SESSION_TOKEN=${token}\n`), ['aws-access-key-id', 'aws-session-token']);
  assert.deepEqual(await kinds(`aws_session_token = ${token}\n`), ['aws-session-token']);
  assert.deepEqual(await kinds(`blob = ${token}\n`), [], 'no AWS context: not a token');
});

test('private keys: PKCS#1, PKCS#8, EC, encrypted, OpenSSH, PuTTY, JSON-escaped, CRLF, notebooks', async () => {
  for (const format of ['pkcs1', 'pkcs8', 'ec', 'encrypted']) assert.deepEqual(await kinds(fakePrivateKey(format), 'key.pem'), ['private-key'], format);
  assert.deepEqual(await kinds(fakeOpenSshKey(), 'id_ed25519'), ['private-key']);
  const ppk = await scanText(fakePuttyKey(), 'deploy.ppk');
  assert.deepEqual(ppk.map((f) => f.rule), ['keysentry/putty-private-key']);
  const pem = fakePrivateKey('pkcs1');
  assert.deepEqual(await kinds(JSON.stringify({ private_key: pem }), 'service.json'), ['private-key']);
  assert.deepEqual(await kinds(pem.replace(/\n/g, '\r\n'), 'crlf.pem'), ['private-key']);
  const notebook = JSON.stringify({ cells: [{ cell_type: 'code', source: pem.split('\n').map((l: string) => l + '\n') }] }, null, 1);
  assert.deepEqual(await kinds(notebook, 'analysis.ipynb'), ['private-key']);
  const [f] = await scanText(`x\n${pem}`, 'k.pem');
  assert.equal(f?.line, 2);
  assert.equal(f?.endLine, pem.trimEnd().split('\n').length + 1);
  assert.ok(!f?.preview.includes(pem.split('\n')[1]!.slice(0, 10)), 'private key previews show no key material');
});

test('minified one-line files and long lines', async () => {
  const id = fakeKeyId();
  const secret = fakeSecret();
  const line = 'var a=1;'.repeat(60_000) + `c={accessKeyId:"${id}",secretAccessKey:"${secret}"};` + 'b=2;'.repeat(60_000);
  const found = await scanText(line, 'bundle.min.js');
  assert.deepEqual(found.map((f) => f.kind).sort(), ['aws-access-key-id', 'aws-secret-access-key']);
  assert.equal(found.find((f) => f.kind === 'aws-secret-access-key')?.column, line.indexOf(secret) + 1);
});

test('hard negatives: documentation keys, placeholders, hashes, UUIDs, data URIs, public keys', async () => {
  const negatives = [
    'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'aws_access_key_id = AKIAXXXXXXXXXXXXXXXX\naws_secret_access_key = <your-secret-access-key>',
    'AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}\nsecretAccessKey: process.env.AWS_SECRET_ACCESS_KEY',
    'aws_secret_access_key = YOUR_SECRET_ACCESS_KEY_GOES_HERE_0000000',
    `commit ${'3f786850e387550fdab836ed7e6dc881de23001b'}\nsecret_sha = 3f786850e387550fdab836ed7e6dc881de23001b`,
    '"integrity": "sha512-2g/Ur7yjc6Db4U2wzxiGWkF85sZg59y7N3Ho1lUZ0WcS0qbpI8jbm8cTNpL09f+YR7zJS4nKaBBxrAk3JDxRBA=="',
    'background: url(data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==)',
    'id: 123e4567-e89b-12d3-a456-426614174000',
    `token = ${fakeSecret()}`,
    '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEx3Qh9vZf7fZ0RzA+placeholderpublickeydata\n-----END PUBLIC KEY-----',
    '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----',
    'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 user@host',
    '-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----',
    '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----',
    'secretAccessKey: ThisIsAVeryLongIdentifierNameForTestingX',
  ];
  for (const text of negatives) assert.deepEqual(await kinds(text), [], text.slice(0, 60));
});

test('inline suppressions users already know', async () => {
  const s = (): string => `aws_secret_access_key = ${fakeSecret()}`;
  const cases = [
    `${s()} # secretlint-disable-line`,
    `${s()} # gitleaks:allow`,
    `${s()} # pragma: allowlist secret`,
    `${s()} # keysentry:ignore`,
    `# secretlint-disable-next-line\n${s()}`,
    `# keysentry:ignore-next-line\n${s()}`,
    `# secretlint-disable\n${s()}\n${s()}\n# secretlint-enable`,
  ];
  for (const text of cases) assert.deepEqual(await kinds(text), [], text.split('\n')[0]);
  assert.deepEqual(await kinds(`# secretlint-disable\n${s()}\n# secretlint-enable\n${s()}`), ['aws-secret-access-key']);
});

test('masking keeps at most 4 characters of a secret', () => {
  const secret = fakeSecret();
  const masked = maskSecret('aws-secret-access-key', secret);
  assert.equal(masked.slice(0, 4), secret.slice(0, 4));
  assert.ok(!masked.includes(secret.slice(0, 5)));
  const token = fakeSessionToken();
  assert.ok(!maskSecret('aws-session-token', token).includes(token.slice(0, 5)));
});

test('fingerprints are SHA-256 of the secret, stable across line endings and escaping', async () => {
  const pem = fakePrivateKey('pkcs8');
  const [a] = await scanText(pem, 'a.pem');
  const [b] = await scanText(pem.replace(/\n/g, '\r\n'), 'b.pem');
  const [c] = await scanText(JSON.stringify({ k: pem }), 'c.json');
  assert.match(a!.fingerprint, /^[0-9a-f]{64}$/);
  assert.equal(a!.fingerprint, b!.fingerprint);
  assert.equal(a!.fingerprint, c!.fingerprint);
});

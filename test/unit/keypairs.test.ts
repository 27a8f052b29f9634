// EC2 key-pair fingerprints of private keys, checked against OpenSSL and ssh-keygen on keys they
// generate for this run: RSA in PEM (imported MD5 and EC2-created SHA-1), ED25519 and RSA in
// OpenSSH's format; encrypted keys refused without asking; any input never throws. Then
// keysentry check-key-pair against moto through the real SDK (imported keys: moto fingerprints
// them as AWS does).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { keyPairFingerprints, matchesKeyPair } from '../../src/core/investigate/keyPairs';
import { tempDir, runBuiltCli } from './helpers';
import { DescribeImagesCommand, EC2Client, ImportKeyPairCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { startMoto, type Moto } from '../aws/moto.mjs';

const sh = (cmd: string, cwd: string): string => execSync(cmd, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
const colon = (s: string): string => (/= *([0-9a-f:]+)$/i.exec(s)?.[1] ?? s).toLowerCase();

test('key pairs: RSA PEM fingerprints equal OpenSSL\'s (imported: MD5 of the public DER; created: SHA-1 of the PKCS#8 DER)', (t) => {
  const dir = tempDir(t);
  sh('openssl genrsa -traditional -out k.pem 2048', dir);
  const f = keyPairFingerprints(readFileSync(path.join(dir, 'k.pem'), 'utf8'));
  assert.ok(f.ok);
  assert.equal(f.algorithm, 'rsa');
  assert.equal(f.imported, colon(sh('openssl rsa -in k.pem -pubout -outform DER | openssl md5 -c', dir)));
  assert.equal(f.created, colon(sh('openssl pkcs8 -in k.pem -inform PEM -outform DER -topk8 -nocrypt | openssl sha1 -c', dir)));
  assert.ok(matchesKeyPair(f, (f.imported ?? '').toUpperCase()));
  assert.ok(matchesKeyPair(f, f.created ?? ''));
  assert.ok(!matchesKeyPair(f, '00:11:22'));
  assert.match(f.openssh ?? '', /^ssh-rsa AAAA/);
  // The same key's public line, as ssh-keygen derives it.
  assert.equal(f.openssh, sh('ssh-keygen -y -f k.pem', dir).split(' ').slice(0, 2).join(' '));
});

test('key pairs: OpenSSH-format ED25519 and RSA keys, as ssh-keygen fingerprints them', (t) => {
  const dir = tempDir(t);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'me', '-f', 'ed'], { cwd: dir });
  const ed = keyPairFingerprints(readFileSync(path.join(dir, 'ed'), 'utf8'));
  assert.ok(ed.ok);
  assert.equal(ed.algorithm, 'ed25519');
  const sshFp = /SHA256:(\S+)/.exec(sh('ssh-keygen -l -E sha256 -f ed', dir))?.[1];
  assert.equal(ed.ed25519?.replace(/=+$/, ''), sshFp);
  assert.ok(matchesKeyPair(ed, `${sshFp}=`), 'EC2 shows the base64 with its padding');
  assert.equal(ed.openssh, readFileSync(path.join(dir, 'ed.pub'), 'utf8').split(' ').slice(0, 2).join(' '));

  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', 'rsa'], { cwd: dir });
  const rsa = keyPairFingerprints(readFileSync(path.join(dir, 'rsa'), 'utf8'));
  assert.ok(rsa.ok);
  sh('ssh-keygen -e -m PKCS8 -f rsa.pub > rsa.spki.pem', dir);
  assert.equal(rsa.imported, colon(sh('openssl pkey -pubin -in rsa.spki.pem -outform DER | openssl md5 -c', dir)));
});

test('key pairs: encrypted keys are refused without asking for a passphrase; junk is unreadable; nothing throws', (t) => {
  const dir = tempDir(t);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct horse', '-f', 'enc'], { cwd: dir });
  const enc = keyPairFingerprints(readFileSync(path.join(dir, 'enc'), 'utf8'));
  assert.equal(enc.ok, false);
  assert.equal(!enc.ok && enc.reason, 'encrypted');
  sh('openssl genrsa -aes128 -passout pass:x -traditional -out encpem.pem 2048', dir);
  const encPem = keyPairFingerprints(readFileSync(path.join(dir, 'encpem.pem'), 'utf8'));
  assert.equal(!encPem.ok && encPem.reason, 'encrypted');
  const truncated = readFileSync(path.join(dir, 'enc'), 'utf8').slice(0, 200) + '\n-----END OPENSSH PRIVATE KEY-----\n';
  assert.equal(keyPairFingerprints(truncated).ok, false);
  fc.assert(
    fc.property(fc.string({ maxLength: 3000 }), fc.uint8Array({ maxLength: 600 }), (s, bytes) => {
      keyPairFingerprints(s);
      keyPairFingerprints(`-----BEGIN OPENSSH PRIVATE KEY-----\n${Buffer.concat([Buffer.from('openssh-key-v1\0'), Buffer.from(bytes)]).toString('base64')}\n-----END OPENSSH PRIVATE KEY-----`);
      keyPairFingerprints(`-----BEGIN RSA PRIVATE KEY-----\n${Buffer.from(bytes).toString('base64')}\n-----END RSA PRIVATE KEY-----`);
    }),
    { seed: 15, numRuns: 300 },
  );
});

// ---------------------------------------------------------------- against moto through the real SDK

let moto: Moto;
let keysDir: string;
before(async () => {
  moto = await startMoto();
  keysDir = mkdtempSync(path.join(tmpdir(), 'keysentry-keypairs-'));
});
after(() => {
  moto?.stop();
  rmSync(keysDir, { recursive: true, force: true });
});

function checkKeyPair(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return runBuiltCli(['check-key-pair', ...args], { AWS_ACCESS_KEY_ID: 'admin', AWS_SECRET_ACCESS_KEY: 'admin', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: moto.endpoint }, { cwd: keysDir });
}

test('check-key-pair: an imported RSA key found in two regions with the instance launched with it; an unknown key matches nothing', async () => {
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-m', 'PEM', '-f', 'deploy.pem'], { cwd: keysDir });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', 'other'], { cwd: keysDir });
  const pub = readFileSync(path.join(keysDir, 'deploy.pem.pub'));
  const creds = { accessKeyId: 'seed', secretAccessKey: 'seed' };
  for (const region of ['us-east-1', 'eu-west-1']) {
    await new EC2Client({ region, endpoint: moto.endpoint, credentials: creds }).send(new ImportKeyPairCommand({ KeyName: `deploy-${region}`, PublicKeyMaterial: pub }));
  }
  const eu = new EC2Client({ region: 'eu-west-1', endpoint: moto.endpoint, credentials: creds });
  const image = (await eu.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.find((i) => i.ImageId)?.ImageId ?? 'ami-12c6146b';
  const inst = (await eu.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, KeyName: 'deploy-eu-west-1' }))).Instances![0]!.InstanceId!;

  const r = await checkKeyPair(['deploy.pem', 'other', '--regions', 'us-east-1,eu-west-1,ap-south-1', '--format', 'json']);
  assert.equal(r.code, 1, r.err);
  const j = JSON.parse(r.out) as { keys: Array<{ file: string; matches: Array<{ region: string; keyName: string; instances: Array<{ id: string }> }> }> };
  assert.deepEqual(
    j.keys[0]!.matches.map((m) => [m.region, m.keyName, m.instances.map((i) => i.id)]),
    [
      ['eu-west-1', 'deploy-eu-west-1', [inst]],
      ['us-east-1', 'deploy-us-east-1', []],
    ],
  );
  assert.deepEqual(j.keys[1]!.matches, []);
  const text = await checkKeyPair(['deploy.pem', '--regions', 'eu-west-1']);
  assert.match(text.out, new RegExp(`key pair deploy-eu-west-1 in eu-west-1: 1 instance\\(s\\): ${inst} \\(running\\)`));
  assert.ok(!text.out.includes('PRIVATE KEY') && !text.err.includes('PRIVATE KEY'));
});

test('check-key-pair: symlinks, FIFOs, huge files and encrypted keys are refused or reported, never read or asked about', async () => {
  symlinkSync('/dev/zero', path.join(keysDir, 'zero.pem'));
  execSync('mkfifo fifo.pem', { cwd: keysDir });
  writeFileSync(path.join(keysDir, 'huge.pem'), 'x'.repeat(100_000));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'pw', '-f', 'locked'], { cwd: keysDir });
  for (const [f, re] of [['zero.pem', /not a regular file/], ['fifo.pem', /not a regular file/], ['huge.pem', /larger than any private key/]] as Array<[string, RegExp]>) {
    const r = await checkKeyPair([f, '--regions', 'us-east-1']);
    assert.equal(r.code, 2, f);
    assert.match(r.err, re);
  }
  const locked = await checkKeyPair(['locked', '--regions', 'us-east-1']);
  assert.equal(locked.code, 2);
  assert.match(locked.out, /locked: not checked: the key is encrypted.*never asks for/);
});

// EC2 key-pair fingerprints of private keys, checked against OpenSSL and ssh-keygen on keys they
// generate for this run: RSA in PEM (imported MD5 and EC2-created SHA-1), ED25519 and RSA in
// OpenSSH's format; encrypted keys refused without asking; any input never throws. Then
// keysentry check-key-pair against moto through the real SDK (imported keys: moto fingerprints
// them as AWS does).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { keyPairFingerprints, matchesKeyPair } from '../../src/core/investigate/keyPairs';
import { assertNoSecret, tempDir, runBuiltCli } from './helpers';
import { DescribeImagesCommand, DescribeKeyPairsCommand, EC2Client, ImportKeyPairCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
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

// ---------------------------------------------------------------- issue 15: incident, delete, replace

test('key pairs: RSA and ED25519 imported into two regions are each found from the private key, open an incident, are deleted and replaced (new key in ~/.ssh, 0600, never shown); ECDSA is refused by EC2 and reported', async (t) => {
  const home = tempDir(t, 'keysentry-home-');
  const work = tempDir(t, 'keysentry-work-');
  const env = { AWS_ACCESS_KEY_ID: 'admin', AWS_SECRET_ACCESS_KEY: 'admin', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: moto.endpoint, HOME: home, KEYSENTRY_HOME: path.join(home, '.keysentry') };
  const outputs: string[] = [];
  const cli = (args: string[]) => runBuiltCli(args, env, { cwd: work, outputs });
  const creds = { accessKeyId: 'seed', secretAccessKey: 'seed' };
  const regions = ['us-west-2', 'ap-south-1'];
  const kinds = [
    ['rsa.pem', ['-t', 'rsa', '-b', '2048', '-m', 'PEM']],
    ['ed.key', ['-t', 'ed25519']],
    ['ec.key', ['-t', 'ecdsa', '-b', '256']],
  ] as const;
  const privates: string[] = [];
  for (const [file, opts] of kinds) {
    execFileSync('ssh-keygen', ['-q', ...opts, '-N', '', '-f', file], { cwd: work });
    privates.push(readFileSync(path.join(work, file), 'utf8'));
  }
  const launched: Record<string, string> = {};
  for (const region of regions) {
    const ec2 = new EC2Client({ region, endpoint: moto.endpoint, credentials: creds });
    const image = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.find((i) => i.ImageId)?.ImageId ?? 'ami-12c6146b';
    for (const [file] of kinds) {
      const name = `${file.split('.')[0]}-${region}`;
      const imported = ec2.send(new ImportKeyPairCommand({ KeyName: name, PublicKeyMaterial: readFileSync(path.join(work, `${file}.pub`)) }));
      if (file === 'ec.key') {
        // EC2 imports RSA and ED25519 only (ImportKeyPair's reference); moto refuses ECDSA the same way
        await assert.rejects(imported);
        continue;
      }
      await imported;
      launched[name] = (await ec2.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, KeyName: name }))).Instances![0]!.InstanceId!;
    }
  }
  const r = await cli(['check-key-pair', 'rsa.pem', 'ed.key', 'ec.key', '--regions', [...regions, 'us-east-1'].join(','), '--format', 'json']);
  assert.equal(r.code, 1, r.err);
  const j = JSON.parse(r.out) as { keys: Array<{ file: string; algorithm: string; incident: string | null; note?: string; matches: Array<{ region: string; keyName: string; instances: Array<{ id: string }> }> }> };
  for (const [i, stem] of ['rsa', 'ed'].entries()) {
    const k = j.keys[i]!;
    assert.deepEqual(
      k.matches.map((m) => [m.region, m.keyName, m.instances.map((x) => x.id)]),
      regions.map((reg) => [reg, `${stem}-${reg}`, [launched[`${stem}-${reg}`]]]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      stem,
    );
    assert.ok(k.incident?.startsWith('key-pair:123456789012:'), stem);
  }
  assert.equal(j.keys[2]!.algorithm, 'ecdsa');
  assert.deepEqual(j.keys[2]!.matches, []);
  assert.match(j.keys[2]!.note ?? '', /RSA or ED25519 only/);

  // the incident: key pairs, regions, instances
  const book = JSON.parse(readFileSync(path.join(home, '.keysentry', 'incidents.json'), 'utf8')) as { incidents: Array<{ id: string; type: string; resources: Array<{ kind: string; id: string; region?: string }>; facts: string[][]; timeline: Array<{ text: string }> }> };
  const inc = book.incidents.find((x) => x.id === j.keys[1]!.incident)!;
  assert.equal(inc.type, 'key-pair');
  assert.deepEqual(inc.resources.filter((x) => x.kind === 'key-pair').map((x) => `${x.id}@${x.region}`).sort(), regions.map((reg) => `ed-${reg}@${reg}`).sort());
  assert.deepEqual(inc.resources.filter((x) => x.kind === 'instance').map((x) => x.id).sort(), regions.map((reg) => launched[`ed-${reg}`]).sort());
  assert.deepEqual(inc.facts.find(([k]) => k === 'Regions')?.[1]?.split(', ').sort(), [...regions].sort());

  // delete one key pair through the incident: the plan warns about authorized_keys; recorded in the timeline
  const planOnly = await cli(['contain', 'delete-key-pair', 'ed-us-west-2', '--region', 'us-west-2', '--incident', inc.id, '--plan']);
  assert.equal(planOnly.code, 0, planOnly.err);
  assert.match(planOnly.out, /authorized_keys/);
  const noTty = await cli(['contain', 'delete-key-pair', 'ed-us-west-2', '--region', 'us-west-2', '--incident', inc.id]);
  assert.equal(noTty.code, 1, 'never runs without a terminal and without --yes');
  const del = await cli(['contain', 'delete-key-pair', 'ed-us-west-2', '--region', 'us-west-2', '--incident', inc.id, '--yes']);
  assert.equal(del.code, 0, del.err);
  await assert.rejects(new EC2Client({ region: 'us-west-2', endpoint: moto.endpoint, credentials: creds }).send(new DescribeKeyPairsCommand({ KeyNames: ['ed-us-west-2'] })));
  const again = await cli(['contain', 'delete-key-pair', 'ed-us-west-2', '--region', 'us-west-2', '--incident', inc.id, '--yes']);
  assert.equal(again.code, 1, 'nothing to do');

  // replace: a new ED25519 key pair; its private key in ~/.ssh (0600), nowhere else
  const rep = await cli(['contain', 'replace-key-pair', 'ed-us-west-2', '--region', 'us-west-2', '--incident', inc.id, '--yes', '--format', 'json']);
  assert.equal(rep.code, 0, rep.err);
  const sshDir = path.join(home, '.ssh');
  const files = readdirSync(sshDir);
  assert.equal(files.length, 1);
  const keyFile = path.join(sshDir, files[0]!);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  assert.equal(statSync(sshDir).mode & 0o777, 0o700);
  const material = readFileSync(keyFile, 'utf8');
  assert.match(material, /PRIVATE KEY/);
  const made = keyPairFingerprints(material);
  assert.ok(made.ok && made.algorithm === 'ed25519', 'the same type as the key it replaces');
  const pairs = (await new EC2Client({ region: 'us-west-2', endpoint: moto.endpoint, credentials: creds }).send(new DescribeKeyPairsCommand({}))).KeyPairs ?? [];
  assert.ok(pairs.some((p) => p.KeyName?.startsWith('ed-us-west-2-replacement-')));
  assert.deepEqual(readdirSync(work).sort(), ['ec.key', 'ec.key.pub', 'ed.key', 'ed.key.pub', 'rsa.pem', 'rsa.pem.pub'], 'nothing written to the workspace');
  // a key folder inside the workspace is refused
  const inside = await cli(['contain', 'replace-key-pair', 'rsa-us-west-2', '--region', 'us-west-2', '--key-dir', path.join(work, 'keys'), '--yes']);
  assert.equal(inside.code, 1);
  assert.match(inside.err, /inside the workspace/);
  const timeline = (JSON.parse(readFileSync(path.join(home, '.keysentry', 'incidents.json'), 'utf8')) as typeof book).incidents.find((x) => x.id === inc.id)!.timeline.map((e) => e.text);
  assert.ok(timeline.some((x) => /^Delete key pair ed-us-west-2: done/.test(x)));
  assert.ok(timeline.some((x) => /^Replace key pair ed-us-west-2: done/.test(x)));
  const stored = readFileSync(path.join(home, '.keysentry', 'incidents.json'), 'utf8');
  assertNoSecret([...outputs, stored], [...privates, material]);
});

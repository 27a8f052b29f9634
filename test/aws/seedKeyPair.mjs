// Imports the public half of a private key file (the demo workspace's deploy/server.pem) into the
// test account as an EC2 key pair, in one region, and launches an instance with it: the account
// side of a "compromised key pair" incident. Shared by the demo and the VS Code harness.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DescribeImagesCommand, EC2Client, ImportKeyPairCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';

const sshString = (b) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
};
const mpint = (b) => sshString(b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);

/** The OpenSSH public key line (ssh-rsa / ssh-ed25519) of a PEM private key: what ImportKeyPair takes. */
export function opensshPublicKey(pem) {
  const jwk = createPublicKey(createPrivateKey(pem)).export({ format: 'jwk' });
  if (jwk.kty === 'RSA') return `ssh-rsa ${Buffer.concat([sshString(Buffer.from('ssh-rsa')), mpint(Buffer.from(jwk.e, 'base64url')), mpint(Buffer.from(jwk.n, 'base64url'))]).toString('base64')}`;
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return `ssh-ed25519 ${Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(Buffer.from(jwk.x, 'base64url'))]).toString('base64')}`;
  throw new Error(`EC2 imports RSA and ED25519 keys only (got ${jwk.kty})`);
}

/** Returns { keyName, region, instance }. */
export async function seedKeyPair(moto, pemFile, { keyName = 'deploy-server', region = 'us-east-1' } = {}) {
  const ec2 = new EC2Client({ region, endpoint: moto.endpoint, credentials: { accessKeyId: 'seed', secretAccessKey: 'seed' } });
  await ec2.send(new ImportKeyPairCommand({ KeyName: keyName, PublicKeyMaterial: Buffer.from(opensshPublicKey(readFileSync(pemFile, 'utf8'))) }));
  const image = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.find((i) => i.ImageId)?.ImageId ?? 'ami-12c6146b';
  const instance = (await ec2.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', KeyName: keyName }))).Instances[0].InstanceId;
  // An old instance in the home region: the audit's "launched recently" check leaves it alone.
  await moto.backdate?.('instance', instance, 40);
  return { keyName, region, instance };
}

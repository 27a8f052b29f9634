// Seeds a moto account the way the incident tests and the VS Code harness expect, through the
// real SDK: an admin who signs (with MFA), a CI user with a 120-day-old unused key (with MFA), an
// intern with a console password and no MFA, a security group open on SSH (and HTTPS, which is
// fine), a web instance in us-east-1 (the home region) and one in ap-south-1 (never used).
import { AuthorizeSecurityGroupIngressCommand, CreateKeyPairCommand, CreateSecurityGroupCommand, DescribeImagesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateAccessKeyCommand, CreateLoginProfileCommand, CreateUserCommand, CreateVirtualMFADeviceCommand, EnableMFADeviceCommand, IAMClient } from '@aws-sdk/client-iam';

const seedCreds = { accessKeyId: 'seed', secretAccessKey: 'seed' };

async function withMfa(iam, user) {
  const dev = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: `${user}-mfa` }));
  await iam.send(new EnableMFADeviceCommand({ UserName: user, SerialNumber: dev.VirtualMFADevice.SerialNumber, AuthenticationCode1: '123456', AuthenticationCode2: '654321' }));
}

async function launch(endpoint, region, groupIds, keyName) {
  const ec2 = new EC2Client({ region, endpoint, credentials: seedCreds });
  const image = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.find((i) => i.ImageId)?.ImageId ?? 'ami-12c6146b';
  const out = await ec2.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', SecurityGroupIds: groupIds, KeyName: keyName }));
  return out.Instances[0].InstanceId;
}

/** Returns { admin: {id, secret}, oldKeyId, web: {instance, group}, stray: {instance, keyPair}, secrets }. */
export async function seedAccount(moto) {
  const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: seedCreds });
  await iam.send(new CreateUserCommand({ UserName: 'admin' }));
  const admin = (await iam.send(new CreateAccessKeyCommand({ UserName: 'admin' }))).AccessKey;
  await withMfa(iam, 'admin');
  await iam.send(new CreateUserCommand({ UserName: 'ci-deploy' }));
  const old = (await iam.send(new CreateAccessKeyCommand({ UserName: 'ci-deploy' }))).AccessKey;
  await withMfa(iam, 'ci-deploy');
  await moto.backdate('access-key', old.AccessKeyId, 120);
  await iam.send(new CreateUserCommand({ UserName: 'intern' }));
  await iam.send(new CreateLoginProfileCommand({ UserName: 'intern', Password: `Pw-${Math.random().toString(36).slice(2)}-x9!` }));

  const east = new EC2Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials: seedCreds });
  const group = (await east.send(new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web servers' }))).GroupId;
  await east.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: group,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
    }),
  );
  const webInstance = await launch(moto.endpoint, 'us-east-1', [group]);
  await moto.backdate('instance', webInstance, 40);
  const south = new EC2Client({ region: 'ap-south-1', endpoint: moto.endpoint, credentials: seedCreds });
  await south.send(new CreateKeyPairCommand({ KeyName: 'relay' }));
  const stray = await launch(moto.endpoint, 'ap-south-1', undefined, 'relay');
  const recent = await launch(moto.endpoint, 'us-east-1', undefined);
  return {
    admin: { id: admin.AccessKeyId, secret: admin.SecretAccessKey },
    oldKeyId: old.AccessKeyId,
    web: { instance: webInstance, group },
    recent,
    stray: { instance: stray, keyPair: 'relay', region: 'ap-south-1' },
    secrets: [admin.SecretAccessKey, old.SecretAccessKey],
  };
}

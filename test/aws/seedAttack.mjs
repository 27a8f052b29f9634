// Seeds the published attack on a leaked key into a moto account, through the real SDK, and the
// matching CloudTrail records (test/aws/moto_server.py answers LookupEvents from them):
// enumeration (GetCallerIdentity, ListBuckets, a denied GetAccountAuthorizationDetails,
// DescribeRegions, DescribeInstances in several regions), then persistence (user `backup` with
// AdministratorAccess attached, an inline policy, a console password, an access key; an SSH rule
// opened to the world), then money (a key pair, two instances and a spot request in ap-south-1,
// a region the owner never uses), then the attacker's own new key at work. The owner's own use
// (from its usual IP address and tool) comes before and after the exposure, and the owner's own
// user `reporting` was created before it. Every resource the records name really exists.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  DescribeImagesCommand,
  EC2Client,
  RequestSpotInstancesCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  AddUserToGroupCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  EnableMFADeviceCommand,
  PutUserPolicyCommand,
  UploadSSHPublicKeyCommand,
} from '@aws-sdk/client-iam';
import { IAMClient } from '@aws-sdk/client-iam';

const seed = { accessKeyId: 'seed', secretAccessKey: 'seed' };
const DAY = 86_400_000;
export const OWNER_IP = '203.0.113.10';
export const OWNER_AGENT = 'aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22';
export const ATTACKER_AGENT = 'Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#5.15 lang/python#3.10.12';
export const ATTACKER_IPS = ['198.51.100.7', '198.51.100.8', '198.51.100.9'];
/** A real OpenSSH public key line (moto fingerprints it). */
function sshPublicKey() {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const mpint = (b64) => {
    let b = Buffer.from(b64, 'base64url');
    if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const type = Buffer.from('ssh-rsa');
  const tlen = Buffer.alloc(4);
  tlen.writeUInt32BE(type.length);
  return `ssh-rsa ${Buffer.concat([tlen, type, mpint(jwk.e), mpint(jwk.n)]).toString('base64')} attacker@box`;
}

const iso = (msAgo) => new Date(Date.now() - msAgo).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** One CloudTrail record in the shape of CloudTrail's log files. */
export function trailRecord(keyId, user, name, source, region, msAgo, extra = {}) {
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::123456789012:user/${user}`, accountId: '123456789012', accessKeyId: keyId, userName: user },
    eventTime: iso(msAgo),
    eventSource: source,
    eventName: name,
    awsRegion: region,
    sourceIPAddress: OWNER_IP,
    userAgent: OWNER_AGENT,
    requestParameters: null,
    responseElements: null,
    eventID: randomUUID(),
    readOnly: /^(Describe|List|Get)/.test(name),
    eventType: 'AwsApiCall',
    recipientAccountId: '123456789012',
    ...extra,
  };
}

/**
 * `leaked`: { keyId, user } of the leaked key (it must exist in moto). `exposedDaysAgo`: when it
 * was pushed. Returns the ids of everything the attacker made, and the owner's `reporting` user.
 */
export async function seedAttack(moto, leaked, exposedDaysAgo = 2) {
  const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: seed });
  const region = 'ap-south-1';
  const ec2 = new EC2Client({ region, endpoint: moto.endpoint, credentials: seed });

  // The owner's own user, made with the leaked key long before the exposure.
  await iam.send(new CreateUserCommand({ UserName: 'reporting' }));

  // What the attacker made.
  await iam.send(new CreateUserCommand({ UserName: 'backup' }));
  await iam.send(new AttachUserPolicyCommand({ UserName: 'backup', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
  await iam.send(new PutUserPolicyCommand({ UserName: 'backup', PolicyName: 'sync', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }) }));
  await iam.send(new CreateLoginProfileCommand({ UserName: 'backup', Password: `Pw-${randomUUID()}` }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'backup' }))).AccessKey;
  const mfa = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'backup-mfa' }));
  await iam.send(new EnableMFADeviceCommand({ UserName: 'backup', SerialNumber: mfa.VirtualMFADevice.SerialNumber, AuthenticationCode1: '123456', AuthenticationCode2: '654321' }));
  const ssh = (await iam.send(new UploadSSHPublicKeyCommand({ UserName: 'backup', SSHPublicKeyBody: sshPublicKey() }))).SSHPublicKey?.SSHPublicKeyId;
  await iam.send(new CreateGroupCommand({ GroupName: 'ops' })).catch(() => undefined);
  await iam.send(new AddUserToGroupCommand({ GroupName: 'ops', UserName: 'backup' }));
  // The attacker's second user, made with backup's key.
  await iam.send(new CreateUserCommand({ UserName: 'svc-metrics' }));

  await ec2.send(new CreateKeyPairCommand({ KeyName: 'm1n3r' }));
  const image = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.find((i) => i.ImageId)?.ImageId ?? 'ami-12c6146b';
  const group = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'default-ssh', Description: 'ssh' }))).GroupId;
  const rule = (await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }))).SecurityGroupRules?.[0]?.SecurityGroupRuleId;
  const run = await ec2.send(new RunInstancesCommand({ ImageId: image, MinCount: 2, MaxCount: 2, InstanceType: 'c5.4xlarge', KeyName: 'm1n3r', SecurityGroupIds: [group] }));
  const instances = run.Instances.map((i) => i.InstanceId);
  const spot = (await ec2.send(new RequestSpotInstancesCommand({ InstanceCount: 1, LaunchSpecification: { ImageId: image, InstanceType: 'p3.2xlarge' } }))).SpotInstanceRequests[0].SpotInstanceRequestId;

  const exposed = exposedDaysAgo * DAY;
  const t0 = exposed - 2 * 60_000; // two minutes after the push
  const own = (name, source, r, msAgo, extra = {}) => trailRecord(leaked.keyId, leaked.user, name, source, r, msAgo, extra);
  const a = (name, source, r, msAgo, extra = {}) => own(name, source, r, msAgo, { sourceIPAddress: ATTACKER_IPS[Math.floor(msAgo / 1000) % 2], userAgent: ATTACKER_AGENT, ...extra });
  const b = (name, source, r, msAgo, extra = {}) => trailRecord(key.AccessKeyId, 'backup', name, source, r, msAgo, { sourceIPAddress: ATTACKER_IPS[2], userAgent: ATTACKER_AGENT, ...extra });
  const records = [
    // the owner, before the exposure (the baseline) and after it
    own('CreateUser', 'iam.amazonaws.com', 'us-east-1', exposed + 20 * DAY, { requestParameters: { userName: 'reporting' }, responseElements: { user: { userName: 'reporting' } } }),
    own('PutObject', 's3.amazonaws.com', 'eu-west-1', exposed + 10 * DAY),
    own('ListBuckets', 's3.amazonaws.com', 'us-east-1', exposed + 3 * DAY),
    own('ListBuckets', 's3.amazonaws.com', 'us-east-1', exposed / 4),
    // the attacker with the leaked key
    a('GetCallerIdentity', 'sts.amazonaws.com', 'us-east-1', t0),
    a('ListBuckets', 's3.amazonaws.com', 'us-east-1', t0 - 1000),
    a('GetAccountAuthorizationDetails', 'iam.amazonaws.com', 'us-east-1', t0 - 2000, { errorCode: 'AccessDenied', errorMessage: `User: arn:aws:iam::123456789012:user/${leaked.user} is not authorized` }),
    a('DescribeRegions', 'ec2.amazonaws.com', 'us-east-1', t0 - 3000),
    a('DescribeInstances', 'ec2.amazonaws.com', 'ap-south-1', t0 - 4000),
    a('DescribeInstances', 'ec2.amazonaws.com', 'eu-north-1', t0 - 5000),
    a('CreateUser', 'iam.amazonaws.com', 'us-east-1', t0 - 6000, { requestParameters: { userName: 'backup' }, responseElements: { user: { userName: 'backup', arn: 'arn:aws:iam::123456789012:user/backup' } } }),
    a('AttachUserPolicy', 'iam.amazonaws.com', 'us-east-1', t0 - 7000, { requestParameters: { userName: 'backup', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' } }),
    a('PutUserPolicy', 'iam.amazonaws.com', 'us-east-1', t0 - 8000, { requestParameters: { userName: 'backup', policyName: 'sync' } }),
    a('CreateLoginProfile', 'iam.amazonaws.com', 'us-east-1', t0 - 9000, { requestParameters: { userName: 'backup' } }),
    a('CreateAccessKey', 'iam.amazonaws.com', 'us-east-1', t0 - 10_000, { requestParameters: { userName: 'backup' }, responseElements: { accessKey: { accessKeyId: key.AccessKeyId, userName: 'backup', status: 'Active' } } }),
    a('CreateKeyPair', 'ec2.amazonaws.com', region, t0 - 11_000, { requestParameters: { keyName: 'm1n3r' } }),
    a('AuthorizeSecurityGroupIngress', 'ec2.amazonaws.com', region, t0 - 12_000, { requestParameters: { groupId: group }, responseElements: { securityGroupRuleSet: { items: [{ securityGroupRuleId: rule, groupId: group }] } } }),
    a('RunInstances', 'ec2.amazonaws.com', region, t0 - 13_000, { responseElements: { instancesSet: { items: instances.map((id) => ({ instanceId: id, instanceType: 'c5.4xlarge' })) } } }),
    a('RequestSpotInstances', 'ec2.amazonaws.com', region, t0 - 14_000, { responseElements: { spotInstanceRequestSet: { items: [{ spotInstanceRequestId: spot }] } } }),
    a('RunInstances', 'ec2.amazonaws.com', 'eu-north-1', t0 - 15_000, { errorCode: 'Client.UnauthorizedOperation', errorMessage: 'You are not authorized' }),
    // then the attacker's own key: more enumeration and a second user
    b('ListUsers', 'iam.amazonaws.com', 'us-east-1', t0 - 60_000),
    b('CreateUser', 'iam.amazonaws.com', 'us-east-1', t0 - 61_000, { requestParameters: { userName: 'svc-metrics' }, responseElements: { user: { userName: 'svc-metrics' } } }),
  ];
  await moto.seedTrail(records);
  return { backupKey: key.AccessKeyId, backupSecret: key.SecretAccessKey, instances, spot, keyPair: 'm1n3r', group, rule, ssh, mfa: mfa.VirtualMFADevice.SerialNumber, region, records: records.length };
}

/**
 * Adds an exposed-key incident for the leaked key to a Keysentry incidents file (the extension
 * watches it), until the workspace finding opens one by itself (one incident per key). `noticeFrom`
 * (ISO) is the start of the activity window an AWS notice would give.
 */
export function addLeakedKeyIncident(file, keyId, user, where, noticeFrom) {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const data = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { format: 'keysentry-incidents', version: 1, incidents: [] };
  const now = new Date().toISOString();
  // The key's own incident id (core/incidents/book.ts keyIncidentId): the workspace scan's sightings merge into it.
  const id = `key:${keyId}`;
  data.incidents = data.incidents.filter((i) => i.id !== id);
  data.incidents.push({
    id,
    type: 'exposed-key',
    severity: 'critical',
    title: `Access key ${keyId} leaked in ${where}`,
    summary: `The access key of IAM user ${user} was committed to ${where} and pushed.`,
    source: 'manual',
    resources: [{ kind: 'access-key', id: keyId, user }, { kind: 'user', id: user }],
    facts: [['Access keys', keyId], ['IAM users', user], ['Found in', where], ...(noticeFrom ? [['Activity window', `${noticeFrom} to ${now}`]] : [])],
    status: 'open',
    createdAt: now,
    updatedAt: now,
    steps: {},
    timeline: [{ at: now, actor: 'keysentry', kind: 'detected', text: `Found in ${where}.` }],
  });
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 });
  return id;
}

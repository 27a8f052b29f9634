import { CancelSpotInstanceRequestsCommand, DescribeSpotInstanceRequestsCommand } from '@aws-sdk/client-ec2';
import {
  DeactivateMFADeviceCommand,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  DeleteServiceSpecificCredentialCommand,
  DeleteSigningCertificateCommand,
  DeleteSSHPublicKeyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DeleteVirtualMFADeviceCommand,
  DetachUserPolicyCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListMFADevicesCommand,
  ListServiceSpecificCredentialsCommand,
  ListSigningCertificatesCommand,
  ListSSHPublicKeysCommand,
  ListUserPoliciesCommand,
  RemoveUserFromGroupCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import type { RemovalOps, UserHoldings } from '../core/incidents/removal';
import { AwsContainment } from './containment';
import { ec2Client, iamClient, type AwsTarget } from './clients';

const notFound = (e: unknown): boolean => /NoSuchEntity|NotFound/.test((e as { name?: string }).name ?? '');

/** Pages an IAM list call (Marker / IsTruncated) to the end, at most 100 pages. */
async function all<T>(page: (marker: string | undefined) => Promise<{ items: T[]; marker?: string; truncated?: boolean }>): Promise<T[]> {
  const out: T[] = [];
  let marker: string | undefined;
  for (let i = 0; i < 100; i++) {
    const p = await page(marker);
    out.push(...p.items);
    if (!p.truncated || !p.marker) break;
    marker = p.marker;
  }
  return out;
}

/**
 * The removal calls (src/core/incidents/removal.ts) through the real SDK, on top of the
 * containment calls. Errors are thrown as the SDK raised them. Never logs a response body.
 */
export class AwsRemoval extends AwsContainment implements RemovalOps {
  private iamR: IAMClient | undefined;
  constructor(private readonly target: AwsTarget) {
    super(target);
  }
  private get iamc(): IAMClient {
    return (this.iamR ??= iamClient(this.target));
  }

  async deleteAccessKey(user: string, keyId: string): Promise<void> {
    await this.iamc.send(new DeleteAccessKeyCommand({ UserName: user, AccessKeyId: keyId }));
  }

  async userHoldings(name: string): Promise<UserHoldings | undefined> {
    const iam = this.iamc;
    let arn: string;
    try {
      arn = (await iam.send(new GetUserCommand({ UserName: name }))).User?.Arn ?? name;
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
    const UserName = name;
    const keys = await all(async (Marker) => {
      const r = await iam.send(new ListAccessKeysCommand({ UserName, Marker }));
      return { items: (r.AccessKeyMetadata ?? []).map((k) => ({ id: k.AccessKeyId ?? '?', status: k.Status ?? '?' })), marker: r.Marker, truncated: r.IsTruncated };
    });
    const loginProfile = await iam.send(new GetLoginProfileCommand({ UserName })).then(
      () => true,
      (e: unknown) => {
        if (notFound(e)) return false;
        throw e;
      },
    );
    const mfaDevices = await all(async (Marker) => {
      const r = await iam.send(new ListMFADevicesCommand({ UserName, Marker }));
      return { items: (r.MFADevices ?? []).map((d) => d.SerialNumber ?? '?'), marker: r.Marker, truncated: r.IsTruncated };
    });
    const signingCertificates = await all(async (Marker) => {
      const r = await iam.send(new ListSigningCertificatesCommand({ UserName, Marker }));
      return { items: (r.Certificates ?? []).map((c) => c.CertificateId ?? '?'), marker: r.Marker, truncated: r.IsTruncated };
    });
    const sshPublicKeys = await all(async (Marker) => {
      const r = await iam.send(new ListSSHPublicKeysCommand({ UserName, Marker }));
      return { items: (r.SSHPublicKeys ?? []).map((k) => k.SSHPublicKeyId ?? '?'), marker: r.Marker, truncated: r.IsTruncated };
    });
    const serviceCredentials = ((await iam.send(new ListServiceSpecificCredentialsCommand({ UserName }))).ServiceSpecificCredentials ?? []).map((c) => c.ServiceSpecificCredentialId ?? '?');
    const attachedPolicies = await all(async (Marker) => {
      const r = await iam.send(new ListAttachedUserPoliciesCommand({ UserName, Marker }));
      return { items: (r.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? '?'), marker: r.Marker, truncated: r.IsTruncated };
    });
    const inlinePolicies = await all(async (Marker) => {
      const r = await iam.send(new ListUserPoliciesCommand({ UserName, Marker }));
      return { items: r.PolicyNames ?? [], marker: r.Marker, truncated: r.IsTruncated };
    });
    const groups = await all(async (Marker) => {
      const r = await iam.send(new ListGroupsForUserCommand({ UserName, Marker }));
      return { items: (r.Groups ?? []).map((g) => g.GroupName ?? '?'), marker: r.Marker, truncated: r.IsTruncated };
    });
    return { name, arn, keys, loginProfile, mfaDevices, signingCertificates, sshPublicKeys, serviceCredentials, attachedPolicies, inlinePolicies, groups };
  }

  async deleteLoginProfile(user: string): Promise<void> {
    await this.iamc.send(new DeleteLoginProfileCommand({ UserName: user }));
  }
  async deactivateMfa(user: string, serial: string): Promise<void> {
    await this.iamc.send(new DeactivateMFADeviceCommand({ UserName: user, SerialNumber: serial }));
  }
  async deleteVirtualMfa(serial: string): Promise<void> {
    await this.iamc.send(new DeleteVirtualMFADeviceCommand({ SerialNumber: serial }));
  }
  async deleteSigningCertificate(user: string, id: string): Promise<void> {
    await this.iamc.send(new DeleteSigningCertificateCommand({ UserName: user, CertificateId: id }));
  }
  async deleteSshPublicKey(user: string, id: string): Promise<void> {
    await this.iamc.send(new DeleteSSHPublicKeyCommand({ UserName: user, SSHPublicKeyId: id }));
  }
  async deleteServiceCredential(user: string, id: string): Promise<void> {
    await this.iamc.send(new DeleteServiceSpecificCredentialCommand({ UserName: user, ServiceSpecificCredentialId: id }));
  }
  async detachUserPolicy(user: string, policyArn: string): Promise<void> {
    await this.iamc.send(new DetachUserPolicyCommand({ UserName: user, PolicyArn: policyArn }));
  }
  async deleteUserPolicy(user: string, policyName: string): Promise<void> {
    await this.iamc.send(new DeleteUserPolicyCommand({ UserName: user, PolicyName: policyName }));
  }
  async removeUserFromGroup(user: string, group: string): Promise<void> {
    await this.iamc.send(new RemoveUserFromGroupCommand({ UserName: user, GroupName: group }));
  }
  async deleteUser(user: string): Promise<void> {
    await this.iamc.send(new DeleteUserCommand({ UserName: user }));
  }

  async spotRequest(region: string, id: string): Promise<{ state: string; instanceId?: string } | undefined> {
    try {
      const r = (await ec2Client(this.target, region).send(new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [id] }))).SpotInstanceRequests?.[0];
      return r ? { state: r.State ?? 'unknown', instanceId: r.InstanceId } : undefined;
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }
  async cancelSpotRequest(region: string, id: string): Promise<string> {
    const r = await ec2Client(this.target, region).send(new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [id] }));
    return `now ${r.CancelledSpotInstanceRequests?.[0]?.State ?? 'cancelled'}`;
  }
}

/** Rotation of a leaked access key: the data that moves between the plan, the journal and the runner. */

export type KeyStatus = 'Active' | 'Inactive';

export interface AccessKeyMeta {
  id: string;
  status: KeyStatus;
  created?: string;
}

/** What IAM and STS said about the key and the signer, before anything changes. */
export interface KeyFacts {
  keyId: string;
  /** The account owning the key (STS GetAccessKeyInfo). */
  keyAccount?: string;
  /** Who signs the calls (STS GetCallerIdentity on the user's own credentials). */
  caller: { account: string; arn: string; accessKeyId?: string };
  /** IAM user owning the key; "root" for the account's root user; undefined when not found. */
  userName?: string;
  /** The user's keys, the leaked one included. */
  keys: AccessKeyMeta[];
  /** Managed policies attached to the user. */
  attachedPolicies: string[];
  lastUsed?: { date?: string; service?: string; region?: string };
}

export const STEP_ORDER = ['deactivate-exposed', 'delete-inactive', 'create', 'write-files', 'verify', 'check-last-used', 'deactivate-old', 'delete-old'] as const;
export type StepName = (typeof STEP_ORDER)[number];

export interface PlannedStep {
  name: StepName;
  /** One line a person reads before confirming: the API call and the resource. */
  describe: string;
}

export interface RotationOptions {
  /** The key was pushed or made public: deactivate it before anything else. */
  exposed: boolean;
  keepOldInactive: boolean;
  /** Consent to delete the user's other, inactive key when the 2-key limit leaves no room. */
  deleteInactive: boolean;
  /** Files to rewrite with the new key (absolute paths). */
  files: string[];
}

export interface RotationPlan {
  keyId: string;
  userName: string;
  account: string;
  steps: PlannedStep[];
  /** The inactive key deleted to make room, if any. */
  inactiveToDelete?: string;
  /** Things the user should know before confirming (quarantine policy, last use). */
  notes: string[];
}

export interface JournalStep {
  name: StepName;
  state: 'started' | 'done';
  at: string;
  detail?: string;
}

export interface FileRecord {
  path: string;
  /** Copy of the file before it was rewritten (0600, in the journal's folder). */
  backup?: string;
}

/** Everything needed to resume or roll back, and never a secret. */
export interface Journal {
  version: 1;
  keyId: string;
  status: 'running' | 'done' | 'rolled-back';
  startedAt: string;
  updatedAt: string;
  profile?: string;
  region: string;
  endpoint?: string;
  plan: RotationPlan;
  options: RotationOptions;
  /** The user's key ids before the rotation: a key not among them is the one we created. */
  beforeKeys: AccessKeyMeta[];
  newKeyId?: string;
  files: FileRecord[];
  steps: JournalStep[];
  /** Set when a step failed; the journal stays "running" so it can be resumed or rolled back. */
  error?: string;
}

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

export const STEP_ORDER = ['delete-inactive', 'create', 'write-files', 'verify', 'deactivate-exposed', 'check-last-used', 'deactivate-old', 'delete-old'] as const;
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
  /** A profile of the shared credentials file that takes the new key too (`--to-profile`). */
  toProfile?: string;
  /** Files git tracked that were untracked (`git rm --cached`) and ignored before the rotation (`--untrack`). */
  untracked?: string[];
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
  /** The listed files as found at planning time (which can take the new key, and why not). */
  files?: FileCheck[];
}

export interface JournalStep {
  name: StepName;
  state: 'started' | 'done';
  at: string;
  detail?: string;
}

/** A listed file as the plan found it: whether it can take the new key, and if not, why. */
export interface FileCheck {
  /** As listed (what the user named or Keysentry found). */
  path: string;
  /** The file a write changes: the end of a symlink chain. */
  target: string;
  ok: boolean;
  /** Why the file cannot take the new key (read-only, no secret paired with the id, …). */
  reason?: string;
  /** Where the pair is (`[dev] aws_access_key_id / [dev] aws_secret_access_key`). */
  places: string[];
  /** A profile of the shared credentials file (`--to-profile`). */
  profile?: string;
  /** The profile holds no pair of the key: the pair is added to it (the section too, when missing). */
  add?: boolean;
}

export interface FileRecord {
  path: string;
  target: string;
  /**
   * pending: about to be written (may or may not have been); written: holds the new pair;
   * verified: the pair re-read from it signs as the user; restored: rolled back to the old pair;
   * skipped: not updated (reason).
   */
  state: 'pending' | 'written' | 'verified' | 'restored' | 'skipped';
  places: string[];
  reason?: string;
  /** The pair was added to this profile (not substituted): a rollback takes the two lines out. */
  profile?: string;
  add?: boolean;
  /**
   * One half of the old secret of this file (a random pad; the other half, the secret XOR the
   * pad, is in KEY.undo): neither file alone holds the secret. Dropped when the rotation ends.
   */
  undoPad?: string;
}
/** Everything needed to resume or roll back, and never a secret. */
export interface Journal {
  version: 2;
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
  /**
   * Written just before each CreateAccessKey call: the user's key ids IAM listed then, and IAM's
   * own time of that listing (its Date header). A key not among them, created (by IAM's clock)
   * within minutes after, and claimed by no other journal, is the one that call made, even when
   * this machine's clock is off.
   */
  createWindow?: { keys: string[]; since?: string };
  /** Keys the user declared someone else's (--not-ours) after an interrupted CreateAccessKey: never this rotation's. */
  notOurs?: string[];
  newKeyId?: string;
  /** SHA-256 of the new secret (hex): tells the new pair in a file from one written by someone else, without storing the secret. */
  newSecretSha256?: string;
  files: FileRecord[];
  steps: JournalStep[];
  /** Set when a step failed; the journal stays "running" so it can be resumed or rolled back. */
  error?: string;
}

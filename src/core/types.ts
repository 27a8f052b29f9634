import type { KeyLiveness } from './investigate/liveness';

/** What Keysentry reports. Kept small and stable: the CLI's JSON output is this shape. */
export type FindingKind = 'aws-access-key-id' | 'aws-secret-access-key' | 'aws-session-token' | 'private-key';

export const FINDING_KINDS: readonly FindingKind[] = ['aws-access-key-id', 'aws-secret-access-key', 'aws-session-token', 'private-key'];

export interface Finding {
  /** Relative to the scan's base directory, `/` separators. */
  file: string;
  /** 1-based; columns count UTF-16 code units; endColumn is the column just after the secret (SARIF convention). */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  kind: FindingKind;
  /** The rule that found it, e.g. `secretlint/aws` or `keysentry/aws-secret-near-id`. */
  rule: string;
  /** Masked: a key id may be shown whole, a secret at most its first 4 characters. */
  preview: string;
  /** SHA-256 hex of the secret itself (whitespace-normalised for private keys). */
  fingerprint: string;
  /** For access key ids: the AWS account id decoded offline, when the id format allows it. */
  accountId?: string;
  /** For a secret or token: the key id it sits beside. */
  pairedKeyId?: string;
  /** Found by decoding the value at this place: it is written base64- or percent-encoded there. */
  decoded?: 'base64' | 'percent';
  /** Found inside an archive (zip, gzip, tar): the entry's name, nested ones joined by `!`; line and column are the entry's. */
  inArchive?: string;
  /** For access key ids, with `keysentry scan --check-live`: the `keysentry check` answer. */
  live?: KeyLiveness;
}

/** A file that was not scanned, and why. */
export interface SkippedFile {
  file: string;
  /** `ignored`: matched by .secretlintignore (listed so repository content never blinds a scan silently). */
  reason: 'binary' | 'too-large' | 'unreadable' | 'not-a-file' | 'ignored';
  detail?: string;
}

export interface ScanStats {
  files: number;
  bytes: number;
  skipped: SkippedFile[];
  ms: number;
  /** Findings left out because the baseline lists them. */
  baselined?: number;
}

export interface ScanResult {
  findings: Finding[];
  stats: ScanStats;
}

/** A clear, user-facing error (bad config, bad baseline, bad arguments). Never carries a secret. */
export class KeysentryError extends Error {
  constructor(message: string, readonly file?: string) {
    super(message);
    this.name = 'KeysentryError';
  }
}

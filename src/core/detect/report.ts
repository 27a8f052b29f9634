import { escapeControl } from '../escape';
import { redact } from '../mask';
import type { Finding, FindingKind, ScanResult } from '../types';

/**
 * A scan result as it may be shown or stored: file names are repository-controlled and can hold a
 * secret themselves (`creds-<secret>.txt`), so every name goes through redact() (masks what looks
 * like a secret or private key; a long plain path segment may be masked too, which is the safe side).
 */
export function redactScanResult(result: ScanResult): ScanResult {
  return {
    findings: result.findings.map((f) => ({ ...f, file: redact(f.file), ...(f.inArchive !== undefined ? { inArchive: redact(f.inArchive) } : {}) })),
    stats: { ...result.stats, skipped: result.stats.skipped.map((k) => ({ ...k, file: redact(k.file), ...(k.detail ? { detail: redact(k.detail) } : {}) })) },
  };
}

export const KIND_TITLES: Record<FindingKind, string> = {
  'aws-access-key-id': 'AWS access key id',
  'aws-secret-access-key': 'AWS secret access key',
  'aws-session-token': 'AWS session token',
  'private-key': 'Private key',
};

export const KIND_HELP: Record<FindingKind, string> = {
  'aws-access-key-id': 'An AWS access key id is committed. Rotate the key (keysentry rotate ID) and remove it from the repository.',
  'aws-secret-access-key': 'An AWS secret access key is committed. Anyone who reads it can act as its IAM user: rotate it now.',
  'aws-session-token': 'AWS temporary credentials are committed. Revoke the role sessions issued before now.',
  'private-key': 'A private key is committed. Replace the key pair and remove the file from history.',
};

/** Where each kind is explained (the `code` link of a diagnostic, SARIF helpUri). */
export const KIND_DOCS: Record<FindingKind, string> = {
  'aws-access-key-id': 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#rotating_access_keys_console',
  'aws-secret-access-key': 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#rotating_access_keys_console',
  'aws-session-token': 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html',
  'private-key': 'https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/replacing-key-pair.html',
};

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column || a.kind.localeCompare(b.kind)));
}

export function toJson(result: ScanResult): string {
  result = redactScanResult(result);
  return JSON.stringify({ findings: sortFindings(result.findings), stats: result.stats }, null, 2);
}

/** SARIF `rule.name`s: PascalCase identifiers (SARIF2012 / GitHub code scanning). */
export const SARIF_RULE_NAMES: Record<FindingKind, string> = {
  'aws-access-key-id': 'AwsAccessKeyId',
  'aws-secret-access-key': 'AwsSecretAccessKey',
  'aws-session-token': 'AwsSessionToken',
  'private-key': 'PrivateKey',
};

/** The base every result's file URI is relative to: where the scan ran (the repository root in CI). */
export const SARIF_URI_BASE = 'SRCROOT';

/**
 * A relative path as a URI reference: each segment percent-encoded on its own, so `#`, `?`, `%`,
 * spaces, `:` and non-ASCII characters never read as URI syntax (SARIF1002), and `/` stays the
 * separator. A name shown with `\xNN` escapes (not UTF-8) is encoded as those characters.
 */
export function sarifUri(file: string): string {
  return file.split('/').map((segment) => encodeURIComponent(segment)).join('/');
}

/** Labels of findings that are not at a place in a file: a commit message, a header, a name. */
const LABEL = /^\((commit message|commit header|tag message|tag header|file name|symlink target|ref name|blob [0-9a-f]+|tree [0-9a-f]+)\) ?(.*)$/s;

export function toSarif(result: ScanResult, toolVersion: string): string {
  result = redactScanResult(result);
  const kinds = Object.keys(KIND_TITLES) as FindingKind[];
  const location = (f: Finding): object[] => {
    const label = LABEL.exec(f.file);
    if (!label) {
      return [{ physicalLocation: { artifactLocation: { uri: sarifUri(f.file), uriBaseId: SARIF_URI_BASE }, region: { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: Math.max(f.endColumn, f.column + (f.endLine === f.line ? 1 : 0)) } } }];
    }
    // In a file's name: the file is the location, without a region. Messages, headers and ref
    // names have no file: the result carries no location, its message says where.
    const named = label[1] === 'file name' || label[1] === 'symlink target' ? (label[2] ?? '') : '';
    return named ? [{ physicalLocation: { artifactLocation: { uri: sarifUri(named), uriBaseId: SARIF_URI_BASE } }, message: { text: `in the ${label[1]}` } }] : [];
  };
  const where = (f: Finding): string => {
    const commit = (f as Finding & { commit?: unknown }).commit;
    const label = LABEL.exec(f.file);
    return `${label ? ` in the ${label[1]}${label[1] === 'file name' || label[1] === 'symlink target' ? '' : label[2] ? ` ${label[2]}` : ''}` : ''}${typeof commit === 'string' ? ` (commit ${commit.slice(0, 12)})` : ''}`;
  };
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Keysentry',
            version: toolVersion,
            informationUri: 'https://github.com/keysentry/keysentry',
            rules: kinds.map((k) => ({
              id: k,
              name: SARIF_RULE_NAMES[k],
              shortDescription: { text: `${KIND_TITLES[k]} committed` },
              fullDescription: { text: KIND_HELP[k] },
              helpUri: KIND_DOCS[k],
              help: { text: KIND_HELP[k] },
              defaultConfiguration: { level: 'error' },
              properties: { tags: ['security', 'secret'], 'security-severity': k === 'aws-access-key-id' ? '7.5' : '9.0', precision: 'high' },
            })),
          },
        },
        originalUriBaseIds: { [SARIF_URI_BASE]: { description: { text: 'The folder the scan ran in (the repository root in CI).' } } },
        columnKind: 'utf16CodeUnits',
        results: sortFindings(result.findings).map((f) => {
          const commit = (f as Finding & { commit?: unknown }).commit;
          return {
            ruleId: f.kind,
            ruleIndex: kinds.indexOf(f.kind),
            level: 'error',
            message: { text: `${KIND_TITLES[f.kind]} ${f.preview}${f.accountId ? ` (account ${f.accountId})` : ''}${where(f)}` },
            locations: location(f),
            partialFingerprints: { 'keysentry/v1': f.fingerprint },
            ...(typeof commit === 'string' ? { properties: { commit } } : {}),
          };
        }),
      },
    ],
  };
  return JSON.stringify(sarif, null, 2);
}

export function toText(result: ScanResult, color: boolean): string {
  result = redactScanResult(result);
  const c = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const out: string[] = [];
  const byFile = new Map<string, Finding[]>();
  for (const f of sortFindings(result.findings)) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
  for (const [file, list] of byFile) {
    out.push(c('4', escapeControl(file)));
    for (const f of list) {
      const where = `${f.inArchive !== undefined ? `${escapeControl(f.inArchive)}:` : ''}${f.line}:${f.column}`.padEnd(9);
      const extra = [
        f.accountId ? `account ${f.accountId}` : '',
        f.pairedKeyId ? `pairs with ${f.pairedKeyId}` : '',
        f.decoded ? `${f.decoded}-decoded` : '',
        f.live ? `${f.live.status}${f.live.user ? ` (${f.live.user})` : ''}: ${f.live.reason}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      out.push(`  ${c('2', where)} ${c('31', KIND_TITLES[f.kind].padEnd(22))} ${escapeControl(f.preview)}${extra ? c('2', `  (${escapeControl(extra)})`) : ''}`);
    }
    out.push('');
  }
  const s = result.stats;
  const n = result.findings.length;
  out.push(
    n === 0
      ? c('32', `No AWS credentials or private keys found`) + ` in ${s.files} files (${(s.bytes / 1e6).toFixed(1)} MB, ${s.ms} ms).`
      : c('31', `${n} finding${n === 1 ? '' : 's'}`) + ` in ${byFile.size} file${byFile.size === 1 ? '' : 's'} (${s.files} files scanned, ${(s.bytes / 1e6).toFixed(1)} MB, ${s.ms} ms).`,
  );
  if (s.baselined) out.push(`${s.baselined} finding(s) hidden by the baseline.`);
  const ignored = s.skipped.filter((k) => k.reason === 'ignored');
  const notScanned = s.skipped.filter((k) => k.reason !== 'ignored');
  if (notScanned.length) {
    // Every skip, one per line: what was not scanned is never a footnote.
    out.push(c('33', `Not scanned: ${notScanned.length} file(s) or folder(s):`));
    for (const k of notScanned) out.push(`  ${escapeControl(k.file)}  ${k.reason}${k.detail ? ` (${escapeControl(k.detail)})` : ''}`);
  }
  if (ignored.length) {
    // Repository content (.secretlintignore) removed these: listed, and counted by --fail-on-skip.
    out.push(c('33', `Ignored by .secretlintignore: ${ignored.length} file(s):`));
    for (const k of ignored) out.push(`  ${escapeControl(k.file)}`);
  }
  return out.join('\n');
}

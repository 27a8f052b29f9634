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
    findings: result.findings.map((f) => ({ ...f, file: redact(f.file) })),
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

export function toSarif(result: ScanResult, toolVersion: string): string {
  result = redactScanResult(result);
  const kinds = Object.keys(KIND_TITLES) as FindingKind[];
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
              name: KIND_TITLES[k].replace(/ /g, ''),
              shortDescription: { text: `${KIND_TITLES[k]} committed` },
              fullDescription: { text: KIND_HELP[k] },
              helpUri: KIND_DOCS[k],
              help: { text: KIND_HELP[k] },
              defaultConfiguration: { level: 'error' },
              properties: { tags: ['security', 'secret'], 'security-severity': k === 'aws-access-key-id' ? '7.5' : '9.0', precision: 'high' },
            })),
          },
        },
        columnKind: 'utf16CodeUnits',
        results: sortFindings(result.findings).map((f) => ({
          ruleId: f.kind,
          ruleIndex: kinds.indexOf(f.kind),
          level: 'error',
          message: { text: `${KIND_TITLES[f.kind]} ${f.preview}${f.accountId ? ` (account ${f.accountId})` : ''}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: encodeURI(f.file) },
                region: { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: Math.max(f.endColumn, f.column + (f.endLine === f.line ? 1 : 0)) },
              },
            },
          ],
          partialFingerprints: { 'keysentry/v1': f.fingerprint },
        })),
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
      const where = `${f.line}:${f.column}`.padEnd(9);
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
  if (s.skipped.length) {
    // Every skip, one per line: what was not scanned is never a footnote.
    out.push(c('33', `Not scanned: ${s.skipped.length} file(s) or folder(s):`));
    for (const k of s.skipped) out.push(`  ${escapeControl(k.file)}  ${k.reason}${k.detail ? ` (${escapeControl(k.detail)})` : ''}`);
  }
  return out.join('\n');
}

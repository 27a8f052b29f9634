import { lintSource } from '@secretlint/core';
import { secretLintProfiler } from '@secretlint/profiler';
import { creator as awsRule } from '@secretlint/secretlint-rule-aws';
import { creator as privateKeyRule } from '@secretlint/secretlint-rule-privatekey';
import { creator as filterCommentsRule } from '@secretlint/secretlint-rule-filter-comments';
import type { RawMatch } from './ownRules';
import { pemPrivateKeyRegex } from './patterns';

// @secretlint/profiler records a performance mark per rule and file and never clears them
// (secretlint issue #1653: scans slow down without bound in long-lived processes such as the
// extension host). Keysentry does not use the profile, so the marks are not recorded at all.
secretLintProfiler.mark = () => undefined;

const config = {
  rules: [
    { id: '@secretlint/secretlint-rule-aws', rule: awsRule, options: { enableIDScanRule: true } },
    { id: '@secretlint/secretlint-rule-privatekey', rule: privateKeyRule, options: {} },
    { id: '@secretlint/secretlint-rule-filter-comments', rule: filterCommentsRule, options: {} },
  ],
};

// secretlint reports a secret key's range from the start of `aws_secret_access_key`, not the key.
// This is its own pattern, sticky at the reported start, so the key's own range can be recovered.
const SECRETLINT_SECRET = /["']?(?:AWS|aws|Aws)?_?(?:SECRET|secret|Secret)_?(?:ACCESS|access|Access)_?(?:KEY|key|Key)["']?\s*(?::|=>|=)\s*["']?([A-Za-z0-9/+=]{40})["']?\b/dy;

/** Runs secretlint's AWS, private-key and comment-filter rules and maps their messages to raw matches. */
export async function runSecretlint(text: string, filePath: string): Promise<RawMatch[]> {
  const result = await lintSource({
    source: { content: text, filePath, contentType: 'text' },
    // maskSecrets keeps raw secrets out of secretlint's messages; ranges are all Keysentry uses.
    options: { config, maskSecrets: true, noPhysicFilePath: true },
  } as Parameters<typeof lintSource>[0]);
  const out: RawMatch[] = [];
  for (const msg of result.messages) {
    const [start, end] = msg.range;
    if (msg.messageId === 'AWSAccessKeyID') {
      out.push({ kind: 'aws-access-key-id', rule: 'secretlint/aws', start, end, value: text.slice(start, end) });
    } else if (msg.messageId === 'AWSSecretAccessKey') {
      SECRETLINT_SECRET.lastIndex = start;
      const m = SECRETLINT_SECRET.exec(text);
      const span = m?.indices?.[1];
      if (!m || !span) continue;
      out.push({ kind: 'aws-secret-access-key', rule: 'secretlint/aws', start: span[0], end: span[1], value: m[1] as string, named: true });
    } else if (msg.messageId === 'PrivateKey') {
      const value = text.slice(start, end);
      const body = pemPrivateKeyRegex().exec(value)?.[2] ?? '';
      out.push({ kind: 'private-key', rule: 'secretlint/privatekey', start, end, value, fingerprintSource: body });
    }
    // AWSAccountID and principal ids (AIDA, AROA, ...) are not credentials: not reported.
  }
  return out;
}

import { resolveTarget } from '../aws/clients';
import { KeyLookup, verifyWithKey } from '../aws/keyLookup';
import { canaryOf } from '../core/investigate/canary';
import { isKeyIdShape } from '../core/detect/patterns';
import { checkExitCode, describeLiveness, type KeyLiveness } from '../core/investigate/liveness';
import { escapeControl } from '../core/escape';
import { KeysentryError } from '../core/types';
import { formatFlag, parseArgs } from './args';
import type { Io } from './io';

export const CHECK_USAGE = `usage: keysentry check ACCESS_KEY_ID... [--profile P] [--region R] [--endpoint-url URL] [--format text|json]
       keysentry check ACCESS_KEY_ID --verify-with-key [--region R] [--endpoint-url URL] [--format text|json] < secret

Tells whether each access key is live and whose it is, asking AWS with YOUR identity (the profile,
SSO or environment credentials), never with the key itself: STS GetAccessKeyInfo (its account),
then, for a key of the account you sign in, IAM GetAccessKeyLastUsed (owner, last use) and
ListAccessKeys (Active or Inactive, creation date). Nothing is changed.

Status: active, inactive, deleted (no user of your account has it), other-account (you cannot read
it), unknown (a call was denied or failed: the reason names it).
Permissions: sts:GetAccessKeyInfo, iam:GetAccessKeyLastUsed, iam:ListAccessKeys.
Exit status: 0 none is active, 1 a key is active, 2 a key could not be checked or an error.

--verify-with-key  for a key outside your accounts: one STS GetCallerIdentity signed WITH THE KEY
                   ITSELF (its secret, and a session token for ASIA… keys on a second line, read from
                   standard input, never from the command line). That call is recorded in the key
                   owner's CloudTrail. Refused for keys of known canary-token accounts.
                   Exit status: 1 the key works, 0 it does not, 2 error.`;

/** Key ids are printed whole (as AWS consoles do); names come from AWS and are made printable. */
export const printable = escapeControl;

export function formatCheck(results: KeyLiveness[], now = Date.now()): string {
  return results.map((r) => `${r.keyId}  ${r.status.padEnd(13)} ${printable(describeLiveness(r, now))}${r.created ? ` (created ${r.created.slice(0, 10)})` : ''}`).join('\n');
}

export async function checkCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, ['profile', 'region', 'endpoint-url', 'format'], ['help', 'verify-with-key']);
  if (args.flags.has('help')) {
    io.out(CHECK_USAGE);
    return 0;
  }
  const format = formatFlag(args, ['text', 'json'] as const);
  if (!args.positional.length) throw new KeysentryError(`check needs at least one access key id\n\n${CHECK_USAGE}`);
  const bad = args.positional.find((k) => !isKeyIdShape(k));
  if (bad !== undefined) throw new KeysentryError(`"${printable(bad.slice(0, 40))}" is not an AWS access key id (AKIA…, ASIA…: 20 characters)`);
  const keyIds = [...new Set(args.positional)];
  const opt = (name: string): string | undefined => args.flags.get(name) as string | undefined;
  if (args.flags.has('verify-with-key')) return verifyCommand(keyIds, format, io, { region: opt('region'), endpoint: opt('endpoint-url') });
  const lookup = new KeyLookup(resolveTarget({ profile: opt('profile'), region: opt('region'), endpoint: opt('endpoint-url') }));
  const results = await lookup.checkAll(keyIds);
  io.out(format === 'json' ? JSON.stringify({ keys: results }, null, 2) : formatCheck(results));
  return checkExitCode(results);
}

async function verifyCommand(keyIds: string[], format: 'text' | 'json', io: Io, where: { region?: string; endpoint?: string }): Promise<number> {
  const [keyId, ...more] = keyIds;
  if (!keyId || more.length) throw new KeysentryError('--verify-with-key checks one key at a time');
  const canary = canaryOf(keyId);
  if (canary) throw new KeysentryError(`will not use ${keyId}: it is ${canary.what} (account ${canary.account}), and any use of it alerts whoever planted it`);
  const [secret, sessionToken] = ((await io.readStdin?.()) ?? '').split(/\r?\n/).map((l) => l.trim());
  if (!secret || !/^[A-Za-z0-9/+]{40}$/.test(secret)) throw new KeysentryError('--verify-with-key reads the secret access key (40 characters) from standard input, never from the command line');
  if (keyId.startsWith('ASIA') && !sessionToken) throw new KeysentryError(`${keyId} is a temporary key: give its session token on the second line of standard input`);
  const target = resolveTarget({ region: where.region, endpoint: where.endpoint });
  const v = await verifyWithKey(target, keyId, secret, sessionToken || undefined);
  io.out(format === 'json' ? JSON.stringify({ keyId, ...v }, null, 2) : `${keyId}  ${v.works ? 'works' : 'does not work'}: ${printable(v.reason)}`);
  return v.works ? 1 : 0;
}

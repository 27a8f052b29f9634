import { closeSync, fstatSync, lstatSync, openSync, readSync, constants } from 'node:fs';
import path from 'node:path';
import { enabledRegions } from '../aws/cloudtrail';
import { resolveTarget } from '../aws/clients';
import { findKeyPairs, type KeyPairMatch } from '../aws/keyPairs';
import { keyPairFingerprints, type KeyPairFingerprints } from '../core/investigate/keyPairs';
import { keyPairIncident } from '../core/contain/keyPairIncident';
import { IncidentBook } from '../core/incidents/book';
import { keysentryHome } from '../core/home';
import { KeysentryError } from '../core/types';
import { formatFlag, parseArgs } from './args';
import { printable } from './check';
import type { Io } from './io';

export const KEY_PAIR_USAGE = `usage: keysentry check-key-pair FILE... [--regions LIST] [--profile P] [--region R] [--endpoint-url URL] [--format text|json] [--no-incident]

Which EC2 key pair is this private key, in which regions, and which instances were launched with
it? Computes every fingerprint EC2 shows (imported RSA: MD5 of the public key; EC2-created RSA:
SHA-1 of the PKCS#8 private key; ED25519: SHA-256) from each PEM or OpenSSH private key file, then
looks for them with DescribeKeyPairs in every enabled region and lists the instances
(DescribeInstances, key-name filter), signed with your identity. Nothing is changed; the key never
leaves this machine. Encrypted keys cannot be fingerprinted without their passphrase, which is
never asked for. EC2 key pairs are RSA or ED25519: other keys (ECDSA) are reported, never matched.
A key that matches opens a "compromised key pair" incident ($KEYSENTRY_HOME/incidents.json) with
the key pairs, regions and instances, unless --no-incident; act on it with keysentry contain
delete-key-pair / replace-key-pair NAME --region R --incident ID.
Exit status: 0 no key pair matches, 1 a key matches a key pair, 2 error.`;

const MAX_KEY_FILE = 64 * 1024;

/** A private key file: a regular file (not a symlink, FIFO or device), at most 64 KB. */
function readKeyFile(file: string): string {
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st) throw new KeysentryError(`${printable(file)}: no such file`);
  if (!st.isFile()) throw new KeysentryError(`${printable(file)}: not a regular file`);
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_KEY_FILE) throw new KeysentryError(`${printable(file)}: ${size} bytes is larger than any private key`);
    const buf = Buffer.alloc(size);
    const n = readSync(fd, buf, 0, size, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export async function keyPairCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, ['regions', 'profile', 'region', 'endpoint-url', 'format'], ['help', 'no-incident']);
  if (args.flags.has('help')) {
    io.out(KEY_PAIR_USAGE);
    return 0;
  }
  const format = formatFlag(args, ['text', 'json'] as const);
  if (!args.positional.length) throw new KeysentryError(`check-key-pair needs at least one private key file\n\n${KEY_PAIR_USAGE}`);
  const opt = (name: string): string | undefined => args.flags.get(name) as string | undefined;
  const files = args.positional.map((f) => path.resolve(io.cwd, f));
  const prints: KeyPairFingerprints[] = files.map((f) => keyPairFingerprints(readKeyFile(f)));
  const target = resolveTarget({ profile: opt('profile'), region: opt('region'), endpoint: opt('endpoint-url') });
  const usable = prints.some((p) => p.ok);
  const regions = !usable ? [] : opt('regions') ? (opt('regions') as string).split(',').map((r) => r.trim()).filter(Boolean) : await enabledRegions(target);
  for (const r of regions) if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(r)) throw new KeysentryError(`--regions: "${printable(r.slice(0, 40))}" is not a region name`);
  const { matches, failures } = usable ? await findKeyPairs(target, prints, regions) : { matches: prints.map((): KeyPairMatch[] => []), failures: [] };
  // A match opens (or finds) the "compromised key pair" incident: key pairs, regions, instances.
  const incidents: Array<string | null> = files.map(() => null);
  if (!args.flags.has('no-incident') && matches.some((m) => m.length)) {
    const account = await accountOf(target);
    try {
      const book = new IncidentBook(path.join(keysentryHome(), 'incidents.json'));
      for (const [i, file] of files.entries()) {
        const draft = keyPairIncident(path.relative(io.cwd, file) || file, prints[i]!, matches[i] ?? [], account);
        if (draft) incidents[i] = book.add(draft, 'keysentry check-key-pair', `Opened by keysentry check-key-pair: ${draft.summary}`).id;
      }
    } catch (e) {
      // The answer still matters more than the record: say why it was not kept.
      io.err(`keysentry: warning: the incident could not be saved: ${printable((e as Error).message)}`);
    }
  }
  const keys = files.map((file, i) => {
    const p = prints[i]!;
    const shown = path.relative(io.cwd, file) || file;
    const note = p.ok && (p.algorithm === 'ecdsa' || p.algorithm === 'other') ? 'EC2 key pairs are RSA or ED25519 only (ImportKeyPair refuses other types): this key cannot be an EC2 key pair, but may still be in authorized_keys on instances' : undefined;
    return p.ok
      ? { file: shown, algorithm: p.algorithm, fingerprints: { imported: p.imported ?? null, created: p.created ?? null, ed25519: p.ed25519 ?? null }, matches: matches[i] ?? [], incident: incidents[i] ?? null, ...(note ? { note } : {}) }
      : { file: shown, error: p.reason, detail: p.detail, matches: [], incident: null };
  });
  if (format === 'json') io.out(JSON.stringify({ keys, failures }, null, 2));
  else {
    const out: string[] = [];
    for (const k of keys) {
      if ('error' in k) {
        out.push(`${printable(k.file)}: not checked: ${k.detail}`);
        continue;
      }
      const fp = [k.fingerprints.imported && `imported ${k.fingerprints.imported}`, k.fingerprints.created && `EC2-created ${k.fingerprints.created}`, k.fingerprints.ed25519 && `ED25519 ${k.fingerprints.ed25519}`].filter(Boolean).join(', ');
      out.push(`${printable(k.file)} (${k.algorithm}; ${fp})`);
      if ('note' in k && k.note) out.push(`  ${k.note}`);
      if (!k.matches.length) out.push('  no EC2 key pair has this key in the regions checked');
      for (const m of k.matches) out.push(`  key pair ${printable(m.keyName)} in ${m.region}${m.instances.length ? `: ${m.instances.length} instance(s): ${m.instances.map((x) => `${x.id} (${x.state ?? '?'})`).join(', ')}` : ': no instances'}`);
      if (k.incident) out.push(`  opened incident ${printable(k.incident)}: keysentry contain delete-key-pair|replace-key-pair NAME --region R --incident ${printable(k.incident)}`);
    }
    for (const f of failures) out.push(`warning: ${f.region}: ${printable(f.message)}`);
    io.out(out.join('\n'));
  }
  if (keys.some((k) => k.matches.length)) return 1;
  return failures.length || keys.some((k) => 'error' in k) ? 2 : 0;
}

/** The account id, for the incident's id; 'unknown' when the caller cannot be read. */
async function accountOf(target: ReturnType<typeof resolveTarget>): Promise<string> {
  try {
    const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
    const { stsClient } = await import('../aws/clients');
    return (await stsClient(target).send(new GetCallerIdentityCommand({}))).Account ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

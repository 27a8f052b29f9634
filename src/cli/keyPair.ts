import { closeSync, fstatSync, lstatSync, openSync, readSync, constants } from 'node:fs';
import path from 'node:path';
import { enabledRegions } from '../aws/cloudtrail';
import { resolveTarget } from '../aws/clients';
import { findKeyPairs, type KeyPairMatch } from '../aws/keyPairs';
import { keyPairFingerprints, type KeyPairFingerprints } from '../core/investigate/keyPairs';
import { KeysentryError } from '../core/types';
import { formatFlag, parseArgs } from './args';
import { printable } from './check';
import type { Io } from './io';

export const KEY_PAIR_USAGE = `usage: keysentry check-key-pair FILE... [--regions LIST] [--profile P] [--region R] [--endpoint-url URL] [--format text|json]

Which EC2 key pair is this private key, in which regions, and which instances were launched with
it? Computes every fingerprint EC2 shows (imported RSA: MD5 of the public key; EC2-created RSA:
SHA-1 of the PKCS#8 private key; ED25519: SHA-256) from each PEM or OpenSSH private key file, then
looks for them with DescribeKeyPairs in every enabled region and lists the instances
(DescribeInstances, key-name filter), signed with your identity. Nothing is changed; the key never
leaves this machine. Encrypted keys cannot be fingerprinted without their passphrase, which is
never asked for.
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
  const args = parseArgs(argv, ['regions', 'profile', 'region', 'endpoint-url', 'format'], ['help']);
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
  const keys = files.map((file, i) => {
    const p = prints[i]!;
    const shown = path.relative(io.cwd, file) || file;
    return p.ok
      ? { file: shown, algorithm: p.algorithm, fingerprints: { imported: p.imported ?? null, created: p.created ?? null, ed25519: p.ed25519 ?? null }, matches: matches[i] ?? [] }
      : { file: shown, error: p.reason, detail: p.detail, matches: [] };
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
      if (!k.matches.length) out.push('  no EC2 key pair has this key in the regions checked');
      for (const m of k.matches) out.push(`  key pair ${printable(m.keyName)} in ${m.region}${m.instances.length ? `: ${m.instances.length} instance(s): ${m.instances.map((x) => `${x.id} (${x.state ?? '?'})`).join(', ')}` : ': no instances'}`);
    }
    for (const f of failures) out.push(`warning: ${f.region}: ${printable(f.message)}`);
    io.out(out.join('\n'));
  }
  if (keys.some((k) => k.matches.length)) return 1;
  return failures.length || keys.some((k) => 'error' in k) ? 2 : 0;
}

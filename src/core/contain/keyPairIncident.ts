import { closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, realpathSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { KeysentryError } from '../types';
import type { KeyPairFingerprints } from '../investigate/keyPairs';
import type { ActionPlan, ActionTarget, ContainmentOps } from '../incidents/actions';
import type { Incident, ResourceRef } from '../incidents/types';

// A private key found in the workspace (or a push) that is an EC2 key pair's opens a "compromised
// key pair" incident: which key pair, in which regions, which instances trust it. Its actions:
// delete the key pair (EC2's copy only) and create a replacement whose private key goes to
// ~/.ssh/ (mode 0600), never into the workspace and never into any output.

export interface KeyPairMatchFacts {
  region: string;
  keyName: string;
  keyPairId: string | null;
  instances: Array<{ id: string; state: string | null }>;
}

export interface KeyPairOps {
  /** Creates a key pair; `material` is the private key (PEM), to be written to a file and never shown. */
  createKeyPair(region: string, name: string, type: 'rsa' | 'ed25519', incidentId: string): Promise<{ material: string; fingerprint?: string; id?: string }>;
}

const short = (s: string, n = 80): string => (s.length > n ? `${s.slice(0, n)}…` : s);

/**
 * The incident for one private key that matched key pairs. `file` is shown as given (relative to
 * the workspace); the key itself never enters the incident. Undefined when nothing matched.
 */
export function keyPairIncident(file: string, f: KeyPairFingerprints, matches: KeyPairMatchFacts[], account = 'unknown'): Omit<Incident, 'status' | 'createdAt' | 'updatedAt' | 'steps' | 'timeline'> | undefined {
  if (!f.ok || !matches.length) return undefined;
  const fp = f.ed25519 ?? f.imported ?? f.created ?? '?';
  const resources: ResourceRef[] = [];
  for (const m of matches) resources.push({ kind: 'key-pair', id: m.keyName, region: m.region, label: `key pair in ${m.region}` });
  for (const m of matches) for (const i of m.instances) resources.push({ kind: 'instance', id: i.id, region: m.region, label: `launched with ${short(m.keyName)} (${i.state ?? '?'})` });
  const regions = [...new Set(matches.map((m) => m.region))];
  const instances = matches.flatMap((m) => m.instances);
  return {
    id: `key-pair:${account}:${fp}`,
    type: 'key-pair',
    severity: instances.some((i) => i.state === 'running') ? 'critical' : 'high',
    title: `Private key ${short(path.basename(file), 60)} is EC2 key pair ${short(matches[0]!.keyName, 60)}${matches.length > 1 ? ` (+${matches.length - 1})` : ''}`,
    summary: `The private key in ${short(file, 120)} belongs to ${matches.length} EC2 key pair(s) in ${regions.join(', ')}; ${instances.length} instance(s) were launched with it and trust it in authorized_keys.`,
    source: 'manual',
    account,
    resources,
    facts: [
      ['Private key file', short(file, 200)],
      ['Key type', f.algorithm],
      ['Fingerprint', fp],
      ['Key pairs', matches.map((m) => `${short(m.keyName)} (${m.region}${m.keyPairId ? `, ${m.keyPairId}` : ''})`).join('; ')],
      ['Regions', regions.join(', ')],
      ['Instances', instances.map((i) => `${i.id} (${i.state ?? '?'})`).join(', ') || 'none'],
    ],
  };
}

/** What to say for a key that cannot be matched (encrypted: never ask for the passphrase). */
export function unmatchableReason(f: KeyPairFingerprints): string | undefined {
  if (f.ok) return undefined;
  return f.reason === 'encrypted' ? 'This private key is encrypted: it cannot be fingerprinted without its passphrase, and Keysentry never asks for it. Check it by hand (ssh-keygen -y -f FILE, then compare with the key pairs), or treat it as compromised if the passphrase may be out too.' : `This key cannot be read: ${f.detail}`;
}

/** A file name from an (attacker-controllable) key pair name. */
const safeName = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '').slice(0, 80) || 'key';

const inside = (child: string, parent: string): boolean => {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/** Resolves the folder the new private key goes to; refuses one inside a workspace folder. */
export function keyFolder(dir: string | undefined, workspaceRoots: string[] = []): string {
  const folder = path.resolve(dir ?? path.join(homedir(), '.ssh'));
  let real = folder;
  try {
    real = realpathSync(folder);
  } catch {
    real = path.join(realpathSync(path.dirname(folder)), path.basename(folder));
  }
  for (const root of workspaceRoots) {
    let r = path.resolve(root);
    try {
      r = realpathSync(r);
    } catch {
      /* a root that does not exist still counts by name */
    }
    if (inside(real, r) || inside(folder, path.resolve(root))) throw new KeysentryError(`refusing to write a private key to ${folder}: it is inside the workspace ${root}, where it could be committed. Use ~/.ssh`);
  }
  return folder;
}

/** Writes a new private key: folder 0700, file 0600, never over an existing file or through a symlink. */
export function writePrivateKey(folder: string, name: string, material: string): string {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const file = path.join(folder, `${safeName(name)}.pem`);
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, material.endsWith('\n') ? material : `${material}\n`);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(file);
    throw e;
  }
  closeSync(fd);
  return file;
}

/**
 * Plans the replacement of a compromised key pair: a new key pair of the same type (RSA or
 * ED25519) named after it, its private key written to ~/.ssh/NAME.pem (0600). The old key pair is
 * left alone (delete it with its own action). Makes no change.
 */
export async function planReplaceKeyPair(target: ActionTarget, incident: Incident, ops: ContainmentOps): Promise<ActionPlan> {
  const r = target.resource;
  const region = r.region;
  if (!region) throw new KeysentryError(`the region of key pair ${r.id} is unknown`);
  const type = incident.facts.find(([k]) => k === 'Key type')?.[1] === 'ed25519' ? 'ed25519' : 'rsa';
  const stamp = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const base = `${r.id.slice(0, 200)}-replacement-${stamp}`;
  let name = base;
  for (let n = 2; (await ops.keyPairExists(region, name)) && n < 50; n++) name = `${base}-${n}`;
  const folder = keyFolder(target.options?.keyDir, target.options?.workspaceRoots);
  const file = path.join(folder, `${safeName(name)}.pem`);
  if (lstatSync(file, { throwIfNoEntry: false })) throw new KeysentryError(`${file} exists already: move it away first`);
  const plan: ActionPlan = { target, title: `Replace key pair ${r.id}`, checked: [], calls: [], warnings: [] };
  plan.checked.push(`ec2:DescribeKeyPairs: ${name} is free in ${region}; ${file} does not exist`);
  plan.calls.push({
    api: 'ec2:CreateKeyPair',
    target: name,
    region,
    what: `create ${type.toUpperCase()} key pair ${name}; its private key is written to ${file} (mode 0600) and shown nowhere`,
    run: async () => {
      const made = await ops.createKeyPair(region, name, type, incident.id);
      try {
        writePrivateKey(folder, name, made.material);
      } catch (e) {
        // A key pair whose private key is lost is useless: take it back.
        await ops.deleteKeyPair(region, name).catch(() => undefined);
        throw new KeysentryError(`could not write ${file} (${(e as Error).message}); the new key pair was deleted again`);
      }
      return `${made.id ?? name}, fingerprint ${made.fingerprint ?? '?'}, private key in ${file}`;
    },
  });
  plan.warnings.push(`Instances launched with ${r.id} do not get the new key: add its public key (ssh-keygen -y -f ${file}) to ~/.ssh/authorized_keys on each, remove the old one there, or relaunch them from an AMI with the new key pair.`);
  plan.warnings.push(`The old key pair ${r.id} stays until you delete it (its own action).`);
  return plan;
}

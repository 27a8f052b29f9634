import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/**
 * Which EC2 key pair is this private key? EC2 shows a key pair's fingerprint in one of three forms
 * (AWS's "Verify your key pair's fingerprint"):
 *  - a key imported into EC2 (RSA): MD5 of the public key in DER (SubjectPublicKeyInfo), colon hex;
 *  - a key EC2 created (RSA): SHA-1 of the private key in PKCS#8 DER, colon hex;
 *  - ED25519, imported or created: SHA-256 of the OpenSSH public key blob, base64.
 * PEM keys (PKCS#1, PKCS#8, SEC1) are read with node:crypto; OpenSSH's own format
 * (`BEGIN OPENSSH PRIVATE KEY`, ssh-keygen's default) is parsed here, because node:crypto does not
 * read it. Encrypted keys cannot be fingerprinted without their passphrase, which is never asked.
 */
export type KeyPairFingerprints =
  | { ok: true; algorithm: 'rsa' | 'ed25519' | 'ecdsa' | 'other'; imported?: string; created?: string; ed25519?: string; openssh?: string }
  | { ok: false; reason: 'encrypted' | 'unreadable'; detail: string };

const colonHex = (b: Buffer): string => b.toString('hex').match(/../g)!.join(':');
const md5 = (b: Buffer): string => colonHex(createHash('md5').update(b).digest());
const sha1 = (b: Buffer): string => colonHex(createHash('sha1').update(b).digest());
const sha256b64 = (b: Buffer): string => createHash('sha256').update(b).digest('base64');

/** SSH wire encoding of a string. */
const sshString = (b: Buffer): Buffer => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
};
/** SSH mpint from an unsigned big-endian magnitude. */
const mpint = (b: Buffer): Buffer => {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return sshString(v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
};

/** The OpenSSH public key blob of a key (for the `ssh-ed25519 AAAA…` line and ED25519's fingerprint). */
function opensshBlob(pub: KeyObject): Buffer | undefined {
  const jwk = pub.export({ format: 'jwk' }) as { kty?: string; crv?: string; x?: string; n?: string; e?: string };
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && jwk.x) return Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(Buffer.from(jwk.x, 'base64url'))]);
  if (jwk.kty === 'RSA' && jwk.n && jwk.e) return Buffer.concat([sshString(Buffer.from('ssh-rsa')), mpint(Buffer.from(jwk.e, 'base64url')), mpint(Buffer.from(jwk.n, 'base64url'))]);
  return undefined;
}

function fromKeyObjects(priv: KeyObject | undefined, pub: KeyObject): KeyPairFingerprints {
  const type = pub.asymmetricKeyType;
  const blob = opensshBlob(pub);
  const openssh = blob ? `${blob.subarray(4, 4 + blob.readUInt32BE(0)).toString()} ${blob.toString('base64')}` : undefined;
  if (type === 'ed25519') return { ok: true, algorithm: 'ed25519', ed25519: blob ? sha256b64(blob) : undefined, openssh };
  if (type === 'rsa') {
    return {
      ok: true,
      algorithm: 'rsa',
      imported: md5(pub.export({ type: 'spki', format: 'der' })),
      ...(priv ? { created: sha1(priv.export({ type: 'pkcs8', format: 'der' })) } : {}),
      openssh,
    };
  }
  // EC2 key pairs are RSA or ED25519; others are reported without an EC2 fingerprint.
  return { ok: true, algorithm: type === 'ec' ? 'ecdsa' : 'other', imported: md5(pub.export({ type: 'spki', format: 'der' })) };
}

/** A cursor over SSH wire data that never reads past the end. */
class Wire {
  private at = 0;
  constructor(private readonly b: Buffer) {}
  u32(): number {
    if (this.at + 4 > this.b.length) throw new Error('truncated');
    const v = this.b.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  bytes(): Buffer {
    const n = this.u32();
    if (n > this.b.length - this.at) throw new Error('truncated');
    const v = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
}

function fromOpenssh(pem: string): KeyPairFingerprints {
  const body = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(pem)?.[1];
  if (!body) return { ok: false, reason: 'unreadable', detail: 'no OpenSSH key block' };
  const raw = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  const magic = Buffer.from('openssh-key-v1\0');
  if (!raw.subarray(0, magic.length).equals(magic)) return { ok: false, reason: 'unreadable', detail: 'not an openssh-key-v1 key' };
  try {
    const w = new Wire(raw.subarray(magic.length));
    const cipher = w.bytes().toString();
    w.bytes(); // kdf name
    w.bytes(); // kdf options
    if (w.u32() < 1) throw new Error('no key');
    const blob = w.bytes();
    if (cipher !== 'none') return { ok: false, reason: 'encrypted', detail: `the key is encrypted (${cipher}): it cannot be fingerprinted without its passphrase, which Keysentry never asks for` };
    const pw = new Wire(blob);
    const kind = pw.bytes().toString();
    if (kind === 'ssh-ed25519') {
      const x = pw.bytes();
      return fromKeyObjects(undefined, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: x.toString('base64url') }, format: 'jwk' }));
    }
    if (kind === 'ssh-rsa') {
      const e = pw.bytes();
      const n = pw.bytes();
      const strip = (b: Buffer): string => (b[0] === 0 ? b.subarray(1) : b).toString('base64url');
      return fromKeyObjects(undefined, createPublicKey({ key: { kty: 'RSA', n: strip(n), e: strip(e) }, format: 'jwk' }));
    }
    return { ok: true, algorithm: kind.startsWith('ecdsa') ? 'ecdsa' : 'other', openssh: `${kind} ${blob.toString('base64')}` };
  } catch (e) {
    return { ok: false, reason: 'unreadable', detail: `malformed OpenSSH key (${(e as Error).message})` };
  }
}

/** The fingerprints EC2 would show for this private key (PEM or OpenSSH text). Never throws. */
export function keyPairFingerprints(text: string): KeyPairFingerprints {
  if (text.length > 64 * 1024) return { ok: false, reason: 'unreadable', detail: 'larger than any private key' };
  if (text.includes('BEGIN OPENSSH PRIVATE KEY')) return fromOpenssh(text);
  if (/Proc-Type: 4,ENCRYPTED|BEGIN ENCRYPTED PRIVATE KEY/.test(text)) {
    return { ok: false, reason: 'encrypted', detail: 'the key is encrypted: it cannot be fingerprinted without its passphrase, which Keysentry never asks for' };
  }
  try {
    const priv = createPrivateKey({ key: text, format: 'pem' });
    return fromKeyObjects(priv, createPublicKey(priv));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (/PASSPHRASE/.test(code)) return { ok: false, reason: 'encrypted', detail: 'the key is encrypted: it cannot be fingerprinted without its passphrase, which Keysentry never asks for' };
    return { ok: false, reason: 'unreadable', detail: `not a private key node:crypto can read (${code || (e as Error).message.slice(0, 80)})` };
  }
}

/** Whether an EC2 key pair's `KeyFingerprint` is this key's (any form; base64 padding ignored). */
export function matchesKeyPair(f: KeyPairFingerprints, ec2Fingerprint: string): boolean {
  if (!f.ok) return false;
  // Colon hex compares without case; base64 (ED25519) compares exactly, padding aside.
  const norm = (s: string): string => (s.includes(':') ? s.trim().toLowerCase() : s.trim().replace(/=+$/, ''));
  const want = norm(ec2Fingerprint);
  return [f.imported, f.created, f.ed25519].some((x) => x !== undefined && norm(x) === want);
}

/**
 * The shapes Keysentry looks for. Facts from the public rule sets of gitleaks, trufflehog,
 * git-secrets and secretlint, reimplemented here.
 */

/** Access key id prefixes that are credentials (AKIA long-term, ASIA temporary, ABIA/ACCA service, A3T legacy). */
export const KEY_ID_SOURCE = String.raw`(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}`;
export const keyIdRegex = (): RegExp => new RegExp(String.raw`(?<![A-Za-z0-9])${KEY_ID_SOURCE}(?![A-Za-z0-9])`, 'g');
export const isKeyIdShape = (s: string): boolean => new RegExp(`^${KEY_ID_SOURCE}$`).test(s);

/** A 40-character run of the secret-key alphabet, not part of a longer run. May end in `/` or `+`. */
export const secretCandidateRegex = (): RegExp => /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])/g;

/** The name side of an assignment whose value is a secret key: `aws_secret_access_key = `, `"SecretAccessKey": "`, `secretKey: '` ... */
export const SECRET_NAME_BEFORE = /(?:secret|Secret|SECRET)[A-Za-z0-9_.-]{0,30}(?:\\?["'`])?\s*(?::=|=>|:|=|,)\s*(?:\\?["'`])?\s*$/;

/**
 * A `secret` name is an AWS secret key's name only with AWS context: the name says key or access
 * (`secretKey`, `aws_secret_access_key`, `SECRET_ACCESS`), or the line says aws. A 40-character
 * value behind `secret_looks_like_linux_path =` alone is not reported (no pairing id nearby).
 */
export const AWS_SECRET_CONTEXT = /[Ss]ecret[_.-]?(?:[Aa]ccess[_.-]?)?[Kk]ey|SECRET[_.-]?(?:ACCESS[_.-]?)?KEY|[Ss]ecret[_.-]?[Aa]ccess|SECRET[_.-]?ACCESS|aws|AWS|Aws/;

/** Session tokens: long base64 holding the markers of an STS token (`IQoJb3JpZ2luX2Vj`, or `YXdz` = "aws" in older ones). */
export const sessionTokenRegex = (): RegExp => /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{100,}={0,2}(?![A-Za-z0-9+/=])/g;
export const SESSION_TOKEN_MARKERS = ['IQoJb3JpZ2luX2Vj', 'YXdz'];
/** A session token's name: `aws_session_token`, `SessionToken`, `X-Amz-Security-Token`. Also an anchor: a named token needs no marker. */
export const SESSION_NAME_SOURCE = String.raw`(?:[Ss]ession|SESSION|[Ss]ecurity|SECURITY)[_-]?(?:[Tt]oken|TOKEN)`;
export const SESSION_NAME_BEFORE = new RegExp(SESSION_NAME_SOURCE + String.raw`[A-Za-z0-9_.-]{0,10}(?:\\?["'\x60])?\s*(?::=|=>|:|=|,)\s*(?:\\?["'\x60])?\s*$`);

/** PEM private keys of every common type, including `ENCRYPTED PRIVATE KEY`; the body may be JSON-escaped. */
export const pemPrivateKeyRegex = (): RegExp =>
  /-----BEGIN[ ]?((?:[A-Z0-9]+ )?PRIVATE KEY(?: BLOCK)?)-----([\s\S]{0,20000}?)-----END[ ]?(?:[A-Z0-9]+ )?PRIVATE KEY(?: BLOCK)?-----/g;

/** PuTTY private key files (`.ppk`, versions 2 and 3). */
export const puttyKeyRegex = (): RegExp => /PuTTY-User-Key-File-[23]: [^\r\n]*(?:\r?\n[^\r\n]*){0,40}?\r?\nPrivate-Lines: (\d+)((?:\r?\n[A-Za-z0-9+/=]+){1,200})/g;

/** The plain anchors whose base64 forms mark a run worth decoding (see excerpt.ts for their windows). */
// Kept short: every file's bytes are searched for these (the first pass), and each alternative costs.
// `ecret`/`ECRET` cover secret, Secret and SECRET; a base64 token carries the STS marker.
const ENCODED_LITERALS = ['AKIA', 'ASIA', 'PRIVATE KEY', 'ecret', 'ECRET', 'IQoJb3JpZ2luX2Vj'];

/** The characters of base64(pad + literal) that depend on the literal alone, for each of the 3 paddings. */
function encodedForms(literal: string): string[] {
  const out = new Set<string>();
  const bytes = Buffer.from(literal, 'latin1');
  for (let k = 0; k < 3; k++) {
    const enc = Buffer.concat([Buffer.alloc(k), bytes, Buffer.alloc(3)]).toString('base64');
    const first = Math.ceil((8 * k) / 6);
    const last = Math.floor((8 * (k + bytes.length)) / 6) - 1;
    const s = enc.slice(first, last + 1);
    out.add(s);
    out.add(s.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...out];
}

const escape = (s: string): string => s.replace(/[+/]/g, (c) => `\\${c}`);
/** Every encoded anchor, as a regex source: base64 runs holding one are decoded (decode.ts). */
export const ENCODED_ANCHOR_SOURCE = [...new Set(ENCODED_LITERALS.flatMap(encodedForms))].map(escape).join('|');

/**
 * The literal strings at least one rule needs to see before it can report anything.
 * Every rule (secretlint's and ours) requires one of them inside or beside its match, so a file
 * without any of them cannot hold a finding; the equivalence test checks that claim.
 */
export const ANCHOR_SOURCE = String.raw`A(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])|PRIVATE KEY|PuTTY-User-Key-File-|[Ss]ecret|SECRET|IQoJb3JpZ2luX2Vj|YXdz|${SESSION_NAME_SOURCE}|PRIVATE%20KEY|${ENCODED_ANCHOR_SOURCE}`;
export const anchorRegex = (): RegExp => new RegExp(ANCHOR_SOURCE, 'g');

/** File names that hold key pairs or private keys. Public halves (`.pub`) are not secrets. */
export function isKeyFileName(relPath: string): boolean {
  const base = relPath.slice(relPath.lastIndexOf('/') + 1).toLowerCase();
  if (base.endsWith('.pub')) return false;
  if (/^id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?$/.test(base)) return true;
  return /\.(?:pem|ppk|p12|pfx|key|jks|keystore|jceks|snk)$/.test(base);
}

const isDer = (b: Uint8Array): boolean => b.length >= 64 && b[0] === 0x30 && (b[1] === 0x82 || b[1] === 0x83 || b[1] === 0x80);

/** PKCS#12 (`.p12`, `.pfx`) files are binary DER: a SEQUENCE tag first. */
export function looksLikePkcs12(relPath: string, bytes: Uint8Array): boolean {
  return /\.(?:p12|pfx)$/i.test(relPath) && isDer(bytes);
}

/** The PKCS#12 bag types that hold a private key: keyBag and pkcs8ShroudedKeyBag (1.2.840.113549.1.12.10.1.1 and .2), as DER. */
const KEY_BAG_OIDS = [Buffer.from('060b2a864886f70d010c0a0101', 'hex'), Buffer.from('060b2a864886f70d010c0a0102', 'hex')];

/**
 * Does a Java key store hold a private (or secret) key? JKS (magic FEEDFEED) and JCEKS (CECECECE)
 * list their entries in the clear: tag 1 is a private key, 3 a secret key, 2 a trusted certificate
 * (a truststore of certificates is not a leak). A PKCS#12 key store (the JDK's default since 9)
 * names its key bags in the clear. Bounded: at most 10,000 entries are read.
 */
function javaKeyStoreHoldsKey(b: Buffer): boolean {
  if (isDer(b)) return KEY_BAG_OIDS.some((oid) => b.includes(oid));
  if (b.length < 12) return false;
  const magic = b.readUInt32BE(0);
  if (magic !== 0xfeedfeed && magic !== 0xcececece) return false;
  const version = b.readUInt32BE(4);
  const count = Math.min(b.readUInt32BE(8), 10_000);
  let at = 12;
  const need = (n: number): boolean => at + n <= b.length;
  const utf = (): boolean => {
    if (!need(2)) return false;
    const n = b.readUInt16BE(at);
    at += 2 + n;
    return at <= b.length;
  };
  for (let i = 0; i < count; i++) {
    if (!need(4)) return false;
    const tag = b.readUInt32BE(at);
    at += 4;
    if (tag === 1 || tag === 3) return true;
    if (tag !== 2) return false;
    if (!utf() || !need(8)) return false; // alias, then the date
    at += 8;
    if (version === 2 && !utf()) return false; // certificate type
    if (!need(4)) return false;
    at += 4 + b.readUInt32BE(at);
    if (at > b.length) return false;
  }
  return false;
}

/** A .NET strong-name key pair: a PRIVATEKEYBLOB (type 7, version 2) with the RSA2 magic; public-only `.snk` files hold RSA1. */
const snkHoldsKey = (b: Buffer): boolean => b.length >= 20 && b[0] === 0x07 && b[1] === 0x02 && b.subarray(8, 12).toString('latin1') === 'RSA2';

/** A binary key container named as one, that holds a private key: its description, else undefined. */
export function keyContainerKind(relPath: string, bytes: Buffer): string | undefined {
  const ext = /\.([A-Za-z0-9]+)$/.exec(relPath)?.[1]?.toLowerCase();
  if ((ext === 'p12' || ext === 'pfx') && looksLikePkcs12(relPath, bytes)) return 'PKCS#12 key container';
  if ((ext === 'jks' || ext === 'keystore' || ext === 'jceks') && javaKeyStoreHoldsKey(bytes)) return 'Java key store with a private key';
  if (ext === 'snk' && snkHoldsKey(bytes)) return '.NET strong-name key pair';
  return undefined;
}

import { shannonEntropy } from './entropy';

/**
 * Checks that keep false alarms out: documentation examples, placeholders, hashes, identifiers.
 * Each returns true when the value is worth reporting.
 */

const PLACEHOLDER = /EXAMPLE|X{4,}|(.)\1{4,}/i;

export function isPlausibleKeyId(id: string): boolean {
  const body = id.slice(4);
  if (/EXAMPLE$/.test(id) || PLACEHOLDER.test(body)) return false;
  return new Set(body).size >= 6;
}

export function isPlausibleSecretKey(value: string): boolean {
  if (value.length !== 40 || /[^A-Za-z0-9+/]/.test(value)) return false;
  if (PLACEHOLDER.test(value)) return false;
  if (/^[0-9a-f]+$/.test(value) || /^[0-9A-F]+$/.test(value)) return false; // git SHAs, hex digests
  if (!/[a-z]/.test(value) || !/[A-Z]/.test(value)) return false; // base32, upper/lower-only identifiers
  if (!/[0-9+/]/.test(value)) return false; // CamelCase words
  if ((value.match(/\//g) ?? []).length >= 5) return false; // paths
  return shannonEntropy(value) >= 4.0;
}

export function isPlausibleSessionToken(value: string): boolean {
  if (PLACEHOLDER.test(value)) return false;
  return shannonEntropy(value) >= 4.5;
}

/** Normalises a PEM/PuTTY body (JSON escapes, notebook string arrays, CRLF, headers) to bare base64. */
export function normalisePemBody(body: string): string {
  return body
    .replace(/\\[nrt]/g, '\n')
    .split('\n')
    .map((l) => l.replace(/^[\s",]+|[\s",]+$/g, ''))
    .filter((l) => l.length > 0 && !/^[A-Za-z-]+:\s/.test(l) && !/^=[A-Za-z0-9+/]{4}$/.test(l))
    .join('');
}

/** A real key body is long base64 with varied characters; placeholders are `...`, short, or repetitive. */
export function isPlausiblePemBody(normalised: string): boolean {
  if (normalised.length < 100) return false;
  if (!/^[A-Za-z0-9+/]+=*$/.test(normalised)) return false;
  // Real OpenSSH bodies hold long runs of `A` (zero bytes), so only words and X-runs count as placeholders.
  if (/EXAMPLE|X{8,}/i.test(normalised)) return false;
  return shannonEntropy(normalised) >= 4.5;
}

const STRICT_B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Base64 to bytes, only when it is well-formed standard base64 (length a multiple of 4 after padding). */
function strictBase64(s: string): Buffer | undefined {
  if (s.length < 8 || !STRICT_B64.test(s)) return undefined;
  const padded = s.length % 4 === 0 ? s : s.length % 4 === 1 ? undefined : s + '='.repeat(4 - (s.length % 4));
  return padded === undefined ? undefined : Buffer.from(padded, 'base64');
}

/** A DER SEQUENCE whose length field accounts for exactly the bytes there are (PKCS#1, PKCS#8, SEC1, encrypted PKCS#8). */
function isDerSequence(b: Buffer): boolean {
  if (b.length < 40 || b[0] !== 0x30) return false;
  const l = b[1] as number;
  if (l < 0x80) return 2 + l === b.length;
  const n = l & 0x7f;
  if (n < 1 || n > 3 || b.length < 2 + n) return false;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + (b[2 + i] as number);
  return 2 + n + len === b.length;
}

/** OpenPGP secret-key packet first: old format tag 5 (0x94-0x97) or new format 0xC5. */
const isPgpSecretKey = (b: Buffer): boolean => b.length >= 40 && ((b[0] as number) >> 2 === 0x25 || b[0] === 0xc5);

/** PuTTY's private blob: SSH wire strings/mpints, the first one's length within the blob. */
function isSshWireBlob(b: Buffer): boolean {
  if (b.length < 20) return false;
  const l = b.readUInt32BE(0);
  return l > 0 && 4 + l <= b.length;
}

/**
 * Does the decoded body have a private key's structure? A rewrapped body (`exact` false: lines
 * taken from behind prefixes) must prove it by a length that accounts for every byte (DER), so
 * that a block running on into other text is not taken for a key because of its first line.
 */
function hasKeyStructure(b: Buffer | undefined, putty: boolean, exact: boolean): boolean {
  if (!b) return false;
  if (putty) return exact && isSshWireBlob(b);
  return isDerSequence(b) || (exact && (b.subarray(0, 15).toString('latin1') === 'openssh-key-v1\0' || isPgpSecretKey(b)));
}

/** Each line's last base64 run of 4 or more characters: a body behind log prefixes (`12:00:01 [build] MIIE…`), comment leaders (` * `, `// `, `# `) or string concatenation (`"MIIE…\n" +`). */
function lastRunPerLine(body: string): string {
  const lines = body.replace(/\\[nrt]/g, '\n').split('\n');
  // The last line is what precedes the END marker on its line: a log prefix (`… [deploy] `), not body.
  if (lines.length > 1 && /[^A-Za-z0-9+/=]$/.test(lines[lines.length - 1] as string)) lines.pop();
  return lines
    .filter((l) => !/(?:^|\s)(?:Proc-Type|DEK-Info|Version|Comment|Hash|Charset|MessageID):\s/.test(l))
    .map((l) => {
      const runs = l.match(/[A-Za-z0-9+/=]{4,}/g);
      return runs ? (runs[runs.length - 1] as string) : '';
    })
    .filter((r) => r.length > 0 && !/^=[A-Za-z0-9+/]{4}$/.test(r))
    .join('');
}

/**
 * The body a private-key block is fingerprinted by, or undefined when the block is not a key (a
 * placeholder, a header constant in code, `...`). Validated by decoding, not by length: what is
 * left after stripping the wrapper must decode to a key's structure (a DER SEQUENCE of exactly the
 * decoded length, an OpenSSH key, an OpenPGP secret-key packet, PuTTY's SSH wire blob), so short
 * keys (Ed25519/X25519 PKCS#8: 64 characters; ML-DSA seeds; EC P-256) count and long random text
 * does not need to. Tried in order: the plain body (the fingerprint every earlier version used),
 * each line's last base64 run (log prefixes, comments, concatenation), every base64 character
 * (chunks separated by spaces in a JSON string). Bodies that decode to no known structure (a legacy
 * `Proc-Type: 4,ENCRYPTED` body is ciphertext) are kept by the former test: long, varied base64.
 */
export function validPemBody(rawBody: string, putty = false): string | undefined {
  const plain = normalisePemBody(rawBody);
  const candidates = [plain, lastRunPerLine(rawBody), rawBody.replace(/\\[nrt]/g, ' ').replace(/[^A-Za-z0-9+/=]|^=[A-Za-z0-9+/]{4}$/gm, '')];
  for (const [i, c] of candidates.entries()) {
    if (/EXAMPLE|X{8,}/i.test(c)) return undefined;
    if (hasKeyStructure(strictBase64(c), putty, i === 0)) return c;
  }
  return isPlausiblePemBody(plain) ? plain : undefined;
}

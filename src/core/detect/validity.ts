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

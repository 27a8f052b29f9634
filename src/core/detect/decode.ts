import { pairedFieldName } from './ownRules';
import { AWS_SECRET_CONTEXT, ENCODED_ANCHOR_SOURCE, SECRET_NAME_BEFORE, SESSION_NAME_BEFORE, SESSION_NAME_SOURCE } from './patterns';

/**
 * Credentials written encoded: base64 (Kubernetes `Secret` data, Helm values, a CI variable
 * holding a base64 PEM `LS0tLS1CRUdJTi…`, a whole credentials file in base64) and percent-encoding
 * (presigned S3 URLs `X-Amz-Security-Token=…%2B…`, `s3://AKIA…:SECRET%2F…@bucket`, query strings).
 *
 * Only candidates are decoded, and a candidate is cheap to recognise:
 *   - a base64 run (16 to 64 KiB characters) holding the base64 form of an anchor (ENCODED_ANCHORS:
 *     `AKIA`, `PRIVATE KEY`, `secret`, the STS marker, … at each of the three byte alignments), or
 *     written right after a secret's or a session token's name (`AWS_SECRET_ACCESS_KEY: <base64>`);
 *   - a percent-encoded run holding `%2F`, `%2B` or `%3D`.
 * A candidate is decoded only when the bytes are text (UTF-8, no control characters but tab and
 * newlines); the rules then run on its line's prefix followed by the decoded text, so a name before
 * the value still names it, and what they find is reported at the encoded value's place.
 */

/** Base64 (standard and URL-safe) runs worth a look. */
const B64_RUN = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,65536}={0,2}(?![A-Za-z0-9+/=_-])/g;
/** Percent-encoded runs: URL characters with at least one encoded `/`, `+` or `=`. */
const PCT_RUN = /[A-Za-z0-9+/=%._~-]{16,65536}/g;
const PCT_MARK = /%(?:2[BbFf]|3[Dd])/;

const ENCODED_ANCHOR = new RegExp(ENCODED_ANCHOR_SOURCE);
const SESSION_NAME = new RegExp(SESSION_NAME_SOURCE);
const SECRET_WORD = /secret|Secret|SECRET/;

/** At most this many candidates are decoded per text; past it the file is reported as partially scanned. */
export const MAX_DECODED_PER_TEXT = 10_000;
/** Decoded text inside decoded text is scanned this many levels deep (base64 of a base64 PEM), no deeper. */
export const MAX_DECODE_DEPTH = 2;

export interface DecodedRegion {
  /** Offsets of the encoded run in the text searched. */
  start: number;
  end: number;
  /** The run's line up to it (at most 200 characters), then the decoded text: what the rules read. */
  text: string;
  /** Length of the prefix part of `text`: findings that start before it are not the run's. */
  prefixLength: number;
  how: 'base64' | 'percent';
}

function linePrefix(text: string, at: number): string {
  const window = text.slice(Math.max(0, at - 200), at);
  return window.slice(window.lastIndexOf('\n') + 1);
}

function named(text: string, at: number, prefix: string): boolean {
  if ((SECRET_NAME_BEFORE.test(prefix) && AWS_SECRET_CONTEXT.test(prefix)) || SESSION_NAME_BEFORE.test(prefix)) return true;
  const field = pairedFieldName(text, at);
  return !!field && ((SECRET_WORD.test(field) && AWS_SECRET_CONTEXT.test(field)) || SESSION_NAME.test(field));
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as text, or undefined when they are not text (binary, ciphertext, compressed). */
function asText(bytes: Uint8Array): string | undefined {
  if (bytes.length < 8) return undefined;
  for (const b of bytes) if ((b < 0x20 && b !== 9 && b !== 10 && b !== 13) || b === 0x7f) return undefined;
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function decodeBase64(run: string): string | undefined {
  const std = run.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (std.length % 4 === 1) return undefined;
  return asText(Buffer.from(std, 'base64'));
}

function decodePercent(run: string): string | undefined {
  const bytes = Buffer.from(
    run.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  );
  return asText(bytes);
}

/**
 * The decodable candidates in `text`, in order. `truncated` when more than `max` were found (the
 * rest are not decoded; the caller reports the file as partially scanned).
 */
export function decodedRegions(text: string, max = MAX_DECODED_PER_TEXT): { regions: DecodedRegion[]; truncated: boolean } {
  const regions: DecodedRegion[] = [];
  const push = (r: DecodedRegion): boolean => {
    if (regions.length >= max) return false;
    regions.push(r);
    return true;
  };
  for (const m of text.matchAll(B64_RUN)) {
    const run = m[0];
    const prefix = linePrefix(text, m.index);
    if (!ENCODED_ANCHOR.test(run) && !(run.length >= 24 && named(text, m.index, prefix))) continue;
    const decoded = decodeBase64(run);
    if (decoded === undefined) continue;
    if (!push({ start: m.index, end: m.index + run.length, text: prefix + decoded, prefixLength: prefix.length, how: 'base64' })) return { regions, truncated: true };
  }
  for (const m of text.matchAll(PCT_RUN)) {
    const run = m[0];
    if (!PCT_MARK.test(run)) continue;
    const decoded = decodePercent(run);
    if (decoded === undefined) continue;
    const prefix = linePrefix(text, m.index);
    if (!push({ start: m.index, end: m.index + run.length, text: prefix + decoded, prefixLength: prefix.length, how: 'percent' })) return { regions, truncated: true };
  }
  return { regions, truncated: false };
}

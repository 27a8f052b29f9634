import path from 'node:path';
import { accountIdFromKeyId } from './accountId';
import { scanText, sha256 } from './engine';
import { keyIdRegex, isKeyIdShape } from './patterns';
import { isPlausibleKeyId, isPlausibleSecretKey } from './validity';
import { maskSecret } from '../mask';
import type { Finding } from '../types';

/**
 * Keys in *names*: a file committed as `creds/AKIA…_<secret>.txt`, a folder named after the key,
 * a symlink whose target is such a name, a ref pushed as `refs/heads/AKIA…`. The name is sent to
 * the remote (and shown by every listing) just like content, so it is scanned like content.
 *
 * Why not scanText alone: `/` is both a path separator and a character of secret keys (about half
 * of all secrets hold one). A secret that starts a path segment (`creds/<secret>`) runs into the
 * segment before it, and one that holds a `/` spans two segments, so neither boundary rule of the
 * content scanner fits. Here every 40-character run of the secret alphabet that starts at the
 * start of a segment (or after a character outside the alphabet) and ends at the end of one is a
 * candidate; there is at most one candidate per start, so this is linear in the name's length.
 * A candidate is reported when the name also holds an access key id (a lone 40-character run in a
 * name is far more often a hash than a key); named secrets (`aws_secret_access_key=…`) and other
 * kinds come from the content scanner run over the name.
 */
export const PATH_NAME_RULE = 'keysentry/path-name';
/** Prefix of `Finding.file` for a finding in a file's name (the editor does not open it as a location). */
export const FILE_NAME_LABEL = '(file name) ';
export const REF_NAME_LABEL = '(ref name) ';
export const SYMLINK_LABEL = '(symlink target) ';

/** Only names with one of these can hold a finding: everything else costs one regex test. */
const WORTH_SCANNING = /A(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])|[Ss]ecret|SECRET|PRIVATE KEY|IQoJb3JpZ2luX2Vj/;
const ALPHABET = /[A-Za-z0-9+/]/;
const RUN_40 = /[A-Za-z0-9+/]{40}/;
/** Compiled once: a RegExp built per name costs more than the whole test of that name. */
const KEY_ID = keyIdRegex();

/** The strings of a name that can be a 40-character secret key (see above), with their offsets. */
function secretCandidates(name: string): Array<{ start: number; value: string }> {
  if (!RUN_40.test(name)) return [];
  const n = name.length;
  // runEnd[i]: end (exclusive) of the run of alphabet characters that holds position i.
  const runEnd = new Int32Array(n + 1);
  runEnd[n] = n;
  for (let i = n - 1; i >= 0; i--) runEnd[i] = ALPHABET.test(name[i] as string) ? (i + 1 < n && ALPHABET.test(name[i + 1] as string) ? (runEnd[i + 1] as number) : i + 1) : i;
  const out: Array<{ start: number; value: string }> = [];
  for (let p = 0; p + 40 <= n; p++) {
    if (!ALPHABET.test(name[p] as string)) continue;
    const before = p === 0 ? '' : (name[p - 1] as string);
    const startsSegment = before === '' || !ALPHABET.test(before) || (before === '/' && name[p] !== '/');
    if (!startsSegment) continue;
    const q = p + 40;
    if ((runEnd[p] as number) < q) continue;
    if (q !== runEnd[p] && name[q] !== '/') continue;
    out.push({ start: p, value: name.slice(p, q) });
  }
  return out;
}

/**
 * Findings in one name. `shown` is the `file` of each finding (a label and the name; callers
 * redact it before display). Positions are on line 1, in UTF-16 code units of the name.
 */
export async function scanPathName(name: string, shown: string, baseline?: ReadonlySet<string>): Promise<Finding[]> {
  if (!WORTH_SCANNING.test(name)) return [];
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add = (f: Finding): void => {
    const key = `${f.kind}\0${f.fingerprint}`;
    if (seen.has(key) || baseline?.has(f.fingerprint)) return;
    seen.add(key);
    findings.push(f);
  };
  const at = (start: number, length: number): Pick<Finding, 'line' | 'column' | 'endLine' | 'endColumn'> => ({ line: 1, column: start + 1, endLine: 1, endColumn: start + length + 1 });
  const ids: Array<{ start: number; end: number; value: string }> = [];
  KEY_ID.lastIndex = 0;
  for (const m of name.matchAll(KEY_ID)) {
    if (!isKeyIdShape(m[0]) || !isPlausibleKeyId(m[0])) continue;
    ids.push({ start: m.index, end: m.index + m[0].length, value: m[0] });
    const accountId = accountIdFromKeyId(m[0]);
    add({ file: shown, ...at(m.index, m[0].length), kind: 'aws-access-key-id', rule: PATH_NAME_RULE, preview: maskSecret('aws-access-key-id', m[0]), fingerprint: sha256(m[0]), ...(accountId ? { accountId } : {}) });
  }
  const candidates = secretCandidates(name);
  if (ids.length) {
    for (const c of candidates) {
      const end = c.start + 40;
      if (ids.some((id) => id.start < end && c.start < id.end) || !isPlausibleSecretKey(c.value)) continue;
      // The nearest id in the name (names are short: a linear look is fine, and bounded by the id count).
      let best = ids[0] as (typeof ids)[number];
      for (const id of ids) if (Math.abs(id.start - c.start) < Math.abs(best.start - c.start)) best = id;
      add({ file: shown, ...at(c.start, 40), kind: 'aws-secret-access-key', rule: PATH_NAME_RULE, preview: maskSecret('aws-secret-access-key', c.value), fingerprint: sha256(c.value), pairedKeyId: best.value });
    }
  }
  // Named secrets, tokens and the rest, by the content rules; over the name as it is and with each
  // `/` read as a line break (a segment boundary), so a secret on either side of one is seen.
  // The content rules only when the name holds something secret-shaped: a 40-character candidate
  // (a named secret), a token-length run, a private key header. Most names (a `secrets/` folder,
  // an `AKIA/` folder) stop here, so a push of many files costs a few regex tests per name.
  if (!candidates.length && !/PRIVATE KEY|PuTTY-User-Key-File-|[A-Za-z0-9+/]{100}/.test(name)) return findings;
  // The texts have the name's length, so a (line, column) maps back to one offset in the name.
  const offsetIn = (text: string): ((line: number, column: number) => number) => {
    const starts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
    return (line, column) => (starts[line - 1] ?? 0) + column - 1;
  };
  for (const text of new Set([name, name.replace(/\//g, '\n')])) {
    const offset = offsetIn(text);
    for (const f of await scanText(text, shown, { baseline })) {
      const start = offset(f.line, f.column);
      const end = offset(f.endLine, f.endColumn);
      add({ ...f, rule: PATH_NAME_RULE, ...at(start, Math.max(0, end - start)) });
    }
  }
  return findings;
}

/**
 * For `keysentry scan`: the findings in a listed file's name (relative to the scan root), each
 * secret once per scan (`seen` holds the fingerprints already reported). Names that are not UTF-8
 * are read byte for byte (latin1), so the ASCII of a key in them is still seen.
 */
export async function scanListedName(root: string, abs: string | Buffer, shown: string, seen: Set<string>): Promise<Finding[]> {
  const rel = typeof abs === 'string' ? path.relative(root, abs) : path.relative(Buffer.from(root).toString('latin1'), abs.toString('latin1'));
  const found = await scanPathName(rel.split(path.sep).join('/'), FILE_NAME_LABEL + shown);
  return found.filter((f) => !seen.has(f.fingerprint) && !!seen.add(f.fingerprint));
}

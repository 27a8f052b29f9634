/**
 * A profile of the shared credentials file as a rotation's destination (`--to-profile NAME`): for
 * a key that no file holds (an audit's old key), or instead of a file git tracks. The new pair goes
 * into `[NAME]`: in place of the old pair when the profile holds it, else added to the section
 * (created at the end of the file when missing). A rollback takes out exactly the lines it added.
 */
import { existsSync } from 'node:fs';
import { writeProblem } from '../atomicFile';
import { readTextFile } from './files';
import { locatePairs } from './locate';
import type { FileCheck } from './types';

/** Names the AWS CLI accepts and that cannot break out of `[…]` or a line. */
export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$/;

interface Section {
  /** Offset of the header line's start, and of the line after it. */
  headerStart: number;
  bodyStart: number;
  /** Offset where the next section begins (or the text's end). */
  end: number;
}

function findSection(text: string, name: string): Section | undefined {
  const re = /^[ \t]*\[([^\]\r\n]*)\][ \t]*\r?$/gm;
  let found: Section | undefined;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const lineEnd = text.indexOf('\n', m.index);
    const bodyStart = lineEnd === -1 ? text.length : lineEnd + 1;
    if (found) {
      found.end = m.index;
      return found;
    }
    if (m[1]!.trim() === name) found = { headerStart: m.index, bodyStart, end: text.length };
  }
  return found;
}

/** The id of the access key profile `name` holds now, if any. */
export function profileKeyId(text: string, name: string): string | undefined {
  const s = findSection(text, name);
  if (!s) return undefined;
  return /^[ \t]*aws_access_key_id[ \t]*=[ \t]*(\S+)/m.exec(text.slice(s.bodyStart, s.end))?.[1];
}

/**
 * Whether profile `name` of `file` can take the new pair of `keyId`: it holds `keyId` (rewritten in
 * place), holds no key (the pair is added), or is missing (the section is added); never when it
 * holds another key, which would be lost.
 */
export function inspectProfile(keyId: string, file: string, name: string): FileCheck {
  const base = { path: file, target: file, profile: name, places: [`[${name}] aws_access_key_id / [${name}] aws_secret_access_key`] };
  if (!PROFILE_NAME.test(name)) return { ...base, ok: false, reason: `"${name}" is not a profile name (letters, digits and _ . @ + -)` };
  if (!existsSync(file)) return { ...base, ok: true, add: true };
  const cannot = writeProblem(file);
  if (cannot) return { ...base, ok: false, reason: cannot };
  const { text, problem } = readTextFile(file);
  if (text === undefined) return { ...base, ok: false, reason: problem };
  const held = profileKeyId(text, name);
  if (held === keyId) {
    const { pairs, problems } = locatePairs(text, keyId, file);
    const here = pairs.filter((p) => p.place.startsWith(`[${name}] `));
    return here.length ? { ...base, ok: true, places: here.map((p) => p.place) } : { ...base, ok: false, reason: problems.join('; ') || `[${name}] holds ${keyId} without its secret` };
  }
  if (held) return { ...base, ok: false, reason: `profile [${name}] of ${file} already holds another key, ${held}: choose another profile name` };
  return { ...base, ok: true, add: true };
}

/** `text` with the pair added to profile `name` (after its header, or in a new section at the end). */
export function addProfilePair(text: string, name: string, id: string, secret: string): string {
  const nl = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = `aws_access_key_id = ${id}${nl}aws_secret_access_key = ${secret}${nl}`;
  const s = findSection(text, name);
  if (s) return text.slice(0, s.bodyStart) + (s.bodyStart === text.length && !text.endsWith('\n') ? nl : '') + lines + text.slice(s.bodyStart);
  const sep = text === '' ? '' : text.endsWith('\n') ? nl : nl + nl;
  return `${text}${sep}[${name}]${nl}${lines}`;
}

/**
 * `text` without the pair `addProfilePair` added (the two lines holding exactly `id` and `secret`),
 * and without the section header when the section is left empty; undefined when they are not there
 * as written (the user changed them since).
 */
export function removeProfilePair(text: string, name: string, id: string, secret: string): string | undefined {
  const s = findSection(text, name);
  if (!s) return undefined;
  const body = text.slice(s.bodyStart, s.end);
  const kept: string[] = [];
  let removed = 0;
  for (const line of body.split(/(?<=\n)/)) {
    const t = line.replace(/\r?\n$/, '').trim();
    if (t === `aws_access_key_id = ${id}` || t === `aws_secret_access_key = ${secret}`) removed++;
    else kept.push(line);
  }
  if (removed !== 2) return undefined;
  const rest = kept.join('');
  if (rest.trim() === '') {
    // The section is empty now: take its header out too, with the blank line addProfilePair put before it.
    let start = s.headerStart;
    if (text.slice(0, start).endsWith('\n\n')) start -= 1;
    else if (text.slice(0, start).endsWith('\r\n\r\n')) start -= 2;
    return text.slice(0, start) + text.slice(s.end);
  }
  return text.slice(0, s.bodyStart) + rest + text.slice(s.end);
}

import { scanText } from '../detect/engine';
import { LineIndex } from '../detect/lines';

/**
 * Puts a new key where the old one was, changing nothing else: every occurrence of the old key
 * id, and each secret the scanner pairs with it, are replaced in place. Comments, order, other
 * profiles, line endings and the rest of the file stay byte for byte.
 */
export interface KeyLocations {
  ids: Array<[number, number]>;
  secrets: Array<[number, number]>;
}

export async function locateKey(text: string, keyId: string, file = 'file'): Promise<KeyLocations> {
  const ids: Array<[number, number]> = [];
  for (let i = text.indexOf(keyId); i !== -1; i = text.indexOf(keyId, i + keyId.length)) ids.push([i, i + keyId.length]);
  if (!ids.length) return { ids, secrets: [] };
  const lines = new LineIndex(text);
  const findings = await scanText(text, file);
  const secrets = findings
    .filter((f) => f.kind === 'aws-secret-access-key' && f.pairedKeyId === keyId)
    .map((f): [number, number] => [lines.lineStart(f.line - 1) + f.column - 1, lines.lineStart(f.endLine - 1) + f.endColumn - 1]);
  return { ids, secrets };
}

/** The secret paired with `keyId` in `text` (to pick up a new key written before a crash). */
export async function secretFor(text: string, keyId: string): Promise<string | undefined> {
  const { secrets } = await locateKey(text, keyId);
  const first = secrets[0];
  return first ? text.slice(first[0], first[1]) : undefined;
}

/**
 * The text with the new key in place of the old; undefined when the old id is there without a
 * secret beside it (rewriting only the id would leave a broken pair).
 */
export async function replaceKey(text: string, oldId: string, newId: string, newSecret: string, file?: string): Promise<string | undefined> {
  const { ids, secrets } = await locateKey(text, oldId, file);
  if (!ids.length || !secrets.length) return undefined;
  const edits = [...ids.map(([s, e]) => ({ s, e, t: newId })), ...secrets.map(([s, e]) => ({ s, e, t: newSecret }))].sort((a, b) => b.s - a.s);
  let out = text;
  for (const { s, e, t } of edits) out = out.slice(0, s) + t + out.slice(e);
  return out;
}

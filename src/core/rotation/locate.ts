/**
 * Where a key id and its secret live in a file, found by the file's structure and never by the
 * scanner's heuristics (distance, entropy, "looks like a secret"): the rotation must find the
 * secret that belongs to an id even when it is nine lines below, has no digit, or sits in another
 * format than the scanner expects.
 *
 * A file is read as entries: a name, a value, the value's span, and a scope. Names pair when they
 * are in the same scope and share a prefix before an id suffix and a secret suffix
 * (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, `PROD_AWS_ACCESS_KEY_ID` /
 * `PROD_AWS_SECRET_ACCESS_KEY`, `accessKeyId` / `secretAccessKey`, `AccessKeyId` / `SecretAccessKey`):
 * - INI / credentials files: `name = value` lines, the scope is the `[section]`;
 * - `.env` and shell: `NAME=value` and `export NAME=value` (quoted or not), one scope per file;
 * - YAML: `name: value` in the same block mapping (indentation, `- ` list items);
 * - JSON (and JSON with comments, JavaScript-like object literals): keys of the same object.
 * Everything is one linear pass per format, over at most MAX_FILE_BYTES.
 */

export interface Span {
  start: number;
  end: number;
}

interface Entry {
  /** The name as written (`aws_access_key_id`, `AWS_SECRET_ACCESS_KEY`, `"SecretAccessKey"` without quotes). */
  name: string;
  value: string;
  span: Span;
  /** Entries pair only within one scope. */
  scope: string;
  /** Where a person finds it: `[dev] aws_access_key_id`, `services.api.environment.AWS_ACCESS_KEY_ID`. */
  place: string;
  line: number;
}

export interface KeyPair {
  id: Span;
  secret: Span;
  secretValue: string;
  /** `place of the id` + ` / ` + `place of the secret`: stable across edits elsewhere in the file. */
  place: string;
}

export interface Located {
  pairs: KeyPair[];
  /** Why an occurrence of the id has no pair (for the message when no pair is found). */
  problems: string[];
}

export const MAX_FILE_BYTES = 1024 * 1024;

/** A secret access key as AWS issues them: 40 characters of base64 without padding. */
export const SECRET_SHAPE = /^[A-Za-z0-9/+]{40}$/;

const ID_SUFFIXES = ['awsaccesskeyid', 'accesskeyid', 'awsaccesskey', 'accesskey'];
const SECRET_SUFFIXES = ['awssecretaccesskey', 'secretaccesskey', 'awssecretkey', 'secretkey'];
const norm = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

function idPrefixes(name: string): string[] {
  const n = norm(name);
  return ID_SUFFIXES.filter((s) => n.endsWith(s)).map((s) => n.slice(0, n.length - s.length));
}
function secretPrefix(name: string): string[] {
  const n = norm(name);
  return SECRET_SUFFIXES.filter((s) => n.endsWith(s)).map((s) => n.slice(0, n.length - s.length));
}

/** The lines of `text` with their start offsets; a line excludes its `\n` and a trailing `\r`. */
function lines(text: string): Array<{ start: number; text: string; no: number }> {
  const out: Array<{ start: number; text: string; no: number }> = [];
  let start = 0;
  let no = 1;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const raw = text.slice(start, end);
    out.push({ start, text: raw.endsWith('\r') ? raw.slice(0, -1) : raw, no });
    if (end === text.length) break;
    start = end + 1;
    no++;
  }
  return out;
}

/** A scalar value at `from` in `line`: quoted ('…' or "…") or bare up to a comment or the end. */
function scalarAt(line: string, from: number, commentChars: string): { value: string; start: number; end: number } | undefined {
  let i = from;
  while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
  const q = line[i];
  if (q === '"' || q === "'") {
    const close = line.indexOf(q, i + 1);
    if (close === -1) return undefined;
    const value = line.slice(i + 1, close);
    if (q === '"' && value.includes('\\')) return undefined; // escapes: not a literal we can substitute safely
    return { value, start: i + 1, end: close };
  }
  let end = line.length;
  for (let j = i; j < line.length; j++) {
    if (commentChars.includes(line[j]!) && (j === i || line[j - 1] === ' ' || line[j - 1] === '\t')) {
      end = j;
      break;
    }
  }
  while (end > i && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--;
  return { value: line.slice(i, end), start: i, end };
}

/** INI sections, `.env`, shell `export`, and `- NAME=value` list items (docker compose). */
function assignmentEntries(text: string): Entry[] {
  const out: Entry[] = [];
  let section = '';
  for (const l of lines(text)) {
    const t = l.text;
    const sec = /^\s*\[([^\]\r\n]*)\]\s*$/.exec(t);
    if (sec) {
      section = sec[1]!.trim();
      continue;
    }
    const m = /^(\s*(?:export\s+|-\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)(\s*)=/.exec(t);
    if (!m) continue;
    const v = scalarAt(t, m[0].length, '#;');
    if (!v) continue;
    const name = m[2]!;
    out.push({ name, value: v.value, span: { start: l.start + v.start, end: l.start + v.end }, scope: `ini:${section}`, place: section ? `[${section}] ${name}` : name, line: l.no });
  }
  return out;
}

/** YAML block mappings: an entry's scope is its mapping (indentation and list items decide which). */
function yamlEntries(text: string): Entry[] {
  const out: Entry[] = [];
  // Open mappings, innermost last: the key column, an id, and the key that holds it (for places).
  const stack: Array<{ col: number; id: number; path: string }> = [];
  let nextId = 0;
  let blockIndent = -1; // inside a block scalar (| or >) deeper than this indentation
  let lastKey: { col: number; path: string } | undefined;
  for (const l of lines(text)) {
    const t = l.text;
    const indent = t.length - t.trimStart().length;
    if (blockIndent >= 0) {
      if (t.trim() === '' || indent > blockIndent) continue;
      blockIndent = -1;
    }
    const body = t.trimStart();
    // A document marker ends every open mapping: nothing pairs across YAML documents.
    if (indent === 0 && /^(---|\.\.\.)([ \t]|$)/.test(body)) {
      stack.length = 0;
      lastKey = undefined;
      continue;
    }
    if (body === '' || body.startsWith('#')) continue;
    const m = /^((?:-[ \t]+)*)("(?:[^"\\]|\\.)*"|'[^']*'|[^\s#'"{}[\],:-][^:#]*?|-[^\s:#][^:#]*?)[ \t]*:(?=[ \t]|$)/.exec(body);
    const dashes = m ? m[1]! : /^((?:-[ \t]+|-$)*)/.exec(body)![1]!;
    const col = indent + dashes.length;
    // A list item starts a new mapping at its column; a plain key joins the mapping open at its column.
    while (stack.length && (stack.at(-1)!.col > col || (dashes && stack.at(-1)!.col === col))) stack.pop();
    if (!m) {
      lastKey = undefined;
      continue;
    }
    let top = stack.at(-1);
    if (!top || top.col !== col) {
      const parent = lastKey && lastKey.col < col ? lastKey.path : stack.at(-1)?.path ?? '';
      top = { col, id: nextId++, path: parent };
      stack.push(top);
    }
    const rawKey = m[2]!;
    const name = rawKey.startsWith('"') || rawKey.startsWith("'") ? rawKey.slice(1, -1) : rawKey;
    const path = top.path ? `${top.path}.${name}` : name;
    lastKey = { col, path };
    const after = indent + m[0].length;
    const rest = t.slice(after).trim();
    if (/^[|>][-+0-9]*\s*(#.*)?$/.test(rest)) {
      blockIndent = col;
      continue;
    }
    if (rest === '' || rest.startsWith('#')) continue;
    const v = scalarAt(t, after, '#');
    if (!v) continue;
    out.push({ name, value: v.value, span: { start: l.start + v.start, end: l.start + v.end }, scope: `yaml:${top.id}`, place: path, line: l.no });
  }
  return out;
}

/** JSON, JSON with comments, and object literals with bare or single-quoted keys. */
function jsonEntries(text: string): Entry[] {
  const out: Entry[] = [];
  const stack: Array<{ kind: '{' | '['; id: number; path: string }> = [];
  let nextId = 0;
  let pendingKey: { name: string } | undefined;
  let expectValueFor: string | undefined;
  let line = 1;
  let i = 0;
  const n = text.length;
  const readString = (q: string): { value: string; start: number; end: number; escaped: boolean } | undefined => {
    const start = i + 1;
    let j = start;
    let escaped = false;
    while (j < n && text[j] !== q) {
      if (text[j] === '\\') {
        escaped = true;
        j++;
      } else if (text[j] === '\n') return undefined;
      j++;
    }
    if (j >= n) return undefined;
    i = j + 1;
    return { value: text.slice(start, j), start, end: j, escaped };
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === ',') {
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      const e = text.indexOf('\n', i);
      i = e === -1 ? n : e;
    } else if (c === '/' && text[i + 1] === '*') {
      const e = text.indexOf('*/', i + 2);
      const end = e === -1 ? n : e + 2;
      for (let k = i; k < end; k++) if (text[k] === '\n') line++;
      i = end;
    } else if (c === '{' || c === '[') {
      const top = stack.at(-1);
      const path = expectValueFor !== undefined ? (top?.path ? `${top.path}.${expectValueFor}` : expectValueFor) : top?.path ?? '';
      stack.push({ kind: c, id: nextId++, path });
      expectValueFor = undefined;
      pendingKey = undefined;
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectValueFor = undefined;
      pendingKey = undefined;
      i++;
    } else if (c === ':') {
      if (pendingKey) expectValueFor = pendingKey.name;
      pendingKey = undefined;
      i++;
    } else if (c === '"' || c === "'" || c === '`') {
      const s = readString(c);
      if (!s) {
        i++;
        continue;
      }
      const top = stack.at(-1);
      if (expectValueFor !== undefined) {
        if (top?.kind === '{' && !s.escaped) {
          out.push({ name: expectValueFor, value: s.value, span: { start: s.start, end: s.end }, scope: `json:${top.id}`, place: top.path ? `${top.path}.${expectValueFor}` : expectValueFor, line });
        }
        expectValueFor = undefined;
      } else if (top?.kind === '{') pendingKey = { name: s.value };
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(text[j]!)) j++;
      const word = text.slice(i, j);
      if (expectValueFor !== undefined) expectValueFor = undefined;
      else if (stack.at(-1)?.kind === '{') pendingKey = { name: word };
      i = j;
    } else {
      // numbers and anything else: a value we do not need
      if (expectValueFor !== undefined && !/[\s]/.test(c)) {
        let j = i;
        while (j < n && !/[\s,}\]]/.test(text[j]!)) j++;
        i = Math.max(j, i + 1);
        expectValueFor = undefined;
      } else i++;
    }
  }
  return out;
}

const looksJson = (file: string, text: string): boolean => /\.(?:json5?|jsonc|js|cjs|mjs|ts|tfstate)$/i.test(file) || /^\s*(?:\{|\[\s*[[{"\d\]-])/.test(text);
const looksYaml = (file: string): boolean => /\.ya?ml$/i.test(file);

/** Every name/value entry the file's structure holds, by the formats it can be. */
export function entriesOf(text: string, file: string): Entry[] {
  if (looksJson(file, text)) return jsonEntries(text);
  if (looksYaml(file)) return yamlEntries(text);
  // Files of no telling extension: both line formats (their separators, '=' and ':', never overlap).
  return [...assignmentEntries(text), ...yamlEntries(text)];
}

/**
 * The id/secret pairs of `keyId` in `text`, paired by structure. An occurrence of the id under an
 * id name pairs with the one secret-named entry of its scope and prefix; several different
 * secrets there, or none, or a value that is not a secret access key, leave it unpaired.
 */
export function locatePairs(text: string, keyId: string, file: string): Located {
  const pairs: KeyPair[] = [];
  const problems: string[] = [];
  if (!text.includes(keyId)) return { pairs, problems: [`${keyId} is not in it`] };
  const entries = entriesOf(text, file);
  const byScope = new Map<string, Entry[]>();
  for (const e of entries) {
    const list = byScope.get(e.scope);
    if (list) list.push(e);
    else byScope.set(e.scope, [e]);
  }
  for (const e of entries) {
    if (e.value !== keyId) continue;
    const prefixes = idPrefixes(e.name);
    if (!prefixes.length) {
      problems.push(`line ${e.line}: ${keyId} is the value of "${e.name}", not of an access-key-id name`);
      continue;
    }
    const candidates = (byScope.get(e.scope) ?? []).filter((s) => s !== e && secretPrefix(s.name).some((p) => prefixes.includes(p)));
    const values = new Set(candidates.map((c) => c.value));
    if (!candidates.length) {
      problems.push(`line ${e.line}: no secret-access-key name beside "${e.place}" in the same ${e.scope.startsWith('ini:') ? (e.scope === 'ini:' ? 'file' : 'section') : e.scope.startsWith('yaml:') ? 'mapping' : 'object'}`);
      continue;
    }
    if (values.size > 1) {
      problems.push(`line ${e.line}: "${e.place}" has ${candidates.length} different secrets beside it (${candidates.map((c) => `line ${c.line}`).join(', ')}); Keysentry will not guess which one`);
      continue;
    }
    const [value] = values;
    if (!SECRET_SHAPE.test(value!)) {
      problems.push(`line ${e.line}: the value of "${candidates[0]!.place}" is not a secret access key (40 base64 characters), perhaps a reference or a placeholder`);
      continue;
    }
    for (const c of candidates) pairs.push({ id: e.span, secret: c.span, secretValue: c.value, place: `${e.place} / ${c.place}` });
  }
  if (!pairs.length && !problems.length) problems.push(`${keyId} appears only outside any name/value structure (a comment or free text)`);
  return { pairs, problems };
}

/** `text` with each pair's id and secret replaced (other bytes unchanged). */
export function substitute(text: string, pairs: KeyPair[], newId: string, newSecret: string): string {
  const edits = new Map<number, { end: number; value: string }>();
  for (const p of pairs) {
    edits.set(p.id.start, { end: p.id.end, value: newId });
    edits.set(p.secret.start, { end: p.secret.end, value: newSecret });
  }
  let out = '';
  let at = 0;
  for (const start of [...edits.keys()].sort((a, b) => a - b)) {
    const e = edits.get(start)!;
    out += text.slice(at, start) + e.value;
    at = e.end;
  }
  return out + text.slice(at);
}

/** What stands at the places of `places` now (names and masked values), to show why a file cannot be restored. */
export function describePlaces(text: string, file: string, places: string[], mask: (s: string) => string): string[] {
  const wanted = new Set(places.flatMap((p) => p.split(' / ')));
  return entriesOf(text, file)
    .filter((e) => wanted.has(e.place))
    .map((e) => `${e.place} = ${secretPrefix(e.name).length ? mask(e.value) : e.value}`);
}

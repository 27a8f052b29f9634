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
 * - JSON (and JSON with comments, JavaScript-like object literals): keys of the same object;
 * - lists of variables, one scope per list: docker compose `environment:` items
 *   (`- AWS_ACCESS_KEY_ID=…`, quoted or not), JSON string items (`"NAME=value"`), and
 *   Kubernetes / ECS `env:` items (`- name: AWS_ACCESS_KEY_ID` + `value: …`, `Name`/`Value`).
 * Names pair by what they say, never by what the value looks like: `AWS_ACCESS_KEY_ID` pairs with
 * `AWS_SECRET_ACCESS_KEY` (or `AWS_SECRET_KEY`), `ACCESS_KEY` with `SECRET_KEY`, but a bare
 * `SECRET_KEY` (Flask, Django) never with `AWS_ACCESS_KEY_ID`. A name given twice in one scope
 * with different values is refused: readers disagree on which one counts (JSON.parse takes the
 * last, many .env and INI readers the first), so no rewrite can be right for all of them. The same
 * name twice with the same value is rewritten at every occurrence.
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
  /** For an entry of a mapping that is a list item: the list (name/value items pair across it). */
  seq?: string;
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

type Family = 'long' | 'short';
interface NameClass {
  /** What is left before `[aws]` and the suffix: `prod` for PROD_AWS_ACCESS_KEY_ID. */
  prefix: string;
  /** `…access_key_id` / `…secret_access_key` (long) or `…access_key` / `…secret_key` (short). */
  family: Family;
  /** The name says AWS (`aws_` before the suffix). */
  aws: boolean;
}
const ID_SUFFIXES: Array<[string, Family]> = [
  ['accesskeyid', 'long'],
  ['accesskey', 'short'],
];
const SECRET_SUFFIXES: Array<[string, Family]> = [
  ['secretaccesskey', 'long'],
  ['secretkey', 'short'],
];
const norm = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

function classify(name: string, table: Array<[string, Family]>): NameClass | undefined {
  const n = norm(name);
  for (const [suffix, family] of table) {
    if (!n.endsWith(suffix)) continue;
    let prefix = n.slice(0, n.length - suffix.length);
    const aws = prefix.endsWith('aws');
    if (aws) prefix = prefix.slice(0, -3);
    return { prefix, family, aws };
  }
  return undefined;
}
/** A secret access key's name (`AWS_SECRET_ACCESS_KEY`, `secretKey`…). */
const secretClass = (name: string): NameClass | undefined => classify(name, SECRET_SUFFIXES);
/** An access key id's name; a secret's name never is one (`SECRET_ACCESS_KEY` ends in `access_key` too). */
const idClass = (name: string): NameClass | undefined => (secretClass(name) ? undefined : classify(name, ID_SUFFIXES));

/**
 * How well a secret's name answers an id's name: 2 for the same family (`…ACCESS_KEY_ID` with
 * `…SECRET_ACCESS_KEY`), 1 across families when the secret's name says which key it is (AWS, or the
 * same non-empty prefix), 0 (never) otherwise: a bare `SECRET_KEY` is an application's, not AWS's.
 */
function pairRank(id: NameClass, secret: NameClass): number {
  if (secret.prefix !== id.prefix) return 0;
  if (secret.family === id.family) return 2;
  return secret.aws || secret.prefix ? 1 : 0;
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

/** `NAME=value` as one list item (docker compose `environment:`), with the value's span inside `v`. */
function listAssignment(v: { value: string; start: number; end: number }): { name: string; value: string; start: number } | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_.-]*)=/.exec(v.value);
  if (!m) return undefined;
  return { name: m[1]!, value: v.value.slice(m[0].length), start: v.start + m[0].length };
}

/** YAML block mappings: an entry's scope is its mapping (indentation and list items decide which). */
function yamlEntries(text: string): Entry[] {
  const out: Entry[] = [];
  // Open mappings (and scalar list items), innermost last: the key column, an id, the key that
  // holds it (for places), and for a list item the list it belongs to.
  interface Frame {
    col: number;
    id: number;
    path: string;
    seq?: string;
  }
  const stack: Frame[] = [];
  let nextId = 0;
  let blockIndent = -1; // inside a block scalar (| or >) deeper than this indentation
  let lastKey: { col: number; path: string; ref: string } | undefined;
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
    let sibling: Frame | undefined;
    while (stack.length && (stack.at(-1)!.col > col || (dashes && stack.at(-1)!.col === col))) {
      const f = stack.pop()!;
      if (f.col === col) sibling = f;
    }
    // The list a new item belongs to: the previous item's, or the key above it.
    const itemOf = (): { seq: string; path: string } =>
      sibling?.seq !== undefined
        ? { seq: sibling.seq, path: sibling.path }
        : lastKey && lastKey.col < col
          ? { seq: `yaml:${lastKey.ref}`, path: lastKey.path }
          : { seq: `yaml:${stack.at(-1)?.id ?? 'root'}@${col}`, path: stack.at(-1)?.path ?? '' };
    if (!m) {
      if (dashes) {
        // A scalar list item: `- NAME=value` (docker compose) pairs with the other items of its list.
        const item = itemOf();
        stack.push({ col, id: nextId++, path: item.path, seq: item.seq });
        const v = scalarAt(t, indent + dashes.length, '#');
        const a = v && listAssignment(v);
        if (a) out.push({ name: a.name, value: a.value, span: { start: l.start + a.start, end: l.start + v.end }, scope: `seq:${item.seq}`, place: `${item.path}[${a.name}]`, line: l.no });
      }
      lastKey = undefined;
      continue;
    }
    let top = stack.at(-1);
    if (!top || top.col !== col) {
      if (dashes) {
        const item = itemOf();
        top = { col, id: nextId++, path: item.path, seq: item.seq };
      } else {
        const parent = lastKey && lastKey.col < col ? lastKey.path : stack.at(-1)?.path ?? '';
        top = { col, id: nextId++, path: parent };
      }
      stack.push(top);
    }
    const rawKey = m[2]!;
    const name = rawKey.startsWith('"') || rawKey.startsWith("'") ? rawKey.slice(1, -1) : rawKey;
    const path = top.path ? `${top.path}.${name}` : name;
    lastKey = { col, path, ref: `${top.id}/${name}` };
    const after = indent + m[0].length;
    const rest = t.slice(after).trim();
    if (/^[|>][-+0-9]*\s*(#.*)?$/.test(rest)) {
      blockIndent = col;
      continue;
    }
    if (rest === '' || rest.startsWith('#')) continue;
    const v = scalarAt(t, after, '#');
    if (!v) continue;
    out.push({ name, value: v.value, span: { start: l.start + v.start, end: l.start + v.end }, scope: `yaml:${top.id}`, place: path, line: l.no, ...(top.seq ? { seq: top.seq } : {}) });
  }
  return out;
}

/** JSON, JSON with comments, and object literals with bare or single-quoted keys. */
function jsonEntries(text: string): Entry[] {
  const out: Entry[] = [];
  const stack: Array<{ kind: '{' | '['; id: number; path: string; seq?: string }> = [];
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
      // An object inside an array is a list item: its `name`/`value` pair joins the array's other items.
      stack.push({ kind: c, id: nextId++, path, ...(c === '{' && top?.kind === '[' ? { seq: `json:${top.id}` } : {}) });
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
          out.push({ name: expectValueFor, value: s.value, span: { start: s.start, end: s.end }, scope: `json:${top.id}`, place: top.path ? `${top.path}.${expectValueFor}` : expectValueFor, line, ...(top.seq ? { seq: top.seq } : {}) });
        }
        expectValueFor = undefined;
      } else if (top?.kind === '{') pendingKey = { name: s.value };
      else if (top?.kind === '[' && !s.escaped) {
        // `"NAME=value"` items of an array (a container's Env list) pair with each other.
        const a = listAssignment(s);
        if (a) out.push({ name: a.name, value: a.value, span: { start: a.start, end: s.end }, scope: `seq:json:${top.id}`, place: `${top.path}[${a.name}]`, line });
      }
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

/**
 * The variables of `name`/`value` list items (Kubernetes `env:`, ECS `environment`): an item with
 * exactly one `name` and one `value` is the entry NAME = value in the scope of its list.
 */
function nameValueEntries(entries: Entry[]): Entry[] {
  const items = new Map<string, { names: Entry[]; values: Entry[]; seq: string }>();
  for (const e of entries) {
    if (!e.seq) continue;
    const key = e.name.toLowerCase();
    if (key !== 'name' && key !== 'value') continue;
    let item = items.get(e.scope);
    if (!item) items.set(e.scope, (item = { names: [], values: [], seq: e.seq }));
    (key === 'name' ? item.names : item.values).push(e);
  }
  const out: Entry[] = [];
  for (const { names, values, seq } of items.values()) {
    if (names.length !== 1 || values.length !== 1) continue;
    const [n, v] = [names[0]!, values[0]!];
    const list = v.place.slice(0, Math.max(0, v.place.length - v.name.length - 1));
    out.push({ name: n.value, value: v.value, span: v.span, scope: `seq:${seq}`, place: `${list}[${n.value}]`, line: v.line });
  }
  return out;
}

/** Every name/value entry the file's structure holds, by the formats it can be. */
export function entriesOf(text: string, file: string): Entry[] {
  let entries: Entry[];
  if (looksJson(file, text)) entries = jsonEntries(text);
  else if (looksYaml(file)) entries = yamlEntries(text);
  // Files of no telling extension: both line formats (their separators, '=' and ':', never overlap).
  else entries = [...assignmentEntries(text), ...yamlEntries(text)];
  return [...entries, ...nameValueEntries(entries)];
}

const scopeWord = (scope: string): string =>
  scope.startsWith('ini:') ? (scope === 'ini:' ? 'file' : 'section') : scope.startsWith('seq:') ? 'list' : scope.startsWith('yaml:') ? 'mapping' : 'object';

/**
 * The id/secret pairs of `keyId` in `text`, paired by structure. An occurrence of the id under an
 * id name pairs with the secret-named entries of its scope whose names answer it best (pairRank);
 * several different secrets there, none, a value that is not a secret access key, or the id's name
 * given twice with another value, leave it unpaired (with the reason).
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
    const ic = idClass(e.name);
    if (!ic) {
      if (!/^(name|value)$/i.test(e.name) || !e.seq) problems.push(`line ${e.line}: ${keyId} is the value of "${e.name}", not of an access-key-id name`);
      continue;
    }
    const scope = byScope.get(e.scope) ?? [];
    const where = scopeWord(e.scope);
    // The same name twice with another value: which one a program reads depends on the program.
    const dup = scope.find((o) => o !== e && norm(o.name) === norm(e.name) && o.value !== keyId);
    if (dup) {
      problems.push(
        `line ${e.line}: "${e.place}" is given twice in the same ${where} (line ${e.line}, line ${dup.line}) with different values; programs disagree on which one counts ` +
          `(JSON.parse takes the last, many .env and INI readers the first), so Keysentry will not rewrite it: remove the duplicate`,
      );
      continue;
    }
    let best = 0;
    let candidates: Entry[] = [];
    for (const s of scope) {
      if (s === e) continue;
      const sc = secretClass(s.name);
      const rank = sc ? pairRank(ic, sc) : 0;
      if (rank > best) [best, candidates] = [rank, [s]];
      else if (rank && rank === best) candidates.push(s);
    }
    const values = new Set(candidates.map((c) => c.value));
    if (!candidates.length) {
      problems.push(`line ${e.line}: no secret-access-key name beside "${e.place}" in the same ${where}`);
      continue;
    }
    if (values.size > 1) {
      const twice = new Set(candidates.map((c) => norm(c.name))).size === 1;
      problems.push(
        twice
          ? `line ${e.line}: "${candidates[0]!.place}" is given twice in the same ${where} (${candidates.map((c) => `line ${c.line}`).join(', ')}) with different secrets; programs disagree on which one counts (JSON.parse takes the last, many .env and INI readers the first), so Keysentry will not guess: remove the duplicate`
          : `line ${e.line}: "${e.place}" has ${candidates.length} different secrets beside it (${candidates.map((c) => `line ${c.line}`).join(', ')}); Keysentry will not guess which one`,
      );
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
    .map((e) => `${e.place} = ${secretClass(e.name) || SECRET_SHAPE.test(e.value) ? mask(e.value) : e.value}`);
}

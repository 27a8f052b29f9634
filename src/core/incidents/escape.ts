// Account data (instance Name tags, key pair and user names, notice text) is attacker-controlled.
// These helpers are the one place where it is made inert before it goes into Markdown (the
// report sent to AWS) or a shell line (a runbook's CLI command, copied to the clipboard).

/**
 * Characters that become U+FFFD: C0/C1 controls other than white space, and the Unicode
 * format characters that reorder or hide text (bidi overrides and isolates, zero-width joiners
 * used to hide a link, the BOM).
 */
// Every format character (Unicode category Cf: U+00AD soft hyphen, zero-width characters, bidi controls, tag characters…) renders as nothing or reorders text.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\p{Cf}]/gu;
/** Line breaks of any kind: a value never starts a new Markdown block. */
const BREAKS = /\r\n|[\n\r\t\u0085\u2028\u2029]/g;

/** One line of plain text for a terminal or a log: no control character (ESC clears a screen), no line break. */
export const oneLine = (value: unknown): string => String(value ?? '').replace(BREAKS, ' ').replace(INVISIBLE, '\ufffd');

/**
 * Text that renders as itself in Markdown (CommonMark, GFM, markdown-it with linkify): one line
 * (line breaks become spaces, so a value never opens a block of its own), with every character
 * that could start an inline construct backslash-escaped: emphasis and code (`*`, `_`, `` ` ``),
 * links and images (`[`, `]`: without them `(`, `)` and `!` start nothing), raw HTML, entities and autolinks (`<`, `>`, `&`),
 * headings (`#`), table cells (`|`), strikethrough (`~`), and bare-URL and e-mail autolinks
 * (`:` before `/`, `.` before a letter, `@`: "https\://x", "evil\.com" and "a\@b" are linkified
 * neither by GFM nor by linkify-it). Block markers that only count at the start of a line
 * (`-`, `+`, `=`, "1.", indentation) are escaped or removed at the start of the value.
 */
export function mdText(value: unknown): string {
  return String(value ?? '')
    .replace(BREAKS, ' ')
    .replace(INVISIBLE, '\ufffd')
    .replace(/^\s+/, '')
    .replace(/[\\`*_[\]<>#|~&@]/g, '\\$&')
    .replace(/^([-+=])/, '\\$1')
    .replace(/^(\d+)([.)])/, '$1\\$2')
    .replace(/:(?=\/)/g, '\\:')
    .replace(/\.(?=[^\s\d.])|(?<=\bwww)\./gi, '\\.');
}

/**
 * An inline code span holding `value` literally (a fence longer than any backtick run inside).
 * Backslash escapes are not processed inside a code span, so nothing is escaped: a `|` stays a
 * `|` (writing `\|` showed the reader a backslash that is not in the value). The report puts
 * code spans in list items and paragraphs only, never in a GFM table cell, the one place where a
 * `|` inside a code span would end the cell; keep it so.
 */
export function mdCode(value: unknown): string {
  const s = String(value ?? '').replace(BREAKS, ' ').replace(INVISIBLE, '\ufffd');
  let longest = 0;
  for (const m of s.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(longest + 1);
  const pad = s.startsWith('`') || s.endsWith('`') || (s.startsWith(' ') && s.endsWith(' ') && s.trim()) ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/**
 * One POSIX shell word that stands for `value` exactly: bare when it holds only characters no
 * shell treats specially, otherwise in single quotes (inside which nothing is special), with
 * each `'` written as `'\''`. A value with a NUL cannot be a shell argument: it is refused.
 */
export function shellQuote(value: string): string {
  if (value.includes('\u0000')) throw new Error('a shell argument cannot contain a NUL character');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Values filled into a runbook's CLI line, which the Copy button puts on the clipboard to be
 * pasted into whatever shell the user has: bash or zsh, PowerShell, or cmd.exe. No single quoting
 * is safe in all three (cmd has no quoting that stops `%VAR%` or, with delayed expansion, `!`;
 * PowerShell expands `$` and backticks inside double quotes and treats `@`, `{`, `,` and `;`
 * specially; code-page "best fit" conversion turns some non-ASCII characters into `"` on Windows).
 * So a value is filled in only when it is made of characters that mean nothing to any of them:
 * ASCII letters and digits first, then letters, digits and `. _ : / + = @ -`, at most 256.
 * Anything else is withheld: the line keeps its placeholder (KEY_PAIR_NAME) and the reason is
 * shown beside it, for the user to type the value in with the quoting of their own shell.
 */
export const CLI_SAFE_VALUE = /^[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,255}$/;

/** True when `value` can stand unquoted in a bash, PowerShell and cmd.exe command line alike. */
export const isCliSafe = (value: string): boolean => CLI_SAFE_VALUE.test(value);

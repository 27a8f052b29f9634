/**
 * Repository-controlled text (file names, commit subjects, ref and remote names, git's own error
 * lines) is shown on terminals and in editor UI. Escaping it is one helper, used by every text
 * report: a file named `ESC[2J.txt` must print as `\x1b[2J.txt`, not clear the screen.
 */

/** C0 and C1 controls, DEL, and the invisible / direction-changing characters that can disguise text. */
// \p{Cf}: every format character (U+00AD soft hyphen, zero-width, bidi, tag characters…) is invisible.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\p{Cf}]/gu;

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** `text` with every control or invisible formatting character written as `\xNN` or `\u{NNNN}`. */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const n = c.codePointAt(0) as number;
    return n <= 0xff ? `\\x${hex(n, 2)}` : `\\u{${hex(n, 4)}}`;
  });
}

/** Multi-line text (an error message, usage): each line escaped, the line breaks kept. */
export function escapeLines(text: string): string {
  return text.split('\n').map(escapeControl).join('\n');
}

/** Length of the valid UTF-8 sequence at `i`, or 0 when the byte there does not start one. */
function utf8SequenceAt(b: Buffer, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (!len || i + len > b.length) return 0;
  for (let k = 1; k < len; k++) if (((b[i + k] as number) & 0xc0) !== 0x80) return 0;
  const c1 = b[i + 1] as number;
  if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
  if (c === 0xed && c1 >= 0xa0) return 0; // surrogate
  if (c === 0xf0 && c1 < 0x90) return 0; // overlong
  if (c === 0xf4 && c1 >= 0x90) return 0; // beyond U+10FFFF
  return len;
}

/**
 * Bytes (a file name that need not be UTF-8) as display text: valid UTF-8 decoded, every other
 * byte written `\xNN`, and the result escaped with {@link escapeControl}. Two different names
 * never display the same unless they differ only by a literal backslash sequence.
 */
export function displayBytes(bytes: Buffer): string {
  let out = '';
  let run = 0;
  let i = 0;
  while (i < bytes.length) {
    const len = utf8SequenceAt(bytes, i);
    if (len) {
      i += len;
      continue;
    }
    out += escapeControl(bytes.subarray(run, i).toString('utf8')) + `\\x${hex(bytes[i] as number, 2)}`;
    i++;
    run = i;
  }
  return out + escapeControl(bytes.subarray(run).toString('utf8'));
}

import type { FindingKind } from './types';

/**
 * Masks a secret for display. Access key ids are identifiers AWS consoles show whole;
 * everything else keeps at most its first 4 characters.
 */
export function maskSecret(kind: FindingKind, value: string): string {
  if (kind === 'aws-access-key-id') return value;
  if (kind === 'private-key') {
    const header = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----/.exec(value) ?? /PuTTY-User-Key-File-\d/.exec(value);
    if (header) return `${header[1] ? `-----BEGIN ${header[1]}-----` : header[0]} …(masked)`;
    return '(private key, masked)';
  }
  const shown = value.slice(0, Math.min(4, Math.floor(value.length / 4)));
  return `${shown}${'*'.repeat(Math.max(8, Math.min(16, value.length - shown.length)))}`;
}

/**
 * Removes anything that looks like an AWS secret or a private key from free text
 * (error messages, SDK errors, logs) before it is shown or written anywhere.
 */
const TOKEN = String.raw`(?:[A-Za-z0-9+/]|%2[BbFf]|%3[Dd]|&#[xX]0*2[BbFf];|&#0*4[37];|&sol;|&plus;)`;
const SECRET_RUN = new RegExp(String.raw`(?<![A-Za-z0-9+/%&#;])(${TOKEN}{4})${TOKEN}{36,}(?:=|%3[Dd]){0,2}(?![A-Za-z0-9+/])`, 'g');

export function redact(text: string): string {
  return text
    .replace(/-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|$)/g, '-----BEGIN PRIVATE KEY----- …(masked)')
    // 40+ characters of the base64 alphabet, also when `/`, `+` and `=` are written as %2F, %2B,
    // %3D or HTML character references (a secret pasted into a URL, a subject, an HTML notice).
    .replace(SECRET_RUN, (_m, head: string) => `${head}****************`)
    // A plain run right after `%`, `&`, `#` or `;` that starts no encoded character (a file named
    // `creds/AKIA…%<secret>.txt`): SECRET_RUN's look-behind skips it, so it is masked here.
    .replace(PLAIN_RUN, (_m, head: string) => `${head}****************`);
}

const PLAIN_RUN = /(?<![A-Za-z0-9+/])([A-Za-z0-9+/]{4})[A-Za-z0-9+/]{36,}={0,2}(?![A-Za-z0-9+/])/g;

import { createHash } from 'node:crypto';
import { redact } from '../mask';
import { keyIdRegex } from '../detect/patterns';
import type { SourceDraft } from './book';
import type { IncidentType, ResourceRef } from './types';

// AWS abuse notices arrive as email to the account's security contact. There is no API for
// them without a Business support plan, so people paste them or save the .eml. They vary a
// lot (plain text, HTML, quoted-printable, forwarded, with or without log excerpts), so this
// reads what it can and says plainly what it could not find.

export type AbuseType = 'dos' | 'port-scan' | 'intrusion' | 'spam' | 'malware' | 'phishing' | 'mining' | 'copyright' | 'exposed-key' | 'account-compromise';

export const ABUSE_LABELS: Record<AbuseType, string> = {
  dos: 'Denial of service (DoS/DDoS)',
  'port-scan': 'Port scanning',
  intrusion: 'Intrusion attempts (brute force, exploits)',
  spam: 'Spam / unsolicited email',
  malware: 'Malware hosting or botnet',
  phishing: 'Phishing',
  mining: 'Cryptocurrency mining',
  copyright: 'Copyright infringement',
  'exposed-key': 'Exposed access key',
  'account-compromise': 'Compromised account (irregular activity)',
};

const ABUSE_WORDS: Record<AbuseType, RegExp[]> = {
  dos: [/denial[- ]of[- ]service/gi, /\bd?dos\b/gi, /\b(?:syn|udp|icmp|http) flood/gi, /\bflood(?:ing)?\b/gi, /amplification|reflection attack/gi],
  'port-scan': [/port[- ]?scan\w*/gi, /\bscann(?:ing|er)\b/gi, /\bprob(?:e|es|ing)\b/gi, /\bn?map\b|masscan|zmap/gi],
  intrusion: [/brute[- ]?forc\w*/gi, /(?:login|authentication|ssh|rdp) (?:attempts?|failures?|attacks?)/gi, /intrusion/gi, /exploit(?:ation)? attempts?/gi, /unauthori[sz]ed access/gi],
  spam: [/\bspam\w*/gi, /unsolicited (?:commercial |bulk )?e-?mail/gi, /\buce\b/gi, /bulk e-?mail/gi],
  malware: [/malware/gi, /malicious (?:software|code|files?)/gi, /\btrojan\b|\bvirus\b|ransomware/gi, /botnet|command[- ]and[- ]control|\bc2\b/gi],
  phishing: [/phish\w*/gi, /credential harvesting/gi, /spoofed (?:login|site|page)/gi],
  mining: [/(?:crypto|coin|monero|bitcoin)[- ]?(?:currency )?min(?:ing|er)/gi, /xmrig|stratum\+tcp/gi],
  copyright: [/copyright/gi, /\bdmca\b/gi, /infring\w*/gi, /pirat(?:ed|ing)/gi],
  'account-compromise': [/inappropriately accessed by a third[- ]party/gi, /irregular activity/gi, /may (?:still )?(?:have been|be) compromised/gi, /\b(?:account|credentials?) (?:is|are|was|were) compromised/gi, /accessed by an unauthori[sz]ed party/gi],
  'exposed-key': [/AWS_RISK_CREDENTIALS_EXPOSED/g, /publicly available online/gi, /(?:access )?keys? (?:\w+ ){0,3}(?:was |were |been )?(?:found |publicly )?(?:exposed|publicly available|compromised|leaked)/gi, /exposed (?:aws )?(?:access )?keys?/gi, /AWSCompromisedKeyQuarantine\w*/g],
};

const REGION_NAMES: Array<[RegExp, string]> = [
  [/US East \(N\.? ?Virginia\)|Northern Virginia/i, 'us-east-1'],
  [/US East \(Ohio\)/i, 'us-east-2'],
  [/US West \(N\.? ?California\)/i, 'us-west-1'],
  [/US West \(Oregon\)/i, 'us-west-2'],
  [/Africa \(Cape Town\)/i, 'af-south-1'],
  [/Asia Pacific \(Hong Kong\)/i, 'ap-east-1'],
  [/Asia Pacific \(Mumbai\)/i, 'ap-south-1'],
  [/Asia Pacific \(Hyderabad\)/i, 'ap-south-2'],
  [/Asia Pacific \(Tokyo\)/i, 'ap-northeast-1'],
  [/Asia Pacific \(Seoul\)/i, 'ap-northeast-2'],
  [/Asia Pacific \(Osaka\)/i, 'ap-northeast-3'],
  [/Asia Pacific \(Singapore\)/i, 'ap-southeast-1'],
  [/Asia Pacific \(Sydney\)/i, 'ap-southeast-2'],
  [/Asia Pacific \(Jakarta\)/i, 'ap-southeast-3'],
  [/Asia Pacific \(Melbourne\)/i, 'ap-southeast-4'],
  [/Canada \(Central\)/i, 'ca-central-1'],
  [/Europe \(Frankfurt\)/i, 'eu-central-1'],
  [/Europe \(Zurich\)/i, 'eu-central-2'],
  [/Europe \(Ireland\)/i, 'eu-west-1'],
  [/Europe \(London\)/i, 'eu-west-2'],
  [/Europe \(Paris\)/i, 'eu-west-3'],
  [/Europe \(Milan\)/i, 'eu-south-1'],
  [/Europe \(Spain\)/i, 'eu-south-2'],
  [/Europe \(Stockholm\)/i, 'eu-north-1'],
  [/Israel \(Tel Aviv\)/i, 'il-central-1'],
  [/Middle East \(Bahrain\)/i, 'me-south-1'],
  [/Middle East \(UAE\)/i, 'me-central-1'],
  [/South America \(S[aã]o Paulo\)/i, 'sa-east-1'],
];
const REGION_CODE = /\b((?:us|eu|ap|sa|ca|me|af|il|mx)(?:-gov)?-(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-\d)\b/g;
const EC2_HOST = /\bec2-(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\.(?:([a-z]{2}(?:-gov)?-[a-z]+-\d)\.compute|compute-1)\.amazonaws\.com\b/gi;
const INSTANCE = /\bi-(?:[0-9a-f]{17}|[0-9a-f]{8})\b/g;
const IPV4 = /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.]*\d)/g;
const IPV6 = /(?<![0-9a-f:])(?:[0-9a-f]{1,4}:){1,7}(?::|(?::[0-9a-f]{1,4}){1,6}|[0-9a-f]{1,4})(?![0-9a-f:])/gi;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

export interface ParsedNotice {
  format: 'email' | 'text';
  subject?: string;
  from?: string;
  /** When the notice was sent (the email's Date header). */
  receivedAt?: string;
  abuseType?: AbuseType;
  /** Every abuse type the text mentions, the most mentioned first. */
  abuseTypes: AbuseType[];
  caseId?: string;
  accountId?: string;
  instanceIds: string[];
  /** Public IP addresses mentioned (private and loopback ones are dropped). */
  ips: string[];
  /** IPs that belong to EC2 (from ec2-a-b-c-d hostnames): most likely the account's own instances. */
  ec2Ips: string[];
  region?: string;
  regions: string[];
  accessKeyIds: string[];
  /** IAM users the notice names (AWS's exposed-key notices say whose key it is). */
  userNames: string[];
  urls: string[];
  window?: { from: string; to: string };
  replyWithin?: string;
  deadline?: string;
  /** "contact AWS by 2025-04-14": the date as written (a day, no time of day is invented). */
  contactBy?: string;
  /** Where AWS found the key ("publicly available online at URL"). */
  exposedAt?: string;
  /** Commits named by the URL (a GitHub compare "a...b", a commit or a blob at a commit). */
  commits?: string[];
  /** The support case's severity header (Urgent, High…). */
  caseSeverity?: string;
  /** The abuse reporter's form: "Abuse date (yyyy-mm-dd)", "Abuse time", "Time zone". */
  reported?: { date: string; time?: string; zone?: string; at?: string };
  /** What was understood, for the user to check, label/value. */
  understood: Array<[string, string]>;
  /** What a notice normally has and this one did not show. */
  missing: string[];
  warnings: string[];
  /** The text as read (decoded, redacted), kept with the incident. */
  text: string;
}

/** Notices larger than this are refused by the callers and cut here: an abuse notice is a few KB. */
export const MAX_NOTICE_BYTES = 1_000_000;

/** The reason to refuse a notice of `bytes` bytes, or undefined when it is within the cap. */
export function noticeTooLarge(bytes: number, what = 'the notice'): string | undefined {
  if (bytes <= MAX_NOTICE_BYTES) return undefined;
  return `${what} is ${(bytes / 1_000_000).toFixed(1)} MB; an AWS abuse notice is a few KB and Keysentry reads at most ${MAX_NOTICE_BYTES / 1_000_000} MB (is this the right file or selection?)`;
}

const HEX = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);

/** Quoted-printable to bytes, in one pass over the bytes. */
function decodeQuotedPrintable(s: string): Buffer {
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as number;
    if (c === 61 /* = */) {
      if (src[i + 1] === 10) {
        i += 1; // soft line break
        continue;
      }
      if (src[i + 1] === 13 && src[i + 2] === 10) {
        i += 2;
        continue;
      }
      const hi = HEX(src[i + 1] ?? 0);
      const lo = HEX(src[i + 2] ?? 0);
      if (hi >= 0 && lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    out[n++] = c;
  }
  return out.subarray(0, n);
}

function decodeBody(body: string, encoding: string, charset: string): string {
  let buf: Buffer;
  if (/base64/i.test(encoding)) buf = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  else if (/quoted-printable/i.test(encoding)) buf = decodeQuotedPrintable(body);
  else return body;
  return /iso-8859-1|latin1|windows-1252/i.test(charset) ? buf.toString('latin1') : buf.toString('utf8');
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
/** A character reference's text; code points that are not characters (above U+10FFFF, surrogates, NUL) read as U+FFFD. */
function charRef(code: number): string {
  if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
  return String.fromCodePoint(code);
}
const ENTITY = /&(?:#[xX]([0-9a-fA-F]{1,12})|#(\d{1,16})|([a-zA-Z]{1,10}));/g;
const decodeEntities = (s: string): string => s.replace(ENTITY, (m, hex?: string, dec?: string, name?: string) => (hex ? charRef(parseInt(hex, 16)) : dec ? charRef(Number(dec)) : (ENTITIES[(name as string).toLowerCase()] ?? m)));
const SKIPPED = new Set(['script', 'style', 'head']);
const BREAK = /^\/?(?:br|p|div|tr|li|h\d|table|pre)$/;

/**
 * HTML to text in one pass: each character is looked at a bounded number of times, whatever the
 * input (`<` floods, unclosed tags and scripts, entity floods). A tag runs from `<` to the next
 * `>`; a `<` with no `>` after it is text. script, style and head elements are dropped with
 * their content (up to their closing tag, searched for once per element and never again once
 * missing). Line-breaking tags become line breaks, table cells a tab.
 */
export function htmlToText(html: string): string {
  const out: string[] = [];
  const closers = new Map<string, number>(); // name → index of its next closing tag, -1 when none is left
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      out.push(html.slice(i));
      break;
    }
    out.push(html.slice(i, lt));
    const gt = html.indexOf('>', lt + 1);
    if (gt < 0) {
      // No tag can close any more: the rest is text.
      out.push(html.slice(lt));
      break;
    }
    const name = /^\/?[a-zA-Z][a-zA-Z0-9]{0,9}/.exec(html.slice(lt + 1, Math.min(gt, lt + 12)))?.[0]?.toLowerCase() ?? '';
    i = gt + 1;
    if (SKIPPED.has(name)) {
      let close = closers.get(name);
      if (close === undefined || (close >= 0 && close < i)) {
        const re = new RegExp(`</${name}\\s*>`, 'gi');
        re.lastIndex = i;
        const m = re.exec(html);
        close = m ? m.index : -1;
        closers.set(name, close);
        if (m) closers.set(`${name}>`, m.index + m[0].length);
      }
      if (close >= 0) {
        out.push(' ');
        i = closers.get(`${name}>`) as number;
      }
      continue;
    }
    if (BREAK.test(name) && (name.startsWith('/') || name === 'br')) out.push('\n');
    else if (name === '/td' || name === '/th') out.push(' \t');
  }
  return decodeEntities(out.join(''));
}

function decodeHeaderWords(v: string): string {
  // RFC 2047: white space between two encoded words is not part of the text.
  return v.replace(/(\?=)\s+(?==\?)/g, '$1').replace(/=\?([^?]+)\?([bq])\?([^?]*)\?=/gi, (_m, charset: string, enc: string, text: string) =>
    /b/i.test(enc) ? decodeBody(text, 'base64', charset) : decodeBody(text.replace(/_/g, ' '), 'quoted-printable', charset),
  );
}

function parseHeaders(block: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const m = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
    if (m && !out.has((m[1] as string).toLowerCase())) out.set((m[1] as string).toLowerCase(), decodeHeaderWords(m[2] as string));
  }
  return out;
}

/** RFC 2046 §5.1.1: a boundary is 1 to 70 characters. */
const MAX_BOUNDARY = 70;

/**
 * The parts of a multipart body between `--boundary` delimiter lines, in one pass over the lines:
 * each line is compared with the delimiter at its start only (at most 72 characters, since the
 * boundary is capped), so the time is linear in the body whatever the boundary or the body hold.
 */
export function splitMultipart(body: string, boundary: string): string[] {
  const delim = `--${boundary}`;
  const parts: string[] = [];
  let start = -1; // start of the current part's text, -1 before the first delimiter
  let pos = 0;
  while (pos <= body.length) {
    const nl = body.indexOf('\n', pos);
    const end = nl < 0 ? body.length : nl;
    if (body.startsWith(delim, pos)) {
      // The rest of the line may only be "--" (the close delimiter) and white space.
      const rest = body.slice(pos + delim.length, Math.min(end, pos + delim.length + 80)).replace(/\r$/, '');
      if (/^(?:--)?[ \t]*$/.test(rest) && end - pos <= delim.length + 80) {
        if (start >= 0) parts.push(body.slice(start, Math.max(start, pos - 1)));
        if (rest.startsWith('--')) return parts;
        start = end + 1;
      }
    }
    if (nl < 0) break;
    pos = nl + 1;
  }
  if (start >= 0 && start < body.length) parts.push(body.slice(start));
  return parts;
}

/** The text parts of a MIME entity, plain text preferred over HTML. */
function mimeText(headers: Map<string, string>, body: string, depth = 0, warnings: string[] = []): string {
  const type = headers.get('content-type') ?? 'text/plain';
  if (/^multipart\//i.test(type) && depth < 5) {
    const boundary = /boundary=(?:"([^"]{0,200})|([^";\s]{0,200}))/i.exec(type);
    const b = boundary?.[1] ?? boundary?.[2];
    if (!b || b.length > MAX_BOUNDARY) {
      // Malformed: no boundary, or one longer than RFC 2046 allows. Read the body as text rather than nothing.
      warnings.push(b ? `the email's MIME boundary is longer than the ${MAX_BOUNDARY} characters the standard allows; its body was read as plain text` : "the email says it has several parts but names no boundary; its body was read as plain text");
      return /<html|<body|<p>|<br\s*\/?>/i.test(body) ? htmlToText(body) : body;
    }
    const decoded = splitMultipart(body, b)
      .map((p) => {
        const split = /\r?\n\r?\n/.exec(p);
        if (!split) return undefined;
        const h = parseHeaders(p.slice(0, split.index).replace(/^\r?\n/, ''));
        return { type: h.get('content-type') ?? 'text/plain', text: mimeText(h, p.slice(split.index + split[0].length), depth + 1, warnings) };
      })
      .filter((p): p is { type: string; text: string } => !!p && p.text.trim().length > 0);
    const plain = decoded.find((p) => /^text\/plain/i.test(p.type) || /^multipart/i.test(p.type));
    if (!decoded.length && body.trim()) {
      warnings.push('no part of the multipart email could be read; its body was read as plain text');
      return body;
    }
    return (plain ?? decoded[0])?.text ?? '';
  }
  const charset = /charset="?([^";]+)"?/i.exec(type)?.[1] ?? 'utf-8';
  const text = decodeBody(body, headers.get('content-transfer-encoding') ?? '', charset);
  if (/^text\/html/i.test(type)) return htmlToText(text);
  if (!/^text\//i.test(type) && !/^multipart\//i.test(type) && !/^message\//i.test(type)) return '';
  return text;
}

const isPrivateV4 = (ip: string): boolean => {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127) || a >= 224;
};

function parseTimestamps(text: string, yearHint: number, zoneHint?: string, notAfter?: number): Date[] {
  const out: Date[] = [];
  const push = (d: Date): void => {
    if (!Number.isNaN(d.getTime()) && d.getUTCFullYear() > 2005 && d.getUTCFullYear() < 2100) out.push(d);
  };
  const zone = (z: string | undefined): string => {
    if (!z || /^(?:utc|gmt|z)$/i.test(z)) return 'Z';
    if (/^[+-]\d{4}$/.test(z)) return `${z.slice(0, 3)}:${z.slice(3)}`;
    if (/^[+-]\d\d:\d\d$/.test(z)) return z;
    return 'Z';
  };
  for (const m of text.matchAll(/\b(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?\s*(Z|UTC|GMT|[+-]\d\d:?\d\d)?/gi)) {
    push(new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${zone(m[7]?.replace(/^([+-]\d\d)(\d\d)$/, '$1$2'))}`));
  }
  for (const m of text.matchAll(/\b(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\w* (\d{4}),? (\d\d):(\d\d)(?::(\d\d))?\s*(UTC|GMT|[+-]\d{4})?/gi)) {
    const mon = MONTHS.indexOf((m[2] as string).slice(0, 3).toLowerCase()) + 1;
    push(new Date(`${m[3]}-${String(mon).padStart(2, '0')}-${(m[1] as string).padStart(2, '0')}T${m[4]}:${m[5]}:${m[6] ?? '00'}${zone(m[7])}`));
  }
  // Java/Unix date style: "Wed Nov 18 21:03:00 UTC 2026"
  for (const m of text.matchAll(/\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (UTC|GMT|Z) (\d{4})\b/g)) {
    const mon = MONTHS.indexOf((m[1] as string).toLowerCase()) + 1;
    push(new Date(`${m[7]}-${String(mon).padStart(2, '0')}-${(m[2] as string).padStart(2, '0')}T${m[3]}:${m[4]}:${m[5]}Z`));
  }
  // syslog / firewall style: "Nov 20 03:14:15" (no year: the notice's year)
  for (const m of text.matchAll(/\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?! (?:[A-Z]{3,4} )?\d{4})/g)) {
    const mon = MONTHS.indexOf((m[1] as string).toLowerCase()) + 1;
    // No year and no zone in the line: the reporter's form gives them when it is there, else the
    // notice's year (a December log in a January notice is last year's) read as UTC.
    let d = new Date(`${yearHint}-${String(mon).padStart(2, '0')}-${(m[2] as string).padStart(2, '0')}T${m[3]}:${m[4]}:${m[5]}${zone(zoneHint)}`);
    if (notAfter !== undefined && d.getTime() > notAfter + 86_400_000) d = new Date(`${yearHint - 1}-${String(mon).padStart(2, '0')}-${(m[2] as string).padStart(2, '0')}T${m[3]}:${m[4]}:${m[5]}${zone(zoneHint)}`);
    push(d);
  }
  return out;
}

const urls0 = (text: string): string[] => text.match(/https?:\/\/[^\s<>"')\]]+/g) ?? [];

const redactField = (v: string | undefined): string | undefined => (v === undefined ? undefined : redact(v).slice(0, 1000));

/**
 * Reads a notice: an .eml file, a pasted email with headers, or just its text. Total: it never
 * throws and runs in time linear in the input (bench/notice-scaling.mjs); input over
 * MAX_NOTICE_BYTES is cut with a warning (callers refuse it first with noticeTooLarge).
 *
 * MIME is decoded by the small decoder above rather than postal-mime: postal-mime's API is
 * asynchronous only (PostalMime.parse returns a Promise), and this parser runs synchronously in
 * the CLI, the editor and the tests, where it must be total and bounded; notices use a small
 * subset of MIME (multipart, base64, quoted-printable, RFC 2047 words, UTF-8 and Latin-1), which
 * the decoder covers in one pass with a nesting limit.
 */
export function parseNotice(input: string | Buffer): ParsedNotice {
  try {
    return parse(input);
  } catch (e) {
    // Never thrown at the caller: a notice that breaks the parser is reported as unreadable.
    return {
      format: 'text',
      abuseTypes: [],
      instanceIds: [],
      ips: [],
      ec2Ips: [],
      regions: [],
      accessKeyIds: [],
      userNames: [],
      urls: [],
      understood: [],
      missing: [],
      warnings: [`the notice could not be read (${redact(String((e as Error)?.message ?? e)).slice(0, 200)}); this does not look like an AWS abuse notice`],
      text: '',
    };
  }
}

function parse(input: string | Buffer): ParsedNotice {
  const warnings: string[] = [];
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
  if (size > MAX_NOTICE_BYTES) {
    // Callers refuse such input (noticeTooLarge) before getting here; cut it rather than spend the time.
    input = typeof input === 'string' ? input.slice(0, MAX_NOTICE_BYTES) : input.subarray(0, MAX_NOTICE_BYTES);
    warnings.push(`the notice is ${(size / 1_000_000).toFixed(1)} MB; only its first ${MAX_NOTICE_BYTES / 1_000_000} MB was read`);
  }
  let raw = typeof input === 'string' ? input : input.toString('utf8');
  if (raw.includes('\u0000')) {
    if (typeof input !== 'string' && input.length > 1 && input[1] === 0) raw = input.toString('utf16le');
    if (raw.includes('\u0000')) {
      raw = raw.split('\u0000').join('');
      warnings.push('the file holds binary data; only its readable text was used');
    }
  }
  raw = raw.replace(/^\uFEFF/, '');
  let format: ParsedNotice['format'] = 'text';
  let headers = new Map<string, string>();
  let body = raw;
  // An email starts with headers; a pasted one may start after a few blank lines or a "Forwarded" line.
  const start = /^(?:[ \t]*\r?\n)*/.exec(raw)?.[0].length ?? 0;
  const headerEnd = /\r?\n\r?\n/.exec(raw.slice(start));
  if (headerEnd) {
    const block = raw.slice(start, start + headerEnd.index);
    const h = parseHeaders(block);
    const lines = block.split(/\r?\n/).filter((l) => !/^[ \t]/.test(l));
    if (lines.length && lines.every((l) => /^[A-Za-z][A-Za-z0-9-]*:/.test(l)) && (h.has('from') || h.has('subject') || h.has('received') || h.has('date'))) {
      format = 'email';
      headers = h;
      body = mimeText(h, raw.slice(start + headerEnd.index + headerEnd[0].length), 0, warnings);
    }
  }
  if (format === 'text' && /<html|<body|<p>|<br\s*\/?>/i.test(body)) body = htmlToText(body);
  // Secrets pasted along with a notice are masked before anything is read out of it, so that no
  // field (subject, URLs, case id, facts) can carry one into the output or incidents.json.
  body = redact(body);
  // [ \t]* and not \s*: \s* at each line start of a run of blank lines is quadratic.
  const subject = redactField(headers.get('subject') ?? /^[ \t]*Subject:[ \t]*(.+)$/im.exec(body)?.[1]?.trim());
  const from = redactField(headers.get('from') ?? /^[ \t]*From:[ \t]*(.+)$/im.exec(body)?.[1]?.trim());
  const dateHeader = headers.get('date') ?? /^[ \t]*(?:Date|Sent):[ \t]*(.+)$/im.exec(body)?.[1]?.trim();
  const received = dateHeader ? new Date(dateHeader) : undefined;
  const receivedAt = received && !Number.isNaN(received.getTime()) ? received.toISOString() : undefined;
  const all = `${subject ?? ''}\n${body}`;

  // Abuse types by how often each is named.
  const scores = (Object.keys(ABUSE_WORDS) as AbuseType[])
    .map((t) => ({ t, n: ABUSE_WORDS[t].reduce((n, re) => n + (all.match(re)?.length ?? 0), 0) }))
    .filter((x) => x.n > 0)
    .sort((a, b) => b.n - a.n);
  const accessKeyIds = [...new Set(all.match(keyIdRegex()) ?? [])];
  // A notice naming an access key as exposed is about the key, whatever else it mentions.
  // A compromised-account notice that names a key is about that key too.
  const keyNotice = scores.some((s) => s.t === 'exposed-key' || s.t === 'account-compromise') && accessKeyIds.length > 0;
  const abuseTypes = scores.map((s) => s.t);
  const abuseType = keyNotice ? 'exposed-key' : abuseTypes[0];

  const ec2Ips: string[] = [];
  const regionsFromHosts: string[] = [];
  for (const m of all.matchAll(EC2_HOST)) {
    ec2Ips.push(m.slice(1, 5).join('.'));
    regionsFromHosts.push(m[5]?.toLowerCase() ?? 'us-east-1');
  }
  const ips = [...new Set([...(all.match(IPV4) ?? []).filter((ip) => !isPrivateV4(ip)), ...(all.match(IPV6) ?? []).filter((ip) => /[a-f]/i.test(ip) || ip.includes('::')).filter((ip) => !/^(?:::1|fe80:|fc|fd)/i.test(ip))])];
  const regions = [...new Set([...(all.match(REGION_CODE) ?? []).map((r) => r.toLowerCase()), ...regionsFromHosts, ...REGION_NAMES.filter(([re]) => re.test(all)).map(([, code]) => code)])];
  const instanceIds = [...new Set(all.match(INSTANCE) ?? [])];
  // IAM user names hold letters, digits and + = , . @ _ - (dots and dashes are common: maria.lopez-dev);
  // a sentence's final dot or comma is not part of the name.
  const userNames = [
    ...new Set(
      [...all.matchAll(/\b(?:IAM[ -]user(?:[ -]?name)?|user ?name)\b:?[ \t]*(?:["“'‘])?([\w+=,.@-]{1,64})/gi)]
        .map((m) => (m[1] as string).replace(/[.,]+$/, ''))
        .filter((u) => u && !/^(?:is|was|has|the|and|or|of|to|in|at|name|names)$/i.test(u)),
    ),
  ];
  const exposedAt = /publicly (?:available|accessible|exposed|visible)(?: online)?(?: at)?:?[ \t]*(?:\r?\n[ \t]*)?(https?:\/\/[^\s<>"')\]]+)/i.exec(all)?.[1]?.replace(/[.,;]+$/, '').slice(0, 500);
  const commitUrl = exposedAt ?? urls0(all).find((u) => /github\.com|gitlab\.com|bitbucket\.org/i.test(u));
  const compare = commitUrl && /\/compare\/([0-9a-f]{6,40})\.\.\.?([0-9a-f]{6,40})\b/i.exec(commitUrl);
  const single = commitUrl && /\/(?:commit|blob|tree|-\/commit)\/([0-9a-f]{7,40})\b/i.exec(commitUrl);
  const commits = compare ? [compare[1] as string, compare[2] as string] : single ? [single[1] as string] : undefined;
  const urls = [...new Set(all.match(/https?:\/\/[^\s<>"')\]]+/g) ?? [])].filter((u) => !/aws\.amazon\.com|amazon\.com\/(?:support|aup)|console\.aws/i.test(u)).slice(0, 20);

  // "Your EC2 Abuse Report [12345678901] [AWS ID 123456789012]": the first is the case, the second the account.
  const caseId =
    /abuse report\s*\[(\d{5,})\]/i.exec(all)?.[1] ??
    /\bcase id:?[ \t]*(\d{6,})\b/i.exec(all)?.[1] ??
    /\[case (\d{6,})\]/i.exec(all)?.[1] ??
    /\b(?:abuse )?(?:case|ticket|report|reference)(?: (?:number|no\.?|id))?\s*[:#]\s*((?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{4,})/i.exec(all)?.[1] ??
    /\b(?:case|ticket) #?(\d{6,})/i.exec(all)?.[1];
  const accountId =
    /\bAWS ID:?\s*(\d{12})\b/i.exec(all)?.[1] ??
    /\baccount(?: id| number| #)?:?\s*(\d{4}-?\d{4}-?\d{4})\b/i.exec(all)?.[1]?.replace(/-/g, '') ??
    /arn:aws:[a-z0-9-]*:[a-z0-9-]*:(\d{12}):/.exec(all)?.[1];

  // The reporter's form attached to abuse reports: its date, time and zone are the reporter's own.
  const formDate = /\bAbuse date(?: \(yyyy-mm-dd\))?:[ \t]*(\d{4})-(\d{1,2})-(\d{1,2})\b/i.exec(all);
  const formTime = /\bAbuse time(?: \([^)\n]{0,20}\))?:[ \t]*(\d{1,2}):(\d{2})(?::(\d{2}))?\b/i.exec(all);
  const formZone = /\bTime ?zone:[ \t]*(?:(?:UTC|GMT)[ \t]*)?([+-])(\d{1,2}):?(\d{2})\b/i.exec(all);
  let reported: ParsedNotice['reported'];
  let formYear: number | undefined;
  let zoneHint: string | undefined;
  if (formDate) {
    const [y, mo, d] = [Number(formDate[1]), Number(formDate[2]), Number(formDate[3])];
    const date = `${formDate[1]}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
    const valid = mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && new Date(`${date}T00:00:00Z`).getUTCDate() === d;
    if (!valid) warnings.push(`the reporter's abuse date "${formDate[1]}-${formDate[2]}-${formDate[3]}" is not a calendar date; it was not used`);
    else {
      formYear = y;
      const zh = formZone ? Number(formZone[2]) : NaN;
      const zoneOk = formZone && zh <= 14 && Number(formZone[3]) < 60;
      const zone = zoneOk ? `${formZone[1]}${String(zh).padStart(2, '0')}:${formZone[3]}` : undefined;
      if (formZone && !zoneOk) warnings.push(`the reporter's time zone "${formZone[0]}" is not a UTC offset; it was not used`);
      zoneHint = zone;
      const th = formTime ? Number(formTime[1]) : NaN;
      const time = formTime && th < 24 && Number(formTime[2]) < 60 && Number(formTime[3] ?? 0) < 60 ? `${String(th).padStart(2, '0')}:${formTime[2]}:${formTime[3] ?? '00'}` : undefined;
      const at = time && zone ? new Date(`${date}T${time}${zone}`).toISOString() : undefined;
      if (time && !zone) warnings.push('the reporter gave the abuse time without a time zone: it is shown as written, not converted');
      reported = { date, ...(time ? { time } : {}), ...(zone ? { zone } : {}), ...(at ? { at } : {}) };
    }
  }
  const year = formYear ?? received?.getUTCFullYear() ?? new Date().getUTCFullYear();
  const stamps = parseTimestamps(body, year, zoneHint, formYear === undefined && received ? received.getTime() : undefined).filter((d) => !receivedAt || Math.abs(d.getTime() - Date.parse(receivedAt)) > 1000);
  if (reported?.at) stamps.push(new Date(reported.at));
  stamps.sort((a, b) => a.getTime() - b.getTime());
  const window = stamps.length ? { from: (stamps[0] as Date).toISOString(), to: (stamps[stamps.length - 1] as Date).toISOString() } : undefined;

  // "within 24 hours", "within five (5) days", "in the next 48 hours".
  const within = /\b(?:within|in the next)(?: the next)? (\d+|twenty[- ]four|forty[- ]eight|seventy[- ]two|one|two|three|four|five|seven|ten|fourteen)(?:[ \t]*\((\d+)\))? (hours?|days?|business days?)/i.exec(all);
  let replyWithin: string | undefined;
  let deadline: string | undefined;
  if (within) {
    const words: Record<string, number> = { 'twenty-four': 24, 'twenty four': 24, 'forty-eight': 48, 'forty eight': 48, 'seventy-two': 72, 'seventy two': 72, one: 1, two: 2, three: 3, four: 4, five: 5, seven: 7, ten: 10, fourteen: 14 };
    const n = Number(within[1]) || (words[(within[1] as string).toLowerCase()] ?? 0);
    if (within[2] && Number(within[2]) !== n) warnings.push(`the reply time reads "${within[0]}": the word and the number differ; ${n} was used`);
    const unit = (within[3] as string).toLowerCase();
    replyWithin = `${n} ${unit.replace(/s$/, '')}${n === 1 ? '' : 's'}`;
    if (receivedAt && n) deadline = new Date(Date.parse(receivedAt) + n * (unit.startsWith('hour') ? 3_600_000 : 86_400_000)).toISOString();
  }

  // "contact AWS by 2025-04-14" / "by April 14, 2025": a day as written; an impossible date is said, not used.
  let contactBy: string | undefined;
  const byIso = /\b(?:contact|respond to|reply to|respond|reply)(?: AWS| us)?(?: [\w ]{0,30}?)? (?:by|before|no later than) (\d{4})-(\d{2})-(\d{2})\b/i.exec(all);
  const byText = /\b(?:contact|respond to|reply to|respond|reply)(?: AWS| us)?(?: [\w ]{0,30}?)? (?:by|before|no later than) (January|February|March|April|May|June|July|August|September|October|November|December) (\d{1,2}),? (\d{4})\b/i.exec(all);
  const by = byIso ? [byIso[1], byIso[2], byIso[3]] : byText ? [byText[3], String(MONTHS.indexOf((byText[1] as string).slice(0, 3).toLowerCase()) + 1).padStart(2, '0'), (byText[2] as string).padStart(2, '0')] : undefined;
  if (by) {
    const iso = `${by[0]}-${by[1]}-${by[2]}`;
    const d = new Date(`${iso}T00:00:00Z`);
    if (!Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso) contactBy = iso;
    else warnings.push(`the notice asks for contact by "${iso}", which is not a calendar date; no deadline was set from it`);
  }
  const caseSeverity = /^[ \t]*Severity:[ \t]*([A-Za-z][A-Za-z -]{1,40}?)[ \t]*$/im.exec(all)?.[1];

  const understood: Array<[string, string]> = [];
  const missing: string[] = [];
  const note = (label: string, value: string | undefined, required: boolean): void => {
    if (value) understood.push([label, value]);
    else if (required) missing.push(label);
  };
  note('Abuse type', abuseType && [ABUSE_LABELS[abuseType], ...abuseTypes.filter((t) => t !== abuseType).map((t) => ABUSE_LABELS[t])].join('; '), true);
  note('Case', caseId, false);
  note('Account', accountId, false);
  const aboutKeys = keyNotice || abuseType === 'exposed-key' || abuseType === 'account-compromise';
  note('Instances', instanceIds.join(', '), !aboutKeys);
  note('Access keys', accessKeyIds.join(', '), abuseType === 'exposed-key' || keyNotice);
  note('IAM users', userNames.join(', '), false);
  note('Region', regions.join(', '), !aboutKeys);
  note('IP addresses', ips.slice(0, 20).join(', ') + (ips.length > 20 ? ` and ${ips.length - 20} more` : ''), false);
  note('EC2 addresses', [...new Set(ec2Ips)].join(', '), false);
  note('Activity window', window && (window.from === window.to ? window.from : `${window.from} to ${window.to}`), !aboutKeys);
  note('Received', receivedAt, false);
  note('Exposed at', exposedAt, false);
  note('Commits', commits?.join(compare ? '...' : ', '), false);
  note('Case severity', caseSeverity, false);
  note('Reported abuse time', reported && (reported.at ?? `${reported.date}${reported.time ? ` ${reported.time}` : ''}${reported.zone ? ` ${reported.zone}` : ' (time zone not given)'}`), false);
  note('Contact AWS by', contactBy, false);
  note('Reply within', replyWithin, !contactBy);
  note('Reply deadline', deadline, false);
  if (replyWithin && !deadline) warnings.push(`the notice asks for a reply within ${replyWithin}, but the time it was sent is unknown (paste the Date header, or use the .eml)`);
  if (!instanceIds.length && !accessKeyIds.length && !ips.length && !abuseType) warnings.push('this does not look like an AWS abuse notice: no instance id, IP address, access key id or type of abuse was found');
  if (format === 'email' && !body.trim()) warnings.push('the email has headers but no readable text (an attachment only, or cut off when saved)');
  if (regions.length > 1) warnings.push(`several regions are named (${regions.join(', ')}); check each one`);

  return {
    format,
    subject,
    from,
    receivedAt,
    abuseType,
    abuseTypes,
    caseId,
    accountId,
    instanceIds,
    ips,
    ec2Ips,
    region: regions[0],
    regions,
    accessKeyIds,
    userNames,
    urls,
    window,
    replyWithin,
    deadline,
    contactBy,
    exposedAt,
    commits,
    caseSeverity,
    reported,
    understood,
    missing,
    warnings,
    text: body.trim().slice(0, 20_000),
  };
}

/** Forwarded notices read per import: more attachments than this are not opened. */
const MAX_FORWARDED = 3;
/** postal-mime is linear in the bytes but slow per MIME part: it is given messages of at most this many parts. */
const MAX_PARTS_FOR_POSTAL_MIME = 200;

/**
 * parseNotice, and for a notice forwarded as an attachment (`message/rfc822`, what "Forward as
 * attachment" produces) the forwarded message itself: the attachment is found with postal-mime
 * (a maintained MIME parser; asynchronous, hence this function), then read by parseNotice. The
 * first forwarded message that reads as a notice is the result, with a note saying so; otherwise
 * the outer message's reading stands.
 *
 * Bounds: the input is capped by parseNotice's MAX_NOTICE_BYTES; postal-mime runs only on emails
 * that declare a message/rfc822 part, whose boundaries are within RFC 2046's 70 characters and
 * that have at most MAX_PARTS_FOR_POSTAL_MIME delimiter lines (counted in one pass), with its own
 * nesting and header-size limits set low. Anything else is read by the linear parser alone.
 */
export async function parseNoticeAsync(input: string | Buffer): Promise<ParsedNotice> {
  const outer = parseNotice(input);
  if (outer.format !== 'email') return outer;
  const raw = typeof input === 'string' ? input.slice(0, MAX_NOTICE_BYTES) : input.subarray(0, MAX_NOTICE_BYTES).toString('utf8');
  if (!/^content-type:[ \t]*message\/rfc822/im.test(raw)) return outer;
  const boundaries = [...raw.matchAll(/boundary=(?:"([^"\r\n]{0,80})|([^";\s]{0,80}))/gi)].map((m) => m[1] ?? m[2] ?? '');
  let delimiters = 0;
  for (let i = raw.indexOf('\n--'); i >= 0 && delimiters <= MAX_PARTS_FOR_POSTAL_MIME; i = raw.indexOf('\n--', i + 3)) delimiters++;
  if (boundaries.some((b) => !b || b.length > MAX_BOUNDARY) || delimiters > MAX_PARTS_FOR_POSTAL_MIME) {
    return { ...outer, warnings: [...outer.warnings, 'the email has a forwarded message attached, but its structure is malformed or too large to open; only its outer text was read'] };
  }
  let attached: string[];
  try {
    const { default: PostalMime } = await import('postal-mime');
    const email = await PostalMime.parse(raw, { attachmentEncoding: 'utf8', forceRfc822Attachments: true, maxNestingDepth: 8, maxHeadersSize: 256 * 1024, maxRfc822NestingDepth: 0 });
    attached = email.attachments
      .filter((a) => /^message\/rfc822$/i.test(a.mimeType))
      .slice(0, MAX_FORWARDED)
      .map((a) => (typeof a.content === 'string' ? a.content : Buffer.from(a.content as ArrayBuffer).toString('utf8')));
  } catch (e) {
    return { ...outer, warnings: [...outer.warnings, `the forwarded message attached could not be opened (${redact(String((e as Error)?.message ?? e)).slice(0, 200)}); only the outer text was read`] };
  }
  for (const content of attached) {
    const inner = parseNotice(content);
    if (!isUsableNotice(inner)) continue;
    const note = `read from the message forwarded as an attachment${outer.subject ? ` in "${outer.subject}"` : ''}${outer.from ? ` from ${outer.from}` : ''}`;
    return { ...inner, warnings: [note, ...inner.warnings] };
  }
  return outer;
}

/** True when enough was understood to open an incident. */
export const isUsableNotice = (n: ParsedNotice): boolean => !!(n.instanceIds.length || n.accessKeyIds.length || n.ips.length || n.abuseType);

/**
 * The incident a notice opens or adds to. A notice naming exactly one access key belongs to that
 * key's incident (`key:<id>`, shared with the workspace, the gate and audits); one naming exactly
 * one instance to that instance's (`instance:<id>`); others get their own. Its evidence id is the
 * notice's (case id, else a hash of its text), so importing it again changes nothing.
 */
export function noticeIncident(n: ParsedNotice): SourceDraft {
  const keyNotice = n.abuseType === 'exposed-key' || (n.abuseType === 'account-compromise' && n.accessKeyIds.length > 0);
  const type: IncidentType = keyNotice ? 'exposed-key' : n.abuseType === 'account-compromise' ? 'unknown-resources' : 'compromised-instance';
  const noticeId = `notice:${n.caseId ?? createHash('sha256').update(n.text).digest('hex').slice(0, 16)}`;
  const id = n.accessKeyIds.length === 1 && keyNotice ? `key:${n.accessKeyIds[0]}` : n.instanceIds.length === 1 && !keyNotice ? `instance:${n.instanceIds[0]}` : noticeId;
  const region = n.region;
  const owner = n.accessKeyIds.length === 1 && n.userNames.length === 1 ? n.userNames[0] : undefined;
  const resources: ResourceRef[] = [
    ...n.instanceIds.map((i): ResourceRef => ({ kind: 'instance', id: i, region })),
    ...n.accessKeyIds.map((k): ResourceRef => ({ kind: 'access-key', id: k, ...(owner ? { user: owner } : {}) })),
    ...n.userNames.map((u): ResourceRef => ({ kind: 'user', id: u })),
    ...[...new Set(n.ec2Ips)].map((ip): ResourceRef => ({ kind: 'ip', id: ip, label: 'EC2 address named in the notice' })),
  ];
  const what = n.abuseType ? ABUSE_LABELS[n.abuseType] : 'Abuse report';
  const subjectOf = n.instanceIds.length ? n.instanceIds.join(', ') : n.accessKeyIds.length ? n.accessKeyIds.join(', ') : n.ec2Ips.join(', ') || (n.accountId ? `account ${n.accountId}` : 'unspecified resources');
  const reply = n.contactBy ? ` by ${n.contactBy}` : n.replyWithin ? ` within ${n.replyWithin}` : '';
  return {
    id,
    source: 'notice',
    evidenceId: noticeId,
    label: `notice${n.caseId ? ` ${n.caseId}` : ''}${n.receivedAt ? ` of ${n.receivedAt.slice(0, 10)}` : ''}`,
    type,
    severity: type === 'exposed-key' || type === 'unknown-resources' || n.abuseType === 'dos' || n.abuseType === 'malware' || n.abuseType === 'mining' ? 'critical' : 'high',
    title: `AWS ${n.abuseType === 'account-compromise' || keyNotice ? 'notice' : 'abuse notice'}${n.caseId ? ` ${n.caseId}` : ''}: ${what} ${keyNotice || n.abuseType === 'account-compromise' ? '' : 'from '}${subjectOf}`.replace(/  +/g, ' '),
    summary:
      type === 'exposed-key'
        ? `AWS reports that an access key of this account is ${n.abuseType === 'account-compromise' ? 'used by someone else' : 'exposed'}${n.exposedAt ? ` (at ${n.exposedAt})` : ''}. Treat it as in use by someone else: deactivate it, see what it did, rotate it, and reply to AWS${reply}.`
        : type === 'unknown-resources'
          ? `AWS reports irregular activity in this account: someone else may hold working credentials. Look for what they created in every region, rotate every key and password, and reply to AWS${reply} or the account may be suspended.`
          : `AWS reports ${what.toLowerCase()} coming from this account${region ? ` in ${region}` : ''}. Treat the instance as compromised: contain it, keep evidence, rebuild it, and reply to AWS${reply} or the account may be restricted.`,
    resources,
    facts: [...n.understood, ...(n.subject ? [['Subject', n.subject] as [string, string]] : []), ...(n.missing.length ? [['Not found in the notice', n.missing.join(', ')] as [string, string]] : [])],
    account: n.accountId,
  };
}

/**
 * The Investigation section of an incident's Markdown report (core/incidents/report.ts): what the
 * key did, from CloudTrail, and what it left behind with what was removed. Every value is
 * attacker-influenced (names, user agents, IPs): redacted, then escaped with mdText / mdCode.
 */
import { redact } from '../mask';
import { mdCode, mdText } from '../incidents/escape';
import type { Incident } from '../incidents/types';
import { loadInvestigation } from './store';
import type { Investigation } from './investigation';

const t = (v: unknown): string => mdText(redact(String(v ?? ''))) || '(empty)';
const code = (v: unknown): string => mdCode(String(v ?? '').trim() ? redact(String(v)) : '(empty)');
const OWNERSHIP: Record<string, string> = { attacker: 'not yours', 'attacker-changed': 'changed by the attacker; existed before?', 'owner-before-exposure': 'yours (before the exposure)', 'owner-tools': 'yours (your IP address and tool)' };

/** When a removal of this resource ran successfully (its timeline entry names `[id]`), from the incident's timeline. */
export function removedAt(i: Incident, resourceId: string): string | undefined {
  const hit = [...i.timeline].reverse().find((e) => e.kind === 'action' && e.text.includes(`[${resourceId}]`) && !!e.calls?.length && e.calls.every((c) => c.ok));
  return hit?.at;
}

export function investigationMarkdown(i: Incident, inv: Investigation): string[] {
  const s = inv.summary;
  const out: string[] = ['## Investigation (CloudTrail)', ''];
  const subject = inv.subject.accessKeyId ? `access key ${inv.subject.accessKeyId}` : `IAM user ${inv.subject.user ?? ''}`;
  out.push(`- **Subject:** ${t(subject)}`);
  out.push(`- **Exposure from:** ${t(inv.exposure.since)} (${t(inv.exposure.detail)})`);
  out.push(`- **Window read:** ${t(inv.window.from)} to ${t(inv.window.to)}, ${inv.regions.length} region(s), investigated ${t(inv.at)}`);
  out.push(`- **Calls after the exposure:** ${s.events} (${s.ownerCalls} look like your own use, ${s.otherCalls} do not)${s.first ? `, first ${t(s.first)}, last ${t(s.last)}` : ''}`);
  if (inv.signerNote) out.push(`- **Note:** ${t(inv.signerNote)}`);
  for (const f of inv.failures) out.push(`- **Not read:** ${t(f.region)}: ${t(f.message)}`);
  out.push('');
  if (s.verdict.length) out.push(...s.verdict.map((v) => `- ${t(v)}`), '');
  const unknownIps = s.ips.filter((x) => !x.known);
  if (unknownIps.length) out.push(`Source IP addresses not seen before the exposure: ${unknownIps.slice(0, 30).map((x) => `${code(x.ip)} (${x.count})`).join(', ')}${unknownIps.length > 30 ? ', …' : ''}`, '');
  for (const f of inv.followed) out.push(`- Access key ${code(f.keyId)}${f.user ? ` of ${t(f.user)}` : ''}, created by the attacker: ${f.events} call(s)${f.verdict.length ? `; ${f.verdict.map(t).join('; ')}` : ''}`);
  if (inv.followed.length) out.push('');
  if (inv.resources.length) {
    out.push('### Created or changed by the key', '');
    for (const r of inv.resources) {
      const done = r.removal ? removedAt(i, r.removal.resource.id) : undefined;
      out.push(`- ${t(r.type)} ${code(r.id)} (${t(r.region)}), ${t(r.eventName)} at ${t(r.eventTime)}: ${t(OWNERSHIP[r.ownership] ?? r.ownership)}${done ? `; **removed** ${t(done)}` : r.removal ? '; not removed yet' : ''}`);
    }
    out.push('');
  }
  if (inv.timeline.length) {
    out.push('### Calls that were not the owner\'s', '');
    for (const e of inv.timeline.slice(0, 200)) out.push(`- ${t(e.time)} ${code(e.name)} (${t(e.region)}) from ${code(e.ip ?? '?')}${e.errorCode ? `, failed: ${t(e.errorCode)}` : ''}${e.accessKeyId && e.accessKeyId !== inv.subject.accessKeyId ? `, with key ${code(e.accessKeyId)}` : ''}`);
    const more = inv.timeline.length - 200 + inv.timelineTruncated;
    if (more > 0) out.push(`- … ${more} more`);
    out.push('');
  }
  return out;
}

/** The section for the report, or nothing when the incident was not investigated. */
export function investigationSection(i: Incident, home?: string): string[] {
  const inv = loadInvestigation(i.id, home);
  return inv ? investigationMarkdown(i, inv) : [];
}

import { redact } from '../mask';
import { mdCode, mdText, oneLine } from './escape';
import { investigationSection } from '../investigate/report';
import type { ParsedNotice } from './notice';
import type { Runbook } from './runbooks';
import { SEVERITIES, type AccountSnapshot, type Incident, type IncidentDraft } from './types';

const bySeverity = <T extends { severity: string }>(a: T, b: T): number => SEVERITIES.indexOf(a.severity as never) - SEVERITIES.indexOf(b.severity as never);

/** `keysentry audit` text output: what was scanned, then each problem, worst first. */
export function formatAudit(snapshot: AccountSnapshot, drafts: IncidentDraft[]): string {
  const lines = [
    `Account ${snapshot.account} as ${snapshot.caller}${snapshot.profile ? ` (profile ${snapshot.profile})` : ''}`,
    `Regions scanned: ${snapshot.regions.length} (home: ${snapshot.homeRegions.join(', ')}); ${snapshot.instances.length} instance(s), ${snapshot.securityGroups.length} security group(s), ${snapshot.keyPairs.length} key pair(s), ${snapshot.users?.length ?? '?'} IAM user(s)`,
    '',
  ];
  if (!drafts.length) lines.push('No incidents found.');
  for (const d of [...drafts].sort(bySeverity)) {
    lines.push(`[${d.severity.toUpperCase()}] ${oneLine(d.title)}`);
    lines.push(`  ${d.type} · ${oneLine(d.id)}`);
    for (const [k, v] of d.facts) lines.push(`  ${oneLine(k)}: ${oneLine(v)}`);
    lines.push('');
  }
  if (snapshot.errors.length) {
    lines.push(`Could not check everything (${snapshot.errors.length}):`);
    for (const e of snapshot.errors) lines.push(`  ! ${oneLine(e)}`);
  }
  return redact(lines.join('\n').trimEnd());
}

/** `keysentry notice` text output: what was understood and what was not. */
export function formatNotice(n: ParsedNotice): string {
  const width = Math.max(...n.understood.map(([k]) => k.length), 10);
  const lines = [`Read as ${n.format === 'email' ? 'an email' : 'plain text'}${n.subject ? `: "${oneLine(n.subject)}"` : ''}`, ''];
  for (const [k, v] of n.understood) lines.push(`${k.padEnd(width)}  ${oneLine(v)}`);
  if (n.missing.length) lines.push('', `Not found: ${n.missing.join(', ')}`);
  for (const w of n.warnings) lines.push(`! ${oneLine(w)}`);
  return redact(lines.join('\n'));
}

/**
 * A Markdown report for the reply to AWS ("respond with the steps you have taken"): what
 * happened, what was affected, each action with its time and result, and what is still open.
 * Every value that comes from the account, a notice or the incidents file (titles, names,
 * tags, ids, times, actors, errors) goes through mdText or mdCode: none can add a heading, a
 * link, an image or HTML to the report.
 */
export function incidentReport(i: Incident, runbook: Runbook | undefined, generatedBy: string): string {
  const out: string[] = [];
  // Each value is redacted first, then escaped (redacting after escaping would put raw `*` back).
  // An empty value is shown as such: it must not leave an empty item or paragraph that changes the layout.
  const t = (v: unknown): string => mdText(redact(String(v ?? ''))) || '(empty)';
  const code = (v: unknown): string => mdCode(String(v ?? '').trim() ? redact(String(v)) : '(empty)');
  out.push(`# ${t(i.title)}`, '');
  out.push(`- **Status:** ${t(i.status)}`, `- **Severity:** ${t(i.severity)}`, `- **Type:** ${t(runbook?.title ?? i.type)}`);
  if (i.account) out.push(`- **Account:** ${t(i.account)}`);
  out.push(`- **Opened:** ${t(i.createdAt)}`, `- **Last update:** ${t(i.updatedAt)}`, '');
  out.push('## Summary', '', t(i.summary), '');
  if (i.facts.length) {
    out.push('## Details', '');
    for (const [k, v] of i.facts) out.push(`- **${t(k)}:** ${t(v)}`);
    out.push('');
  }
  if (i.resources.length) {
    out.push('## Affected resources', '');
    for (const r of i.resources) out.push(`- ${t(r.kind)} ${code(r.id)}${r.region ? ` (${t(r.region)})` : ''}${r.label ? `: ${t(r.label)}` : ''}`);
    out.push('');
  }
  out.push(...investigationSection(i)); // investigate: what the key did and left behind
  const actions = i.timeline.filter((e) => e.kind === 'action' || e.kind === 'error');
  out.push('## Actions taken', '');
  if (!actions.length) out.push('_No containment action was run from Keysentry._');
  for (const a of actions) {
    out.push(`- ${t(a.at)} · ${t(a.actor)} · ${a.kind === 'error' ? '**failed:** ' : ''}${t(a.text)}`);
    for (const c of a.calls ?? []) out.push(`  - ${code(c.api)} ${t(c.target)}${c.region ? ` (${t(c.region)})` : ''}: ${c.ok ? 'done' : `failed: ${t(c.error ?? '')}`}`);
  }
  out.push('');
  if (runbook) {
    out.push('## Checklist', '');
    for (const phase of runbook.phases) {
      out.push(`### ${t(phase.name)}`, '');
      for (const s of phase.steps) {
        const st = i.steps[`${phase.name}/${s.id}`];
        out.push(`- [${st?.done ? 'x' : ' '}] ${t(s.title ?? s.what)}${st?.done ? ` (${t(st.at)}, ${t(st.by)})` : ''}`);
      }
      out.push('');
    }
  }
  out.push('## Timeline', '');
  for (const e of i.timeline) out.push(`- ${t(e.at)} · ${t(e.kind)} · ${t(e.actor)}: ${t(e.text)}`);
  out.push('', `_Report generated ${new Date().toISOString()} by ${t(generatedBy)} with Keysentry._`, '');
  return out.join('\n');
}

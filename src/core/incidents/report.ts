import { redact } from '../mask';
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
    lines.push(`[${d.severity.toUpperCase()}] ${d.title}`);
    lines.push(`  ${d.type} · ${d.id}`);
    for (const [k, v] of d.facts) lines.push(`  ${k}: ${v}`);
    lines.push('');
  }
  if (snapshot.errors.length) {
    lines.push(`Could not check everything (${snapshot.errors.length}):`);
    for (const e of snapshot.errors) lines.push(`  ! ${e}`);
  }
  return redact(lines.join('\n').trimEnd());
}

/** `keysentry notice` text output: what was understood and what was not. */
export function formatNotice(n: ParsedNotice): string {
  const width = Math.max(...n.understood.map(([k]) => k.length), 10);
  const lines = [`Read as ${n.format === 'email' ? 'an email' : 'plain text'}${n.subject ? `: "${n.subject}"` : ''}`, ''];
  for (const [k, v] of n.understood) lines.push(`${k.padEnd(width)}  ${v}`);
  if (n.missing.length) lines.push('', `Not found: ${n.missing.join(', ')}`);
  for (const w of n.warnings) lines.push(`! ${w}`);
  return redact(lines.join('\n'));
}

const mdEscape = (s: string): string => s.replace(/([\\`*_[\]<>|])/g, '\\$1');

/**
 * A Markdown report for the reply to AWS ("respond with the steps you have taken"): what
 * happened, what was affected, each action with its time and result, and what is still open.
 */
export function incidentReport(i: Incident, runbook: Runbook | undefined, generatedBy: string): string {
  const out: string[] = [];
  out.push(`# ${mdEscape(i.title)}`, '');
  out.push(`- **Status:** ${i.status}`, `- **Severity:** ${i.severity}`, `- **Type:** ${runbook?.title ?? i.type}`);
  if (i.account) out.push(`- **Account:** ${i.account}`);
  out.push(`- **Opened:** ${i.createdAt}`, `- **Last update:** ${i.updatedAt}`, '');
  out.push('## Summary', '', mdEscape(i.summary), '');
  if (i.facts.length) {
    out.push('## Details', '');
    for (const [k, v] of i.facts) out.push(`- **${mdEscape(k)}:** ${mdEscape(v)}`);
    out.push('');
  }
  if (i.resources.length) {
    out.push('## Affected resources', '');
    for (const r of i.resources) out.push(`- ${r.kind} \`${r.id}\`${r.region ? ` (${r.region})` : ''}${r.label ? `: ${mdEscape(r.label)}` : ''}`);
    out.push('');
  }
  const actions = i.timeline.filter((t) => t.kind === 'action' || t.kind === 'error');
  out.push('## Actions taken', '');
  if (!actions.length) out.push('_No containment action was run from Keysentry._');
  for (const a of actions) {
    out.push(`- ${a.at} · ${mdEscape(a.actor)} · ${a.kind === 'error' ? '**failed:** ' : ''}${mdEscape(a.text)}`);
    for (const c of a.calls ?? []) out.push(`  - \`${c.api}\` ${c.target}${c.region ? ` (${c.region})` : ''}: ${c.ok ? 'done' : `failed: ${mdEscape(c.error ?? '')}`}`);
  }
  out.push('');
  if (runbook) {
    out.push('## Checklist', '');
    for (const phase of runbook.phases) {
      out.push(`### ${phase.name}`, '');
      for (const s of phase.steps) {
        const st = i.steps[`${phase.name}/${s.id}`];
        out.push(`- [${st?.done ? 'x' : ' '}] ${mdEscape(s.title ?? s.what)}${st?.done ? ` (${st.at}, ${mdEscape(st.by)})` : ''}`);
      }
      out.push('');
    }
  }
  out.push('## Timeline', '');
  for (const t of i.timeline) out.push(`- ${t.at} · ${t.kind} · ${mdEscape(t.actor)}: ${mdEscape(t.text)}`);
  out.push('', `_Report generated ${new Date().toISOString()} by ${mdEscape(generatedBy)} with Keysentry._`, '');
  return redact(out.join('\n'));
}

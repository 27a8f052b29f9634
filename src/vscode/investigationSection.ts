import { userInfo } from 'node:os';
import * as vscode from 'vscode';
import { describePlan, planAction, runPlan, type ActionPlan } from '../core/incidents/actions';
import { REMOVAL_KINDS } from '../core/incidents/removal';
import type { Incident } from '../core/incidents/types';
import type { Exposure, Investigation } from '../core/investigate/investigation';
import { removedAt } from '../core/investigate/report';
import { loadInvestigation, saveInvestigation } from '../core/investigate/store';
import { isKeyIdShape } from '../core/detect/patterns';
import type { AccountIncidents } from './accountIncidents';
import type { Log } from './log';
import type { InvestigationView } from '../../media/webview/investigation';

// The Investigation section of an incident's webview (src/vscode/incidentPanel.ts calls it):
// "Investigate" reads the key's CloudTrail history (progress and Cancel in the notification), the
// result is stored beside the incident, and each thing the attacker left behind gets a removal
// button whose plan is shown and confirmed before anything runs. The webview renders the view
// model with textContent only (media/webview/investigation.ts): names here are attacker-chosen.

const DAY = 86_400_000;
const REMOVABLE = [...REMOVAL_KINDS, 'terminate-instance', 'delete-key-pair'] as string[];

export type InvestigationMessage = { type: 'investigate' } | { type: 'remove'; kind: string; resource: string };

export function isInvestigationMessage(m: unknown): m is InvestigationMessage {
  const o = m as Record<string, unknown> | null;
  if (!o || typeof o !== 'object') return false;
  if (o.type === 'investigate') return true;
  return o.type === 'remove' && typeof o.kind === 'string' && REMOVABLE.includes(o.kind) && typeof o.resource === 'string' && o.resource.length > 0 && o.resource.length <= 600;
}

/** What the incident is about: its access key (or, without one, its IAM user). */
export function subjectOf(inc: Incident): { accessKeyId?: string; user?: string } | undefined {
  const key = inc.resources.find((r) => r.kind === 'access-key' && isKeyIdShape(r.id));
  if (key) return { accessKeyId: key.id };
  const user = inc.resources.find((r) => r.kind === 'user' && /^[\w+=,.@-]{1,64}$/.test(r.id));
  return user && inc.type !== 'no-mfa' ? { user: user.id } : undefined;
}

/** The start of the notice's activity window, when the incident came from one. */
export function noticeStart(inc: Incident): string | undefined {
  const fact = inc.facts.find(([k]) => k === 'Activity window')?.[1];
  const m = fact && /\d{4}-\d\d-\d\d(?:[T ][\d:.]+Z?)?/.exec(fact);
  const d = m ? new Date(m[0].includes('T') || m[0].includes(' ') ? m[0].replace(' ', 'T') : `${m[0]}T00:00:00Z`) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined;
}

// The view model's shape is the webview's (one definition, type-only: nothing of the page is bundled here).
export type { InvestigationView } from '../../media/webview/investigation';

const OWNER_LABEL: Record<string, string> = { attacker: 'not yours', 'attacker-changed': 'changed by the attacker; existed before?', 'owner-before-exposure': 'yours: made before the exposure', 'owner-tools': 'yours: your IP address and tool' };


export function investigationViewOf(inc: Incident, inv: Investigation | undefined, running: boolean): InvestigationView | undefined {
  const subject = subjectOf(inc);
  if (!subject) return undefined;
  const view: InvestigationView = { subject: subject.accessKeyId ?? `IAM user ${subject.user}`, running };
  if (!inv) return view;
  const s = inv.summary;
  view.investigated = {
    at: inv.at,
    exposure: `${inv.exposure.since} (${inv.exposure.detail})`,
    window: `${inv.window.from} to ${inv.window.to} in ${inv.regions.length} region(s)`,
    counts: `${s.events} call(s) after the exposure: ${s.otherCalls} not from your usual IP addresses and tools, ${s.ownerCalls} from them${s.first ? `; first ${s.first}, last ${s.last}` : ''}`,
    verdict: [...s.verdict, ...inv.followed.map((f) => `access key ${f.keyId}${f.user ? ` (${f.user})` : ''}, created by the attacker: ${f.events} call(s)${f.verdict.length ? `; ${f.verdict.join('; ')}` : ''}`)],
    notes: [...(inv.signerNote ? [inv.signerNote] : []), ...inv.failures.map((f) => `not read: ${f.region}: ${f.message}`)],
    timeline: inv.timeline.slice(0, 200).map((e) => ({ time: e.time, name: e.name, region: e.region, ip: e.ip ?? '?', failed: e.errorCode ?? '', key: e.accessKeyId && e.accessKeyId !== inv.subject.accessKeyId ? e.accessKeyId : '' })),
    more: Math.max(0, inv.timeline.length - 200) + inv.timelineTruncated,
    resources: inv.resources.map((r) => ({
      type: r.type,
      id: r.id,
      region: r.region,
      when: `${r.eventName} at ${r.eventTime}`,
      owner: OWNER_LABEL[r.ownership] ?? r.ownership,
      ...(r.note ? { note: r.note } : {}),
      ...(r.removal ? { removal: { kind: r.removal.kind, resource: r.removal.resource.id, label: r.removal.label, done: !!removedAt(inc, r.removal.resource.id) } } : {}),
    })),
  };
  return view;
}

export class InvestigationSection {
  private readonly running = new Set<string>();
  private readonly cache = new Map<string, Investigation | undefined>();

  constructor(
    private readonly incidents: AccountIncidents,
    private readonly log: Log,
  ) {}

  private stored(id: string): Investigation | undefined {
    if (!this.cache.has(id)) this.cache.set(id, loadInvestigation(id));
    return this.cache.get(id);
  }

  /** The view model the incident webview renders (undefined: the incident names no key or user). */
  view(inc: Incident): InvestigationView | undefined {
    return investigationViewOf(inc, this.stored(inc.id), this.running.has(inc.id));
  }

  async handle(id: string, m: InvestigationMessage, refresh: () => void): Promise<void> {
    const inc = this.incidents.book.get(id);
    if (!inc || this.running.has(id)) return;
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Keysentry: investigating and removing resources need a trusted workspace.'));
      return;
    }
    this.running.add(id);
    refresh();
    try {
      if (m.type === 'investigate') await this.investigate(inc);
      else await this.remove(inc, m.kind, m.resource);
    } catch (e) {
      const message = (e as Error).message;
      this.log.warn(`investigation of ${id}: ${message}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: {0}', message));
    } finally {
      this.running.delete(id);
      refresh();
    }
  }

  private target(inc: Incident): { profile?: string; region?: string; endpoint?: string } {
    const aws = vscode.workspace.getConfiguration('keysentry.aws');
    return { profile: inc.profile || aws.get<string>('profile', '') || undefined, region: aws.get<string>('region', '') || undefined, endpoint: aws.get<string>('endpointUrl', '') || undefined };
  }

  private actor(arn?: string): string {
    let user = 'someone';
    try {
      user = userInfo().username;
    } catch {
      // no passwd entry: keep "someone"
    }
    return arn ? `${user} (${arn})` : user;
  }

  /** The exposure: the first commit that added the key in a workspace folder, else the notice's window, else 90 days. */
  private async exposure(inc: Incident, keyId: string | undefined): Promise<Exposure> {
    const oldest = new Date(Date.now() - 90 * DAY).toISOString();
    const { firstCommitAdding } = await import('../git/exposure');
    let best: { commit: string; date: string; folder: string } | undefined;
    if (keyId)
      for (const f of vscode.workspace.workspaceFolders ?? []) {
        if (f.uri.scheme !== 'file') continue;
        const hit = await firstCommitAdding(f.uri.fsPath, keyId);
        if (hit && (!best || hit.date < best.date)) best = { ...hit, folder: f.name };
      }
    let e: Exposure = best
      ? { since: best.date, source: 'git', detail: `commit ${best.commit.slice(0, 12)} in ${best.folder} first added the key` }
      : noticeStart(inc)
        ? { since: noticeStart(inc) as string, source: 'notice', detail: "the start of the notice's activity window" }
        : { since: oldest, source: 'default', detail: 'unknown: the last 90 days, all CloudTrail keeps' };
    if (e.since < oldest) e = { ...e, since: oldest, detail: `${e.detail}; CloudTrail keeps 90 days` };
    return e;
  }

  private async investigate(inc: Incident): Promise<void> {
    const subject = subjectOf(inc);
    if (!subject) return;
    const [{ enabledRegions, lookupEvents, signerCheck, resolveTarget }, { investigate }] = await Promise.all([import('../aws/account'), import('../core/investigate/investigation')]);
    const t = resolveTarget(this.target(inc));
    const title = vscode.l10n.t('Keysentry: investigating {0}', subject.accessKeyId ?? subject.user ?? '');
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const exposure = await this.exposure(inc, subject.accessKeyId);
      progress.report({ message: vscode.l10n.t('regions…') });
      const regions = await enabledRegions(t);
      const signer = await signerCheck(t, subject.accessKeyId, subject.user);
      const now = new Date();
      const since = new Date(exposure.since);
      const from = new Date(Math.max(now.getTime() - 90 * DAY, since.getTime() - 30 * DAY));
      const r = await investigate(
        (attribute, window) =>
          lookupEvents(t, attribute, regions, window, {
            isCancelled: () => token.isCancellationRequested,
            signal: abort.signal,
            onPage: (region, n) => progress.report({ message: vscode.l10n.t('{0}: {1}, {2} event(s)', attribute.value, region, n) }),
            onThrottle: (region, ms) => progress.report({ message: vscode.l10n.t('{0} is throttled: waiting {1} s', region, Math.round(ms / 1000)) }),
          }),
        { subject, regions, from, to: now, exposure, signerNote: signer.note, isCancelled: () => token.isCancellationRequested },
      );
      return { ...r, cancelled: token.isCancellationRequested, signer };
    });
    if (result.cancelled) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: investigation cancelled; nothing was saved.'));
      return;
    }
    const inv = result.investigation;
    const primaryFailures = inv.failures.filter((f) => !f.key);
    if (primaryFailures.length === inv.regions.length) throw new Error(`${primaryFailures[0]?.message ?? 'LookupEvents failed'}${inv.signerNote ? ` ${inv.signerNote}` : ''}`);
    saveInvestigation(inc.id, inv);
    this.cache.set(inc.id, loadInvestigation(inc.id));
    const removable = inv.resources.filter((r) => r.removal).length;
    this.incidents.book.record(inc.id, {
      actor: this.actor(result.signer.arn),
      kind: 'note',
      text: `Investigated ${inv.subject.accessKeyId ?? inv.subject.user} in CloudTrail from ${inv.exposure.since}: ${inv.summary.events} call(s); ${inv.summary.verdict.join('; ')}${removable ? `; ${removable} resource(s) to remove` : ''}.`,
    });
  }

  private async remove(inc: Incident, kind: string, resourceId: string): Promise<void> {
    const item = this.stored(inc.id)?.resources.find((r) => r.removal && r.removal.kind === kind && r.removal.resource.id === resourceId);
    if (!item?.removal || item.ownership !== 'attacker') return;
    const { AwsRemoval, resolveTarget, explainCall } = await import('../aws/account');
    const ops = new AwsRemoval(resolveTarget(this.target(inc)));
    const target = item.removal;
    let plan: ActionPlan;
    try {
      plan = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Keysentry: planning "{0}"…', target.label) }, () => planAction(target, inc, ops));
    } catch (e) {
      const message = explainCall(kind, e);
      this.incidents.book.record(inc.id, { actor: this.actor(), kind: 'note', text: `${target.label}: not run: ${message}` });
      throw new Error(`${target.label}: ${message}`);
    }
    this.log.info(describePlan(plan));
    if (!(await this.incidents.confirm(plan))) return;
    const who = await ops.caller().then((c) => c.arn, () => undefined);
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: plan.title }, (progress) =>
      runPlan(plan, (api, e) => explainCall(api, e, who), (c, i) => progress.report({ message: `${i + 1}/${plan.calls.length} ${c.api}` })),
    );
    this.incidents.book.recordAction(inc.id, `${plan.title} [${target.resource.id}]`, result, this.actor(who));
    for (const c of result.calls) this.log.info(`${plan.title}: ${c.api} ${c.target}${c.region ? ` (${c.region})` : ''} ${c.ok ? 'ok' : `failed: ${c.error}`}`);
    if (result.ok) void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: {0}: done ({1} call(s)). Recorded in the timeline.', plan.title, result.calls.length));
    else throw new Error(result.error ?? plan.title);
  }
}

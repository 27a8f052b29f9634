import * as vscode from 'vscode';
import { ACTION_KINDS, actionTargets, type ActionKind } from '../core/incidents/actions';
import { STATUSES, type Incident, type IncidentStatus } from '../core/incidents/types';
import { fillCliChecked, fillPlaceholders, type Runbook } from '../core/incidents/runbooks';
import { redact } from '../core/mask';
import { incidentIdOf, type AccountIncidents } from './accountIncidents';
import { Commands } from './ids';
import type { Log } from './log';
import { webviewHtml, webviewOptions } from './runbookPanel';

const VIEW_TYPE = 'keysentry.incident';

/** Messages the incident webview may send; anything else is dropped. */
type FromWebview =
  | { type: 'ready' }
  | { type: 'step'; key: string; done: boolean }
  | { type: 'action'; step: string; action: ActionKind; resource: string }
  | { type: 'status'; status: IncidentStatus }
  | { type: 'report' }
  | { type: 'copy'; text: string };

const shortString = (v: unknown, max = 300): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

export function isIncidentMessage(m: unknown): m is FromWebview {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  switch (o.type) {
    case 'ready':
    case 'report':
      return true;
    case 'step':
      return shortString(o.key, 200) && typeof o.done === 'boolean';
    case 'action':
      return shortString(o.step, 200) && ACTION_KINDS.includes(o.action as ActionKind) && shortString(o.resource, 300);
    case 'status':
      return STATUSES.includes(o.status as IncidentStatus);
    case 'copy':
      return shortString(o.text, 4000);
    default:
      return false;
  }
}

/** The runbook with its CLI lines and console paths filled in for this incident, and the action buttons per step. */
function view(inc: Incident, rb: Runbook | undefined, busy: string | undefined): unknown {
  const phases = (rb?.phases ?? []).map((p) => ({
    name: p.name,
    steps: p.steps.map((s) => {
      const key = `${p.name}/${s.id}`;
      const state = inc.steps[key];
      const cli = s.cli ? fillCliChecked(s.cli, inc) : undefined;
      return {
        key,
        title: s.title ?? s.what,
        what: s.what,
        why: s.why,
        console: s.console && fillPlaceholders(s.console, inc),
        cli: cli?.line,
        // Values not safe to paste into every shell stay placeholders; the page says which and why.
        cliWithheld: (cli?.withheld ?? []).map((w) => `${w.placeholder} stands for "${redact(w.value).slice(0, 200)}": not filled in because ${w.reason}.`),
        actions: s.action ? actionTargets(inc, s.action).map((t) => ({ action: t.kind, resource: t.resource.id, label: t.label })) : [],
        done: state?.done ?? false,
        doneBy: state?.done ? `${state.at} · ${state.by}` : undefined,
      };
    }),
  }));
  return {
    type: 'incident',
    id: inc.id,
    title: inc.title,
    runbookTitle: rb?.title ?? inc.type,
    summary: inc.summary,
    runbookSummary: rb?.summary ?? '',
    severity: inc.severity,
    status: inc.status,
    statuses: STATUSES,
    facts: inc.facts,
    resources: inc.resources.map((r) => `${r.kind} ${r.id}${r.region ? ` (${r.region})` : ''}${r.label ? ` · ${r.label}` : ''}`),
    phases,
    timeline: [...inc.timeline].reverse().map((t) => ({ at: t.at, actor: t.actor, kind: t.kind, text: t.text, calls: (t.calls ?? []).map((c) => `${c.ok ? '✓' : '✗'} ${c.api} ${c.target}${c.region ? ` (${c.region})` : ''}${c.ok ? '' : `: ${c.error ?? ''}`}`) })),
    busy,
  };
}

/**
 * One webview per incident: its runbook (Contain → Investigate → Eradicate → Recover & harden →
 * Respond to AWS), checklist, action buttons, status and timeline. Same security rules as the
 * runbook panel; the incident id is the only state, restored by the serializer.
 */
export class IncidentPanels implements vscode.Disposable, vscode.WebviewPanelSerializer {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly panels = new Map<string, vscode.WebviewPanel>();
  private readonly busy = new Map<string, string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly incidents: AccountIncidents,
    private readonly log: Log,
  ) {
    this.disposables.push(
      vscode.commands.registerCommand(Commands.openIncident, (arg?: unknown) => {
        const id = incidentIdOf(arg);
        return id ? this.open(id) : undefined;
      }),
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, this),
      incidents.onDidChange(() => this.refreshAll()),
    );
  }

  get openPanels(): string[] {
    return [...this.panels.keys()];
  }

  open(id: string): vscode.WebviewPanel | undefined {
    const existing = this.panels.get(id);
    if (existing) {
      existing.reveal();
      return existing;
    }
    const inc = this.incidents.book.get(id);
    if (!inc) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: the incident "{0}" no longer exists.', id));
      return undefined;
    }
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, inc.title, vscode.ViewColumn.Active, this.options());
    this.attach(panel, id);
    return panel;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const id = typeof (state as { id?: unknown })?.id === 'string' ? (state as { id: string }).id : undefined;
    if (!id || !this.incidents.book.get(id)) {
      panel.dispose();
      return;
    }
    panel.webview.options = this.options();
    this.attach(panel, id);
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return { ...webviewOptions(this.context.extensionUri), enableFindWidget: true };
  }

  private post(id: string): void {
    const panel = this.panels.get(id);
    const inc = this.incidents.book.get(id);
    if (!panel || !inc) return;
    panel.title = `${inc.status === 'resolved' ? '✓ ' : ''}${inc.title}`;
    void panel.webview.postMessage(view(inc, this.incidents.runbooks[inc.type], this.busy.get(id)));
  }

  private refreshAll(): void {
    for (const id of this.panels.keys()) this.post(id);
  }

  private attach(panel: vscode.WebviewPanel, id: string): void {
    this.panels.set(id, panel);
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'keysentry.svg');
    panel.webview.html = webviewHtml(panel.webview, this.context.extensionUri, 'Keysentry incident');
    panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(id, m), undefined, this.disposables);
    panel.onDidDispose(() => this.panels.delete(id), undefined, this.disposables);
  }

  private async onMessage(id: string, m: unknown): Promise<void> {
    if (!isIncidentMessage(m)) {
      this.log.warn('dropped an unknown message from the incident webview');
      return;
    }
    switch (m.type) {
      case 'ready':
        return this.post(id);
      case 'step':
        return this.incidents.setStep(id, m.key, m.done);
      case 'status':
        return this.incidents.setStatus(id, m.status);
      case 'report':
        return void (await this.incidents.exportReport(id));
      case 'copy':
        await vscode.env.clipboard.writeText(m.text);
        return void vscode.window.setStatusBarMessage(vscode.l10n.t('Keysentry: copied'), 2000);
      case 'action': {
        if (this.busy.has(id)) return;
        this.busy.set(id, m.resource);
        this.post(id);
        try {
          await this.incidents.runAction(id, m.step, m.action, m.resource);
        } finally {
          this.busy.delete(id);
          this.post(id);
        }
      }
    }
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

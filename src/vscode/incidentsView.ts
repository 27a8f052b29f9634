import path from 'node:path';
import * as vscode from 'vscode';
import { KIND_TITLES } from '../core/detect/report';
import type { PushFinding } from '../core/push/prepush';
import { SEVERITIES, STATUSES, type Incident } from '../core/incidents/types';
import type { AccountIncidents, AccountState } from './accountIncidents';
import type { Finding } from '../core/types';
import type { FindingsStore } from './findingsStore';
import { toRange } from './findingsStore';
import type { GitApi } from './gitApi';
import { Commands, Views } from './ids';
import type { PushGuard, RepoPushState } from './pushGuard';

type Node =
  | { type: 'group'; label: string }
  | { type: 'account'; state: AccountState }
  | { type: 'notices' }
  | { type: 'incident'; incident: Incident }
  | { type: 'hint'; label: string; detail?: string; icon: string; command: vscode.Command; error?: boolean }
  | { type: 'outgoing'; state: RepoPushState }
  | { type: 'pushFinding'; root: vscode.Uri; finding: PushFinding }
  | { type: 'file'; uri: vscode.Uri; findings: Finding[] }
  | { type: 'finding'; uri: vscode.Uri; finding: Finding };

const rank = (i: Incident): number => STATUSES.indexOf(i.status) * 10 + SEVERITIES.indexOf(i.severity);

/**
 * The "Incidents" view: outgoing commits that would be blocked, the workspace's leaked keys and
 * key files (by file), each audited AWS account's incidents, and notices / hand-opened incidents.
 */
export class IncidentsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly view: vscode.TreeView<Node>;

  constructor(
    private readonly store: FindingsStore,
    private readonly push: PushGuard,
    private readonly git: Promise<GitApi | undefined>,
    private readonly incidents: AccountIncidents,
  ) {
    this.view = vscode.window.createTreeView(Views.incidents, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.view,
      store.onDidChange(() => this.refresh()),
      push.onDidChange(() => this.refresh()),
      incidents.onDidChange(() => this.refresh()),
      vscode.commands.registerCommand(Commands.revealPushFinding, (root: vscode.Uri, finding: PushFinding) => this.revealInCommit(root, finding)),
      vscode.commands.registerCommand(Commands.revealFinding, (uri: vscode.Uri, finding: Finding) => this.reveal(uri, finding)),
    );
    this.refresh();
  }

  private refresh(): void {
    // A secret both in the work tree and in an outgoing commit is one leak: counted once.
    const leaks = new Set([...this.store.entries().flatMap((e) => e.findings.map((f) => f.fingerprint)), ...this.push.repositories.flatMap((r) => (r.outgoing?.findings ?? []).map((f) => f.fingerprint))]);
    const n = leaks.size + this.incidents.openCount;
    this.view.badge = n ? { value: n, tooltip: vscode.l10n.t('{0} leaked credential(s) and open incident(s)', n) } : undefined;
    this.emitter.fire(undefined);
  }

  private outgoingStates(): RepoPushState[] {
    return this.push.repositories.filter((s) => s.outgoing?.findings.length || s.error);
  }

  getChildren(node?: Node): Node[] {
    if (!node) {
      // Nothing found, nothing audited, no incident: an empty tree, so the view's welcome content
      // (package.json viewsWelcome) offers the first steps instead of tree items acting as buttons.
      const idle = !this.store.count && !this.outgoingStates().length && !this.incidents.incidentsFor().length && this.incidents.accounts.every((a) => !a.snapshot && !a.running && !a.error);
      if (idle) return [];
      const out: Node[] = this.outgoingStates().map((state) => ({ type: 'outgoing', state }));
      out.push({ type: 'group', label: vscode.l10n.t('Workspace') });
      for (const state of this.incidents.accounts) out.push({ type: 'account', state });
      out.push({ type: 'notices' });
      return out;
    }
    if (node.type === 'account') return this.accountChildren(node.state);
    if (node.type === 'notices') {
      const list = this.incidents.incidentsFor().sort((a, b) => rank(a) - rank(b));
      if (list.length) return list.map((incident) => ({ type: 'incident', incident }));
      return [{ type: 'hint', label: vscode.l10n.t('Import an AWS abuse notice…'), icon: 'mail', command: { command: Commands.importNotice, title: vscode.l10n.t('Import AWS Abuse Notice') } }];
    }
    if (node.type === 'outgoing') return (node.state.outgoing?.findings ?? []).map((finding) => ({ type: 'pushFinding', root: node.state.root, finding }));
    if (node.type === 'group') return this.store.entries().map((e) => ({ type: 'file', uri: e.uri, findings: e.findings }));
    if (node.type === 'file') return node.findings.map((finding) => ({ type: 'finding', uri: node.uri, finding }));
    return [];
  }

  private accountChildren(state: AccountState): Node[] {
    const out: Node[] = [];
    const showLog = { command: Commands.showLog, title: vscode.l10n.t('Show Log') };
    if (state.error) out.push({ type: 'hint', label: vscode.l10n.t('Audit failed: {0}', state.error), detail: state.error, icon: 'error', command: showLog, error: true });
    if (!state.snapshot && !state.running && !state.error)
      out.push({ type: 'hint', label: vscode.l10n.t('Audit this account…'), detail: vscode.l10n.t('Read-only calls to EC2 (every enabled region) and IAM'), icon: 'cloud', command: { command: Commands.auditAccount, title: vscode.l10n.t('Audit AWS Account') } });
    const errors = state.snapshot?.errors ?? [];
    if (errors.length) out.push({ type: 'hint', label: vscode.l10n.t('{0} check(s) could not run', errors.length), detail: errors.join('\n'), icon: 'warning', command: showLog });
    const list = this.incidents.incidentsFor(state).sort((a, b) => rank(a) - rank(b));
    out.push(...list.map((incident): Node => ({ type: 'incident', incident })));
    if (state.snapshot && !list.length && !errors.length) out.push({ type: 'hint', label: vscode.l10n.t('No incidents found'), icon: 'pass', command: { command: Commands.auditAccount, title: vscode.l10n.t('Audit Again') } });
    return out;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.type === 'account') {
      const s = node.state;
      const item = new vscode.TreeItem(vscode.l10n.t('Account: {0}', s.profile || vscode.l10n.t('default credentials')), vscode.TreeItemCollapsibleState.Expanded);
      const mine = this.incidents.incidentsFor(s);
      const open = mine.filter((i) => i.status === 'open').length; // contained is not open
      item.description = s.running
        ? vscode.l10n.t('auditing… {0}', s.progress ?? '')
        : s.error
          ? vscode.l10n.t('audit failed')
          : s.snapshot
            ? vscode.l10n.t('{0} · {1} open · {2} region(s) · {3}', s.snapshot.account, open, s.snapshot.regions.length, new Date(s.snapshot.takenAt).toLocaleTimeString())
            : mine.length
              ? vscode.l10n.t('{0} open · from an earlier audit', open)
              : vscode.l10n.t('not audited yet');
      item.tooltip = s.snapshot ? vscode.l10n.t('Account {0}, as {1}; {2} instance(s), {3} key pair(s) seen', s.snapshot.account, s.snapshot.caller, s.snapshot.instances, s.snapshot.keyPairs) : undefined;
      item.iconPath = new vscode.ThemeIcon(s.running ? 'sync~spin' : s.error ? 'error' : 'cloud', s.error ? new vscode.ThemeColor('errorForeground') : undefined);
      item.contextValue = 'keysentry.account';
      return item;
    }
    if (node.type === 'notices') {
      const n = this.incidents.incidentsFor().filter((i) => i.status === 'open').length; // contained is not open
      const item = new vscode.TreeItem(vscode.l10n.t('Notices'), vscode.TreeItemCollapsibleState.Expanded);
      item.tooltip = vscode.l10n.t('AWS abuse notices, incidents opened by hand, and incidents of accounts no longer audited');
      item.description = n ? vscode.l10n.t('{0} open', n) : undefined;
      item.iconPath = new vscode.ThemeIcon('mail');
      item.contextValue = 'keysentry.notices';
      return item;
    }
    if (node.type === 'hint') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.tooltip = node.detail;
      item.iconPath = new vscode.ThemeIcon(node.icon, node.error ? new vscode.ThemeColor('errorForeground') : undefined);
      item.command = node.command;
      item.contextValue = node.error ? 'keysentry.error' : 'keysentry.hint';
      return item;
    }
    if (node.type === 'incident') {
      const i = node.incident;
      const item = new vscode.TreeItem(i.title, vscode.TreeItemCollapsibleState.None);
      item.id = `incident:${i.id}`;
      // Access keys the liveness check found active are marked: the most urgent thing in the view.
      const live = i.resources.filter((r) => r.kind === 'access-key').map((r) => this.incidents.liveness(r.id)).filter((l) => l?.status === 'active');
      item.description = `${live.length ? `${vscode.l10n.t('LIVE')} · ` : ''}${i.severity} · ${i.status}`;
      const md = new vscode.MarkdownString(undefined, true);
      md.appendText(`${i.title}\n\n${i.summary}\n\n`);
      md.appendText(vscode.l10n.t('Status: {0} · updated {1}', i.status, i.updatedAt));
      for (const l of live) if (l) md.appendText(`\n${vscode.l10n.t('Live key: {0} is active{1}', l.keyId, l.user ? vscode.l10n.t(' (IAM user {0})', l.user) : '')}`);
      item.tooltip = md;
      const color = i.severity === 'critical' || i.severity === 'high' ? 'errorForeground' : i.severity === 'medium' ? 'list.warningForeground' : 'descriptionForeground';
      item.iconPath =
        i.status === 'resolved'
          ? new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'))
          : i.status === 'contained'
            ? new vscode.ThemeIcon('shield', new vscode.ThemeColor(color))
            : live.length
              ? new vscode.ThemeIcon('flame', new vscode.ThemeColor('errorForeground'))
              : new vscode.ThemeIcon(i.severity === 'low' ? 'info' : i.severity === 'medium' ? 'warning' : 'error', new vscode.ThemeColor(color));
      item.contextValue = `keysentry.incident.${i.status}`;
      item.command = { command: Commands.openIncident, title: vscode.l10n.t('Open Runbook'), arguments: [i.id] };
      item.accessibilityInformation = { label: `${live.length ? 'live key, ' : ''}${i.severity} ${i.status}: ${i.title}` };
      return item;
    }
    if (node.type === 'outgoing') {
      const s = node.state;
      const n = s.outgoing?.findings.length ?? 0;
      const item = new vscode.TreeItem(vscode.l10n.t('Outgoing commits: {0}', path.basename(s.root.fsPath)), vscode.TreeItemCollapsibleState.Expanded);
      item.description = s.error ? vscode.l10n.t('scan failed') : vscode.l10n.t('{0} credential(s), push would be blocked', n);
      item.tooltip = s.error ? `${s.error}` : vscode.l10n.t('Commits not yet on the remote carry credentials. Rewrite them (git rebase -i) and rotate the keys before pushing.');
      item.iconPath = new vscode.ThemeIcon(s.error ? 'error' : 'repo-push', new vscode.ThemeColor(s.error ? 'errorForeground' : 'list.warningForeground'));
      item.contextValue = 'keysentry.group.outgoing';
      if (s.error) item.command = { command: Commands.showLog, title: vscode.l10n.t('Show Log') };
      return item;
    }
    if (node.type === 'pushFinding') {
      const f = node.finding;
      const item = new vscode.TreeItem(KIND_TITLES[f.kind], vscode.TreeItemCollapsibleState.None);
      const where = f.file.startsWith('(') ? f.file : `${f.file}:${f.line}`;
      item.description = `${f.preview} · ${where} · ${f.commit.slice(0, 8)}`;
      item.tooltip = vscode.l10n.t('In commit {0} "{1}"', f.commit.slice(0, 10), f.subject);
      item.iconPath = new vscode.ThemeIcon(f.kind === 'private-key' ? 'key' : 'git-commit', new vscode.ThemeColor('errorForeground'));
      item.contextValue = `keysentry.pushFinding.${f.kind}`;
      if (!f.file.startsWith('(')) item.command = { command: Commands.revealPushFinding, title: vscode.l10n.t('Show'), arguments: [node.root, f] };
      return item;
    }
    if (node.type === 'group') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
      item.description = this.store.count ? vscode.l10n.t('{0} leaked credential(s)', this.store.count) : vscode.l10n.t('no leaked credentials found');
      item.iconPath = new vscode.ThemeIcon('repo');
      item.contextValue = 'keysentry.group.workspace';
      return item;
    }
    if (node.type === 'file') {
      const item = new vscode.TreeItem(node.uri, vscode.TreeItemCollapsibleState.Expanded);
      const folder = vscode.workspace.getWorkspaceFolder(node.uri);
      item.description = folder ? path.dirname(path.relative(folder.uri.fsPath, node.uri.fsPath)).replace(/^\.$/, '') : undefined;
      item.contextValue = 'keysentry.file';
      item.iconPath = vscode.ThemeIcon.File;
      return item;
    }
    const f = node.finding;
    const item = new vscode.TreeItem(KIND_TITLES[f.kind], vscode.TreeItemCollapsibleState.None);
    item.description = `${f.preview} · ${vscode.l10n.t('line {0}', f.line)}`;
    item.tooltip = f.accountId ? vscode.l10n.t('{0} (account {1})', f.preview, f.accountId) : f.preview;
    item.iconPath = new vscode.ThemeIcon(f.kind === 'private-key' ? 'key' : 'warning', new vscode.ThemeColor('errorForeground'));
    item.contextValue = `keysentry.finding.${f.kind}`;
    item.command = { command: Commands.revealFinding, title: vscode.l10n.t('Show'), arguments: [node.uri, f] };
    return item;
  }

  /** Opens the file as that commit has it (the key may be gone from the working tree). */
  private async revealInCommit(root: vscode.Uri, finding: PushFinding): Promise<void> {
    const git = await this.git;
    const file = vscode.Uri.joinPath(root, ...finding.file.split('/'));
    const uri = git ? git.toGitUri(file, finding.commit) : file;
    const range = toRange(finding);
    await vscode.window.showTextDocument(uri, { selection: new vscode.Range(range.start, range.start), preview: true });
  }

  private async reveal(uri: vscode.Uri, finding: Finding): Promise<void> {
    const range = toRange(finding);
    await vscode.window.showTextDocument(uri, { selection: new vscode.Range(range.start, range.start), preview: true });
  }

  dispose(): void {
    this.emitter.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

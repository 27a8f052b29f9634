import path from 'node:path';
import * as vscode from 'vscode';
import { KIND_TITLES } from '../core/report';
import type { PushFinding } from '../core/prepush';
import type { Finding } from '../core/types';
import type { FindingsStore } from './findingsStore';
import { toRange } from './findingsStore';
import type { GitApi } from './gitApi';
import { Commands, Views } from './ids';
import type { PushGuard, RepoPushState } from './pushGuard';

type Node =
  | { type: 'group'; label: string }
  | { type: 'outgoing'; state: RepoPushState }
  | { type: 'pushFinding'; root: vscode.Uri; finding: PushFinding }
  | { type: 'file'; uri: vscode.Uri; findings: Finding[] }
  | { type: 'finding'; uri: vscode.Uri; finding: Finding };

/** The "Incidents" view: the workspace's leaked keys and key files, by file. */
export class IncidentsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly view: vscode.TreeView<Node>;

  constructor(
    private readonly store: FindingsStore,
    private readonly push: PushGuard,
    private readonly git: Promise<GitApi | undefined>,
  ) {
    this.view = vscode.window.createTreeView(Views.incidents, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.view,
      store.onDidChange(() => this.refresh()),
      push.onDidChange(() => this.refresh()),
      vscode.commands.registerCommand(Commands.revealPushFinding, (root: vscode.Uri, finding: PushFinding) => this.revealInCommit(root, finding)),
      vscode.commands.registerCommand(Commands.revealFinding, (uri: vscode.Uri, finding: Finding) => this.reveal(uri, finding)),
    );
    this.refresh();
  }

  private refresh(): void {
    const n = this.store.count + this.push.count;
    this.view.badge = n ? { value: n, tooltip: vscode.l10n.t('{0} leaked credential(s)', n) } : undefined;
    this.emitter.fire(undefined);
  }

  private outgoingStates(): RepoPushState[] {
    return this.push.repositories.filter((s) => s.outgoing?.findings.length || s.error);
  }

  getChildren(node?: Node): Node[] {
    if (!node) {
      const out: Node[] = this.outgoingStates().map((state) => ({ type: 'outgoing', state }));
      if (this.store.count) out.push({ type: 'group', label: vscode.l10n.t('Workspace') });
      return out;
    }
    if (node.type === 'outgoing') return (node.state.outgoing?.findings ?? []).map((finding) => ({ type: 'pushFinding', root: node.state.root, finding }));
    if (node.type === 'group') return this.store.entries().map((e) => ({ type: 'file', uri: e.uri, findings: e.findings }));
    if (node.type === 'file') return node.findings.map((finding) => ({ type: 'finding', uri: node.uri, finding }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
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
      item.description = vscode.l10n.t('{0} leaked credential(s)', this.store.count);
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

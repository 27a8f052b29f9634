import path from 'node:path';
import * as vscode from 'vscode';
import { KIND_TITLES } from '../core/report';
import type { Finding } from '../core/types';
import type { FindingsStore } from './findingsStore';
import { toRange } from './findingsStore';
import { Commands, Views } from './ids';

type Node =
  | { type: 'group'; label: string }
  | { type: 'file'; uri: vscode.Uri; findings: Finding[] }
  | { type: 'finding'; uri: vscode.Uri; finding: Finding };

/** The "Incidents" view: the workspace's leaked keys and key files, by file. */
export class IncidentsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly view: vscode.TreeView<Node>;

  constructor(private readonly store: FindingsStore) {
    this.view = vscode.window.createTreeView(Views.incidents, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.view,
      store.onDidChange(() => this.refresh()),
      vscode.commands.registerCommand(Commands.revealFinding, (uri: vscode.Uri, finding: Finding) => this.reveal(uri, finding)),
    );
    this.refresh();
  }

  private refresh(): void {
    const n = this.store.count;
    this.view.badge = n ? { value: n, tooltip: vscode.l10n.t('{0} leaked credential(s)', n) } : undefined;
    this.emitter.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.store.count ? [{ type: 'group', label: vscode.l10n.t('Workspace') }] : [];
    if (node.type === 'group') return this.store.entries().map((e) => ({ type: 'file', uri: e.uri, findings: e.findings }));
    if (node.type === 'file') return node.findings.map((finding) => ({ type: 'finding', uri: node.uri, finding }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
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

  private async reveal(uri: vscode.Uri, finding: Finding): Promise<void> {
    const range = toRange(finding);
    await vscode.window.showTextDocument(uri, { selection: new vscode.Range(range.start, range.start), preview: true });
  }

  dispose(): void {
    this.emitter.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

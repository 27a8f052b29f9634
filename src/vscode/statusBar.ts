import * as vscode from 'vscode';
import type { FindingsStore } from './findingsStore';
import { ContextKeys, Views } from './ids';
import type { PushGuard } from './pushGuard';

/**
 * The count of leaked credentials in the status bar (one icon; hidden when no folder is open);
 * a click opens the incidents view.
 */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('keysentry.status', vscode.StatusBarAlignment.Left, 50);
  private readonly subs: vscode.Disposable[];

  constructor(
    private readonly store: FindingsStore,
    private readonly push: PushGuard,
  ) {
    this.item.name = 'Keysentry';
    this.item.command = `${Views.incidents}.focus`;
    this.subs = [store.onDidChange(() => this.render()), push.onDidChange(() => this.render()), vscode.workspace.onDidChangeWorkspaceFolders(() => this.render())];
    this.render();
  }

  private render(): void {
    const n = this.store.count;
    const outgoing = this.push.count;
    this.item.text = outgoing ? vscode.l10n.t('$(shield) {0} · {1} outgoing', n, outgoing) : `$(shield) ${n}`;
    const lines = [n === 0 ? vscode.l10n.t('Keysentry: no leaked credentials found') : vscode.l10n.t('Keysentry: {0} leaked credential(s) in the workspace', n)];
    if (outgoing) lines.push(vscode.l10n.t('{0} credential(s) in outgoing commits: a push would be blocked', outgoing));
    this.item.tooltip = lines.join('\n');
    this.item.backgroundColor = n === 0 && outgoing === 0 ? undefined : new vscode.ThemeColor('statusBarItem.errorBackground');
    void vscode.commands.executeCommand('setContext', ContextKeys.findingCount, n);
    if (vscode.workspace.workspaceFolders?.length) this.item.show();
    else this.item.hide();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}

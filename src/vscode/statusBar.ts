import * as vscode from 'vscode';
import type { FindingsStore } from './findingsStore';
import { ContextKeys, Views } from './ids';

/** The count of leaked credentials in the status bar; a click opens the incidents view. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('keysentry.status', vscode.StatusBarAlignment.Left, 50);
  private readonly sub: vscode.Disposable;

  constructor(private readonly store: FindingsStore) {
    this.item.name = 'Keysentry';
    this.item.command = `${Views.incidents}.focus`;
    this.sub = store.onDidChange(() => this.render());
    this.render();
    this.item.show();
  }

  private render(): void {
    const n = this.store.count;
    this.item.text = n === 0 ? '$(shield) 0' : `$(warning) ${n}`;
    this.item.tooltip = n === 0 ? vscode.l10n.t('Keysentry: no leaked credentials found') : vscode.l10n.t('Keysentry: {0} leaked credential(s) in the workspace', n);
    this.item.backgroundColor = n === 0 ? undefined : new vscode.ThemeColor('statusBarItem.errorBackground');
    void vscode.commands.executeCommand('setContext', ContextKeys.findingCount, n);
  }

  dispose(): void {
    this.sub.dispose();
    this.item.dispose();
  }
}

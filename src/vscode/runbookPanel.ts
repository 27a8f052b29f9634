import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { parseRunbooks, type Runbook } from '../core/incidents/runbooks';
import { Commands } from './ids';
import type { Log } from './log';
import { webviewStrings } from './webviewStrings';

const VIEW_TYPE = 'keysentry.runbook';

/** Messages the webview may send; anything else is dropped. */
type FromWebview = { type: 'ready' } | { type: 'toggle'; step: string; done: boolean };

function isFromWebview(m: unknown): m is FromWebview {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  if (o.type === 'ready') return true;
  return o.type === 'toggle' && typeof o.step === 'string' && o.step.length < 100 && typeof o.done === 'boolean';
}

/**
 * A runbook per kind of leaked credential, in a webview: strict CSP with a nonce, no inline
 * script, local resources limited to the built webview bundle and media, state in the
 * extension's workspace state and restored after reload by a serializer. Never receives a secret.
 */
export class RunbookPanels implements vscode.Disposable, vscode.WebviewPanelSerializer {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly panels = new Map<string, vscode.WebviewPanel>();
  private runbooks: Record<string, Runbook> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
  ) {
    this.disposables.push(
      // Menus pass their own context (a view title passes none, an item its element): only a string names a runbook.
      vscode.commands.registerCommand(Commands.openRunbook, (kind?: unknown) => this.open(typeof kind === 'string' && kind ? kind : 'aws-access-key-id')),
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, this),
    );
  }

  private load(): Record<string, Runbook> {
    this.runbooks ??= parseRunbooks(readFileSync(vscode.Uri.joinPath(this.context.extensionUri, 'media', 'runbooks', 'leaked-credentials.json').fsPath, 'utf8'));
    return this.runbooks;
  }

  open(kind: string): vscode.WebviewPanel | undefined {
    const existing = this.panels.get(kind);
    if (existing) {
      existing.reveal();
      return existing;
    }
    const runbook = this.load()[kind];
    if (!runbook) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: no runbook for "{0}".', String(kind)));
      return undefined;
    }
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, runbook.title, vscode.ViewColumn.Beside, webviewOptions(this.context.extensionUri));
    this.attach(panel, kind);
    return panel;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const kind = typeof (state as { kind?: unknown })?.kind === 'string' ? (state as { kind: string }).kind : 'aws-access-key-id';
    panel.webview.options = webviewOptions(this.context.extensionUri);
    this.attach(panel, kind);
  }


  private attach(panel: vscode.WebviewPanel, kind: string): void {
    this.panels.set(kind, panel);
    const runbook = this.load()[kind] as Runbook;
    panel.title = runbook.title;
    panel.webview.html = this.html(panel.webview);
    const stateKey = `runbook.${kind}.done`;
    panel.webview.onDidReceiveMessage(
      (m: unknown) => {
        if (!isFromWebview(m)) {
          this.log.warn('dropped an unknown message from the runbook webview');
          return;
        }
        const done = new Set(this.context.workspaceState.get<string[]>(stateKey, []));
        if (m.type === 'toggle') {
          if (m.done) done.add(m.step);
          else done.delete(m.step);
          void this.context.workspaceState.update(stateKey, [...done]);
          return;
        }
        void panel.webview.postMessage({ type: 'runbook', kind, runbook, done: [...done], l10n: webviewStrings() });
      },
      undefined,
      this.disposables,
    );
    panel.onDidDispose(() => this.panels.delete(kind), undefined, this.disposables);
  }

  private html(webview: vscode.Webview): string {
    return webviewHtml(webview, this.context.extensionUri, 'Keysentry runbook');
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** Scripts on; local resources limited to the built webview bundle and media/. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/** The page every Keysentry webview loads: strict CSP, one nonce'd script, styles from media/. */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'runbook.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'runbook.css'));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; script-src 'nonce-${nonce}'; img-src ${webview.cspSource}; connect-src 'none';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>${title.replace(/[<>&"]/g, '')}</title>
</head>
<body>
<main id="root" aria-live="polite"><p>Loading…</p></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

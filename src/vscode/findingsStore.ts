import * as vscode from 'vscode';
import type { Finding } from '../core/types';

/**
 * The findings currently known, per file: the single source for diagnostics, hovers,
 * code actions, the status bar and the incidents tree.
 */
export class FindingsStore implements vscode.Disposable {
  private readonly byUri = new Map<string, { uri: vscode.Uri; findings: Finding[] }>();
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;

  set(uri: vscode.Uri, findings: Finding[]): void {
    const key = uri.toString();
    const before = this.byUri.get(key)?.findings ?? [];
    if (findings.length === 0) this.byUri.delete(key);
    else this.byUri.set(key, { uri, findings });
    if (before.length !== 0 || findings.length !== 0) this.emitter.fire();
  }

  /** Replaces every file under `folder` at once (a workspace scan's result). */
  replaceFolder(folder: vscode.Uri, entries: Array<[vscode.Uri, Finding[]]>, keep: (uri: vscode.Uri) => boolean): void {
    const prefix = folder.toString().replace(/\/?$/, '/');
    for (const key of [...this.byUri.keys()]) {
      const entry = this.byUri.get(key);
      if (key.startsWith(prefix) && entry && !keep(entry.uri)) this.byUri.delete(key);
    }
    for (const [uri, findings] of entries) if (!keep(uri) && findings.length) this.byUri.set(uri.toString(), { uri, findings });
    this.emitter.fire();
  }

  get(uri: vscode.Uri): Finding[] {
    return this.byUri.get(uri.toString())?.findings ?? [];
  }

  at(uri: vscode.Uri, position: vscode.Position): Finding | undefined {
    return this.get(uri).find((f) => toRange(f).contains(position));
  }

  entries(): Array<{ uri: vscode.Uri; findings: Finding[] }> {
    return [...this.byUri.values()].sort((a, b) => a.uri.toString().localeCompare(b.uri.toString()));
  }

  get count(): number {
    let n = 0;
    for (const e of this.byUri.values()) n += e.findings.length;
    return n;
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

export function toRange(f: Finding): vscode.Range {
  const end = f.endLine === f.line && f.endColumn <= f.column ? f.column : f.endColumn - 1;
  return new vscode.Range(f.line - 1, f.column - 1, f.endLine - 1, Math.max(0, end));
}

import * as vscode from 'vscode';
import { KIND_DOCS, KIND_TITLES } from '../core/detect/report';
import type { Finding } from '../core/types';
import type { FindingsStore } from './findingsStore';
import { toRange } from './findingsStore';
import { DIAGNOSTIC_SOURCE } from './ids';

export function toDiagnostic(f: Finding): vscode.Diagnostic {
  const extra = f.accountId ? ` (account ${f.accountId})` : f.pairedKeyId ? ` (pairs with ${f.pairedKeyId})` : '';
  const d = new vscode.Diagnostic(
    toRange(f),
    vscode.l10n.t('{0} committed: {1}{2}', KIND_TITLES[f.kind], f.preview, extra),
    vscode.DiagnosticSeverity.Error,
  );
  d.source = DIAGNOSTIC_SOURCE;
  d.code = { value: f.kind, target: vscode.Uri.parse(KIND_DOCS[f.kind]) };
  return d;
}

/** Mirrors the findings store into the Problems panel. */
export class DiagnosticsView implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('keysentry');
  private readonly sub: vscode.Disposable;

  constructor(private readonly store: FindingsStore) {
    this.sub = store.onDidChange(() => this.render());
  }

  private render(): void {
    this.collection.clear();
    this.collection.set(this.store.entries().map((e) => [e.uri, e.findings.map(toDiagnostic)]));
  }

  dispose(): void {
    this.sub.dispose();
    this.collection.dispose();
  }
}

import * as vscode from 'vscode';
import { KIND_DOCS, KIND_TITLES } from '../core/detect/report';
import type { KeyLiveness } from '../core/investigate/liveness';
import { describeLiveness } from '../core/investigate/liveness';
import type { Finding } from '../core/types';
import type { FindingsStore } from './findingsStore';
import { toRange } from './findingsStore';
import { DIAGNOSTIC_SOURCE } from './ids';
import type { LiveKeys } from './liveKeys';
import { keyIdOf } from './rotation';

/**
 * A committed credential is an Error; once a live check says the key is inactive or deleted (or
 * in an account this profile cannot read), a Warning that says so: the secret still needs removing.
 */
export function toDiagnostic(f: Finding, live?: KeyLiveness): vscode.Diagnostic {
  const extra = f.accountId ? ` (account ${f.accountId})` : f.pairedKeyId ? ` (pairs with ${f.pairedKeyId})` : '';
  const status = live ? ` — ${describeLiveness(live)}` : '';
  const calm = live && (live.status === 'inactive' || live.status === 'deleted');
  const d = new vscode.Diagnostic(
    toRange(f),
    vscode.l10n.t('{0} committed: {1}{2}', KIND_TITLES[f.kind], f.preview, extra) + status,
    calm ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error,
  );
  d.source = DIAGNOSTIC_SOURCE;
  d.code = { value: f.kind, target: vscode.Uri.parse(KIND_DOCS[f.kind]) };
  return d;
}

/** Mirrors the findings store into the Problems panel. */
export class DiagnosticsView implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('keysentry');
  private readonly sub: vscode.Disposable;

  private readonly liveSub: vscode.Disposable | undefined;

  constructor(
    private readonly store: FindingsStore,
    private readonly live?: LiveKeys,
  ) {
    this.sub = store.onDidChange(() => this.render());
    this.liveSub = live?.onDidChange(() => this.render());
  }

  private render(): void {
    this.collection.clear();
    const liveOf = (f: Finding): KeyLiveness | undefined => {
      const id = keyIdOf(f);
      return id ? this.live?.get(id) : undefined;
    };
    this.collection.set(this.store.entries().map((e) => [e.uri, e.findings.map((f) => toDiagnostic(f, liveOf(f)))]));
  }

  dispose(): void {
    this.sub.dispose();
    this.liveSub?.dispose();
    this.collection.dispose();
  }
}

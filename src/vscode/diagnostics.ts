import path from 'node:path';
import * as vscode from 'vscode';
import { gitTrackedAmong } from '../git/checkIgnore';
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
 * Where the secret is, as far as Keysentry knows it: typed but not saved, in a file git does not
 * track (yet), in a file git tracks (its history may hold it), or `unknown` (outside git, not asked yet).
 */
export type FindingPlace = 'unsaved' | 'untracked' | 'tracked' | 'ignored' | 'unknown';

function headline(kind: string, place: FindingPlace): string {
  switch (place) {
    case 'unsaved':
      return vscode.l10n.t('{0} in unsaved text', kind);
    case 'untracked':
      return vscode.l10n.t('{0} in a file git does not track yet', kind);
    case 'tracked':
      return vscode.l10n.t('{0} in a file git tracks', kind);
    default:
      return vscode.l10n.t('{0} found', kind);
  }
}

/**
 * A credential is an Error; once a live check says the key is inactive or deleted (or in an
 * account this profile cannot read), a Warning that says so: the secret still needs removing.
 * The message says only what is true of where it is (`place`), never "committed" for text that
 * is not.
 */
export function toDiagnostic(f: Finding, live?: KeyLiveness, place: FindingPlace = 'unknown'): vscode.Diagnostic {
  const extra = f.accountId ? ` (account ${f.accountId})` : f.pairedKeyId ? ` (pairs with ${f.pairedKeyId})` : '';
  const status = live ? ` — ${describeLiveness(live)}` : '';
  const calm = live && (live.status === 'inactive' || live.status === 'deleted');
  const d = new vscode.Diagnostic(
    toRange(f),
    `${headline(KIND_TITLES[f.kind], place)}: ${f.preview}${extra}${status}`,
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
  private readonly docSubs: vscode.Disposable[];
  /** Whether git tracks each file with findings (asked in batches, off the host's thread). */
  private readonly tracked = new Map<string, boolean | undefined>();
  private asking: Promise<void> | undefined;

  constructor(
    private readonly store: FindingsStore,
    private readonly live?: LiveKeys,
  ) {
    this.sub = store.onDidChange(() => this.render());
    this.liveSub = live?.onDidChange(() => this.render());
    // Saving, staging or committing changes where the secret is: ask git again.
    this.docSubs = [
      vscode.workspace.onDidSaveTextDocument((d) => this.forget(d.uri)),
      vscode.workspace.onDidChangeTextDocument((e) => (e.document.isDirty !== this.wasDirty.get(e.document.uri.toString()) ? this.render() : undefined)),
    ];
  }

  private readonly wasDirty = new Map<string, boolean>();

  private forget(uri: vscode.Uri): void {
    this.tracked.delete(uri.toString());
    this.render();
  }

  /** Where a file's findings are: unsaved text wins; else what git says. */
  placeOf(uri: vscode.Uri): FindingPlace {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    this.wasDirty.set(uri.toString(), !!doc?.isDirty);
    if (doc?.isDirty) return 'unsaved';
    const t = this.tracked.get(uri.toString());
    return t === undefined ? 'unknown' : t ? 'tracked' : 'untracked';
  }

  private render(): void {
    this.collection.clear();
    const liveOf = (f: Finding): KeyLiveness | undefined => {
      const id = keyIdOf(f);
      return id ? this.live?.get(id) : undefined;
    };
    const entries = this.store.entries();
    this.collection.set(entries.map((e) => [e.uri, e.findings.map((f) => toDiagnostic(f, liveOf(f), this.placeOf(e.uri)))]));
    const unasked = entries.filter((e) => e.uri.scheme === 'file' && !this.tracked.has(e.uri.toString())).map((e) => e.uri);
    if (unasked.length && !this.asking) {
      this.asking = this.askGit(unasked).finally(() => {
        this.asking = undefined;
        this.render();
      });
    }
  }

  private async askGit(uris: vscode.Uri[]): Promise<void> {
    const byFolder = new Map<string, vscode.Uri[]>();
    for (const u of uris) {
      const folder = vscode.workspace.getWorkspaceFolder(u);
      this.tracked.set(u.toString(), undefined);
      if (folder) byFolder.set(folder.uri.fsPath, [...(byFolder.get(folder.uri.fsPath) ?? []), u]);
    }
    for (const [root, list] of byFolder) {
      const rels = list.map((u) => path.relative(root, u.fsPath).split(path.sep).join('/'));
      const known = await gitTrackedAmong(root, rels);
      if (!known) continue; // not a repository: the place stays unknown
      list.forEach((u, i) => this.tracked.set(u.toString(), known.has(rels[i] as string)));
    }
  }

  dispose(): void {
    for (const d of this.docSubs) d.dispose();
    this.sub.dispose();
    this.liveSub?.dispose();
    this.collection.dispose();
  }
}

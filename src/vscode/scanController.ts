import path from 'node:path';
import * as vscode from 'vscode';
import type { IgnoreMatcher } from '../core/detect/ignoreFile';
import { loadBaseline, loadIgnore } from '../core/detect/scanFiles';
import { ScanWorkerClient, type ScanOutcome } from '../core/detect/scanWorkerClient';
import { CheckIgnoreBatcher } from '../git/checkIgnore';
import { gitTopLevelAsync } from '../git/history';
import type { Finding, SkippedFile } from '../core/types';
import type { FindingsStore } from './findingsStore';
import { Commands, ContextKeys } from './ids';
import type { Log } from './log';
import { findingsByUri, scanFolderInChild } from './workspaceScan';

interface FolderState {
  baseline: Set<string>;
  ignore: IgnoreMatcher;
  inGit: boolean;
}

/** A document whose scan takes longer than this is stopped and reported as not fully scanned. */
export const DOCUMENT_SCAN_BUDGET_MS = 10_000;

/**
 * Keeps findings current: open documents are scanned as they change (debounced, in a worker
 * thread with a time budget, the latest edit winning), the whole workspace in a child process at
 * startup and on demand, and files changed or deleted on disk are rescanned or cleared. No scan
 * runs on the extension host's thread: a hostile document cannot stall typing or other extensions.
 */
export class ScanController implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly folders = new Map<string, Promise<FolderState>>();
  private readonly checkIgnore = new CheckIgnoreBatcher();
  private readonly gitIgnoredCache = new Map<string, boolean>();
  private readonly versions = new Map<string, number>();
  private scanning: Promise<void> | undefined;
  /** The document scanner, off the extension host's thread (dist/scanWorker.js beside the CLI). */
  readonly worker: ScanWorkerClient;

  constructor(
    private readonly store: FindingsStore,
    private readonly log: Log,
    private readonly cliPath: string,
    budgetMs = DOCUMENT_SCAN_BUDGET_MS,
    /** Where the fingerprints of findings already reported are kept (a summary names only new ones). */
    private readonly memory?: vscode.Memento,
  ) {
    this.worker = new ScanWorkerClient({
      script: path.join(path.dirname(cliPath), 'scanWorker.js'),
      budgetMs,
      onRestart: (why) => this.log.warn(`document scanner restarted: ${why}`),
    });
    this.disposables.push(
      vscode.commands.registerCommand(Commands.scanWorkspace, () => this.scanWorkspace({ notify: true })),
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, this.debounceMs)),
      vscode.workspace.onDidCloseTextDocument((d) => this.onClosed(d)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('keysentry')) this.folders.clear();
      }),
    );
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    this.disposables.push(
      watcher,
      watcher.onDidDelete((uri) => this.onDeleted(uri)),
      watcher.onDidChange((uri) => this.onDiskChange(uri)),
      watcher.onDidCreate((uri) => this.onDiskCreate(uri)),
    );
    for (const doc of vscode.workspace.textDocuments) this.schedule(doc, 0);
  }

  private get config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('keysentry');
  }

  private get debounceMs(): number {
    return this.config.get<number>('scan.debounceMs', 300);
  }

  /** A folder's baseline, ignore file and whether git holds it; read once, without blocking on git. */
  private folderState(folder: vscode.WorkspaceFolder): Promise<FolderState> {
    const key = folder.uri.toString();
    let state = this.folders.get(key);
    if (!state) {
      state = this.readFolderState(folder);
      this.folders.set(key, state);
    }
    return state;
  }

  private async readFolderState(folder: vscode.WorkspaceFolder): Promise<FolderState> {
    {
      const root = folder.uri.fsPath;
      const inGit = await gitTopLevelAsync(root).then(
        (top) => !!top,
        () => false,
      );
      // Two small files (at most 1 MB each, regular files only), read after git answered, never at activation.
      let baseline = new Set<string>();
      const problems: SkippedFile[] = [];
      try {
        baseline = loadBaseline(undefined, root, root, problems);
      } catch (e) {
        this.log.error(`ignoring the baseline of ${folder.name}`, e);
        void vscode.window.showWarningMessage(vscode.l10n.t('Keysentry: the baseline file in {0} is invalid and was ignored. See the log.', folder.name));
      }
      const ignore = loadIgnore(root, problems);
      // Refused config files (a symlink, a FIFO, too large) and unusable ignore lines: never silent.
      for (const p of problems) this.log.warn(`${folder.name}/${p.file}: ${p.reason}${p.detail ? ` (${p.detail})` : ''}`);
      return { baseline, ignore, inGit };
    }
  }

  private async shouldScan(doc: vscode.TextDocument): Promise<vscode.WorkspaceFolder | undefined> {
    if (doc.uri.scheme !== 'file') return undefined;
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
    if (!folder) return undefined;
    const rel = path.relative(folder.uri.fsPath, doc.uri.fsPath).split(path.sep).join('/');
    if (rel.startsWith('.git/') || (await this.folderState(folder)).ignore.ignores(rel)) return undefined;
    if (doc.getText().length > this.config.get<number>('scan.maxFileSize', 50 * 1024 * 1024)) return undefined;
    return folder;
  }

  private schedule(doc: vscode.TextDocument, delay: number): void {
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.scanDocument(doc);
      }, delay),
    );
  }

  /** Scans one open document's current text. */
  async scanDocument(doc: vscode.TextDocument): Promise<Finding[]> {
    const folder = await this.shouldScan(doc);
    if (!folder || doc.isClosed) return [];
    const state = await this.folderState(folder);
    if (state.inGit && (await this.isGitIgnored(doc.uri, folder))) {
      this.store.set(doc.uri, []);
      return [];
    }
    const version = doc.version;
    this.versions.set(doc.uri.toString(), version);
    const rel = path.relative(folder.uri.fsPath, doc.uri.fsPath).split(path.sep).join('/');
    const outcome = await this.worker.scan(doc.uri.toString(), { file: rel, text: doc.getText(), baseline: [...state.baseline] });
    if (!this.applicable(outcome, rel)) return [];
    // A newer edit may have been scanned meanwhile: keep the latest.
    if (this.versions.get(doc.uri.toString()) === version) this.store.set(doc.uri, outcome.findings);
    return outcome.findings;
  }

  /** Logs what a scan outcome says beyond its findings; false when there is nothing to apply. */
  private applicable(outcome: ScanOutcome, rel: string): boolean {
    if (outcome.superseded) return false;
    if (outcome.timedOut) {
      this.log.warn(`${rel} was not fully scanned: scanning it took longer than ${DOCUMENT_SCAN_BUDGET_MS / 1000} s and was stopped (the workspace scan still covers the saved file)`);
      return false;
    }
    if (outcome.error) {
      this.log.error(`could not scan ${rel}: ${outcome.error}`);
      return false;
    }
    if (outcome.incomplete) this.log.warn(`${rel} was not fully scanned: ${outcome.incomplete}`);
    return true;
  }

  private async isGitIgnored(uri: vscode.Uri, folder: vscode.WorkspaceFolder): Promise<boolean> {
    const key = uri.toString();
    const cached = this.gitIgnoredCache.get(key);
    if (cached !== undefined) return cached;
    // Batched: one `git check-ignore --stdin -z` for every file event of the moment.
    const ignored = await this.checkIgnore.ignores(folder.uri.fsPath, path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/'));
    this.gitIgnoredCache.set(key, ignored);
    return ignored;
  }

  private onClosed(doc: vscode.TextDocument): void {
    clearTimeout(this.timers.get(doc.uri.toString()));
    this.timers.delete(doc.uri.toString());
    // The text on disk is what is committed: rescan it unless it is gone.
    void this.onDiskChange(doc.uri);
  }

  private onDeleted(uri: vscode.Uri): void {
    const prefix = uri.toString();
    for (const e of this.store.entries()) {
      const key = e.uri.toString();
      if (key === prefix || key.startsWith(prefix + '/')) this.store.set(e.uri, []);
    }
  }

  private async onDiskChange(uri: vscode.Uri): Promise<void> {
    const name = path.basename(uri.fsPath);
    if (name === '.keysentry-baseline.json' || name === '.secretlintignore' || name === '.gitignore') {
      this.reloadFolderSettings();
      return;
    }
    if (uri.scheme !== 'file' || uri.fsPath.includes(`${path.sep}.git${path.sep}`)) return;
    if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString() && !d.isClosed)) return; // the live scan owns open documents
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) return;
    // Only files the workspace scan already reported, or that now hold an anchor, are worth reading.
    const state = await this.folderState(folder);
    const rel = path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
    if (state.ignore.ignores(rel) || (state.inGit && (await this.isGitIgnored(uri, folder)))) return;
    let bytes: Buffer;
    try {
      const stat = await vscode.workspace.fs.stat(uri);
      if (stat.type !== vscode.FileType.File || stat.size > this.config.get<number>('scan.maxFileSize', 50 * 1024 * 1024)) return;
      bytes = Buffer.from(await vscode.workspace.fs.readFile(uri));
    } catch {
      this.store.set(uri, []);
      return;
    }
    const outcome = await this.worker.scan(uri.toString(), { file: rel, bytes, baseline: [...state.baseline] });
    if (!this.applicable(outcome, rel)) return;
    if (outcome.skipped) this.log.info(`skipped ${rel}: ${outcome.skipped.reason}`);
    else this.store.set(uri, outcome.findings);
  }

  /**
   * Call after the baseline or ignore files changed: reloads them and drops every finding the
   * new baseline lists, in every file (a baseline is keyed by the secret, not the place).
   */
  reloadFolderSettings(): void {
    this.folders.clear();
    this.gitIgnoredCache.clear();
    void this.applyBaselines();
  }

  private async applyBaselines(): Promise<void> {
    for (const e of this.store.entries()) {
      const folder = vscode.workspace.getWorkspaceFolder(e.uri);
      if (!folder) continue;
      const baseline = (await this.folderState(folder)).baseline;
      const now = this.store.get(e.uri);
      const kept = now.filter((f) => !baseline.has(f.fingerprint));
      if (kept.length !== now.length) this.store.set(e.uri, kept);
    }
  }

  /**
   * A created file is scanned; a created folder is walked (a `mkdir -p a/b && echo … > a/b/c`
   * may reach the watcher as one event for `a`), so every new file is seen without a full scan.
   */
  private async onDiskCreate(uri: vscode.Uri): Promise<void> {
    if (uri.scheme !== 'file' || uri.fsPath.includes(`${path.sep}.git${path.sep}`) || path.basename(uri.fsPath) === '.git') return;
    let type: vscode.FileType;
    try {
      type = (await vscode.workspace.fs.stat(uri)).type;
    } catch {
      return;
    }
    if (!(type & vscode.FileType.Directory) || type & vscode.FileType.SymbolicLink) return this.onDiskChange(uri);
    const files: vscode.Uri[] = [];
    const queue = [uri];
    // Bounded: a folder of more entries than this waits for the next workspace scan.
    let budget = 5000;
    while (queue.length && budget > 0) {
      const dir = queue.shift() as vscode.Uri;
      let entries: [string, vscode.FileType][];
      try {
        entries = await vscode.workspace.fs.readDirectory(dir);
      } catch {
        continue;
      }
      for (const [name, t] of entries) {
        if (--budget <= 0) break;
        if (name === '.git' || t & vscode.FileType.SymbolicLink) continue;
        const child = vscode.Uri.joinPath(dir, name);
        if (t & vscode.FileType.Directory) queue.push(child);
        else if (t & vscode.FileType.File) files.push(child);
      }
    }
    if (budget <= 0) this.log.info(`${uri.fsPath}: a new folder with more than 5000 entries; the rest waits for the next workspace scan`);
    for (const f of files) await this.onDiskChange(f);
  }

  /** Scans every workspace folder in a child process, with progress and cancellation. */
  scanWorkspace(opts: { notify: boolean }): Promise<void> {
    if (this.scanning) return this.scanning;
    this.scanning = this.runWorkspaceScan(opts).finally(() => {
      this.scanning = undefined;
      void vscode.commands.executeCommand('setContext', ContextKeys.scanning, false);
    });
    return this.scanning;
  }

  private async runWorkspaceScan(opts: { notify: boolean }): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) {
      if (opts.notify) void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: open a folder to scan it.'));
      return;
    }
    void vscode.commands.executeCommand('setContext', ContextKeys.scanning, true);
    const started = Date.now();
    let files = 0;
    let errors = 0;
    // A scan the user started shows cancellable progress; the background one (startup) shows it in
    // the status bar only: no toast at startup.
    await vscode.window.withProgress(
      opts.notify
        ? { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Keysentry: scanning for leaked keys'), cancellable: true }
        : { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Keysentry: scanning') },
      async (progress, token) => {
        for (const folder of folders) {
          if (token.isCancellationRequested) break;
          let lastPct = 0;
          try {
            const result = await scanFolderInChild(
              this.cliPath,
              folder.uri,
              { maxFileSize: this.config.get<number>('scan.maxFileSize', 50 * 1024 * 1024), allFiles: this.config.get<boolean>('scan.allFiles', false) },
              (done, total) => {
                const pct = Math.floor((done / Math.max(1, total)) * 100);
                progress.report({ message: `${folder.name}: ${done}/${total}`, increment: (pct - lastPct) / folders.length });
                lastPct = pct;
              },
              token,
              this.log,
            );
            if (!result) break;
            files += result.stats.files;
            for (const s of result.stats.skipped) this.log.info(`skipped ${folder.name}/${s.file}: ${s.reason}${s.detail ? ` (${s.detail})` : ''}`);
            const open = new Set(vscode.workspace.textDocuments.filter((d) => !d.isClosed && d.uri.scheme === 'file').map((d) => d.uri.toString()));
            this.store.replaceFolder(folder.uri, findingsByUri(folder.uri, result.findings), (uri) => open.has(uri.toString()));
            this.log.info(`scanned ${folder.name}: ${result.stats.files} files, ${result.findings.length} findings, ${result.stats.ms} ms`);
          } catch (e) {
            errors++;
            this.log.error(`workspace scan of ${folder.name} failed`, e);
          }
        }
      },
    );
    const count = this.store.count;
    this.log.info(`workspace scan finished in ${Date.now() - started} ms: ${files} files, ${count} findings`);
    if (errors) {
      const show = vscode.l10n.t('Show Log');
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: the workspace scan failed. See the log for details.'), show).then((a) => {
        if (a === show) this.log.channel.show();
      });
    } else if (opts.notify || this.newSinceLastReport()) {
      const problems = vscode.l10n.t('Show Problems');
      const message =
        count === 0
          ? vscode.l10n.t('Keysentry: no AWS credentials or private keys found in {0} files.', files)
          : vscode.l10n.t('Keysentry: {0} leaked credential(s) found in {1} file(s).', count, this.store.entries().length);
      const show = count > 0 ? vscode.window.showWarningMessage(message, problems) : vscode.window.showInformationMessage(message);
      void show.then((a) => {
        if (a === problems) void vscode.commands.executeCommand('workbench.actions.view.problems');
      });
    }
  }

  /**
   * Whether this scan found a secret never reported in this workspace before; remembers what it
   * found (fingerprints only, never a secret). The first scan of a workspace stays quiet: the
   * Problems panel, the badge and the status bar already carry the count.
   */
  private newSinceLastReport(): boolean {
    if (!this.memory) return false;
    const KEY = 'keysentry.reportedFingerprints';
    const before = this.memory.get<string[]>(KEY);
    const now = [...new Set(this.store.entries().flatMap((e) => e.findings.map((f) => f.fingerprint)))].slice(0, 10_000);
    void this.memory.update(KEY, now);
    if (!before) return false;
    const known = new Set(before);
    return now.some((f) => !known.has(f));
  }

  dispose(): void {
    this.checkIgnore.dispose();
    this.worker.dispose();
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}

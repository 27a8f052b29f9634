import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { BASELINE_FILE } from '../core/detect/baseline';
import { escapeControl } from '../core/escape';
import { redact } from '../core/mask';
import { addToBaselineFile } from '../core/detect/scanFiles';
import { pushInputFor, type PushFinding, type PushScanResult } from '../core/push/prepush';
import { BLOCKED_MARKER, PUSH_RESULT_FILE, type PushResultFile } from '../core/push/pushReport';
import { gitPath } from '../git/history';
import { hookStatus, installHook, uninstallHook } from '../git/hooks';
import { checkedOutSubmodules, installInSubmodules } from '../git/submodules';
import { runCliProcess } from './cliProcess';
import type { GitApi, GitRepository } from './gitApi';
import { Commands } from './ids';
import type { Log } from './log';

/** Commit subjects and names as the editor may show them: secrets redacted, control characters escaped. */
export function sanitizeResult(result: PushScanResult): PushScanResult {
  return {
    ...result,
    findings: (result.findings ?? []).map((f) => ({ ...f, subject: escapeControl(redact(f.subject ?? '')), file: escapeControl(f.file) })),
    skipped: (result.skipped ?? []).map((k) => ({ ...k, file: escapeControl(k.file), reason: escapeControl(k.reason) })),
  };
}

export interface RepoPushState {
  root: vscode.Uri;
  /** The findings in what a push of HEAD would send now. */
  outgoing?: PushScanResult;
  error?: string;
}

export interface SafePushResult {
  pushed: boolean;
  findings: PushFinding[];
  error?: string;
}

const DISMISSED_KEY = 'keysentry.hookOffer.dismissed';
const FAIL_STOPPED = 'scan failed, push stopped';

/**
 * The editor's side of the pre-push gate: what outgoing commits carry (status bar, incidents
 * view), Safe Push, the push-error handler for pushes the hook blocked, the findings file the
 * hook writes for pushes from a terminal, and installing the hook.
 */
export class PushGuard implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly repoDisposables = new Map<string, vscode.Disposable[]>();
  private readonly states = new Map<string, RepoPushState>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly lastInput = new Map<string, string>();
  /** Per repository, the time of the last blocked push the user was told about. */
  readonly blockedNotices = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  /** Pushes through the git extension that the hook stopped and this handler explained. */
  handledPushErrors = 0;
  /** Repositories the hook was offered for in this session. */
  readonly offered = new Set<string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
    private readonly cliPath: string,
    gitApi: Promise<GitApi | undefined>,
    private readonly onBaselineChanged: () => void,
  ) {
    this.disposables.push(
      vscode.commands.registerCommand(Commands.safePush, (arg?: unknown) => this.safePush(arg)),
      vscode.commands.registerCommand(Commands.installHook, (arg?: unknown) => this.install(arg)),
      vscode.commands.registerCommand(Commands.uninstallHook, (arg?: unknown) => this.uninstall(arg)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('keysentry.prePush.failMode')) void this.refreshInstalledHooks();
      }),
    );
    this.ready = gitApi.then(
      (git) => {
        this.git = git;
        if (!git) {
          this.log.warn('the built-in Git extension is not available: Safe Push and outgoing-commit checks are off');
          return;
        }
        this.disposables.push(
          git.registerPushErrorHandler({ handlePushError: (repo, _remote, _refspec, error) => this.handlePushError(repo, error) }),
          git.onDidOpenRepository((r) => this.track(r)),
          git.onDidCloseRepository((r) => this.untrack(r)),
        );
        for (const r of git.repositories) this.track(r);
      },
      (e) => this.log.error('cannot reach the built-in Git extension', e),
    );
  }

  private git: GitApi | undefined;
  /** Resolves once the git extension's API is known (or known to be missing). */
  readonly ready: Promise<void>;

  private get config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('keysentry.prePush');
  }

  get repositories(): RepoPushState[] {
    return [...this.states.values()].sort((a, b) => a.root.fsPath.localeCompare(b.root.fsPath));
  }

  /** Findings in outgoing commits, over all repositories. */
  get count(): number {
    let n = 0;
    for (const s of this.states.values()) n += s.outgoing?.findings.length ?? 0;
    return n;
  }

  private track(repo: GitRepository): void {
    const key = repo.rootUri.toString();
    if (this.repoDisposables.has(key)) return;
    this.states.set(key, { root: repo.rootUri });
    const subs: vscode.Disposable[] = [repo.state.onDidChange(() => this.schedule(repo))];
    // The hook's findings file: a push blocked in a terminal shows up here too.
    void gitPath(repo.rootUri.fsPath, PUSH_RESULT_FILE).then(
      (file) => {
        // The folder must exist to be watched; the hook writes into it later.
        mkdirSync(path.dirname(file), { recursive: true });
        const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)));
        const onFile = (): void => this.onResultFile(repo, file);
        subs.push(watcher, watcher.onDidChange(onFile), watcher.onDidCreate(onFile));
      },
      (e) => this.log.error(`cannot watch the push results of ${repo.rootUri.fsPath}`, e),
    );
    this.repoDisposables.set(key, subs);
    this.schedule(repo, 0);
    void this.maintainHook(repo);
  }

  private untrack(repo: GitRepository): void {
    const key = repo.rootUri.toString();
    for (const d of this.repoDisposables.get(key) ?? []) d.dispose();
    this.repoDisposables.delete(key);
    this.states.delete(key);
    this.emitter.fire();
  }

  private schedule(repo: GitRepository, delay = 1000): void {
    if (!this.config.get<boolean>('watchOutgoing', true)) return;
    const key = repo.rootUri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => void this.refreshOutgoing(repo), delay));
  }

  /** What a push of HEAD would send, and what it carries. Skipped when HEAD and its upstream did not move. */
  async refreshOutgoing(repo: GitRepository, force = false): Promise<RepoPushState | undefined> {
    const key = repo.rootUri.toString();
    const state = this.states.get(key);
    if (!state) return undefined;
    const target = this.pushTarget(repo);
    if (!target) {
      if (state.outgoing || state.error) {
        state.outgoing = undefined;
        state.error = undefined;
        this.emitter.fire();
      }
      return state;
    }
    const signature = `${target.remote}\n${target.input}`;
    if (!force && this.lastInput.get(key) === signature) return state;
    this.lastInput.set(key, signature);
    try {
      state.outgoing = await this.scanOutgoing(repo.rootUri.fsPath, target.remote, target.input, false);
      state.error = undefined;
      if (state.outgoing.findings.length) this.log.warn(`${state.outgoing.findings.length} finding(s) in outgoing commits of ${repo.rootUri.fsPath}`);
    } catch (e) {
      state.error = redact((e as Error).message);
      this.log.error(`could not scan the outgoing commits of ${repo.rootUri.fsPath}`, e);
    }
    this.emitter.fire();
    return state;
  }

  private pushTarget(repo: GitRepository): { remote: string; input: string; branch: string; setUpstream: boolean } | undefined {
    const head = repo.state.HEAD;
    if (!head?.name || !head.commit) return undefined;
    const remotes = repo.state.remotes;
    if (!remotes.length) return undefined;
    const fallback = remotes.find((r) => r.name === 'origin')?.name ?? (remotes[0] as { name: string }).name;
    const { remote, input } = pushInputFor(head.name, head.commit, head.upstream, fallback);
    return { remote, input, branch: head.name, setUpstream: !head.upstream };
  }

  private async scanOutgoing(cwd: string, remote: string, input: string, record: boolean): Promise<PushScanResult> {
    // The remote's name goes after "--": a remote may be named like an option.
    const args = ['pre-push', '--format', 'json', ...(record ? [] : ['--no-record']), '--', remote, remote];
    const r = await runCliProcess(this.cliPath, args, { cwd, input });
    // Exit 2 with a result: the scan ran, but some content could not be scanned (listed in `skipped`).
    if (r.code === 2 && r.stdout.trim().startsWith('{')) return sanitizeResult(JSON.parse(r.stdout) as PushScanResult);
    if (r.code !== 0 && r.code !== 1) throw new Error(r.stderr.trim().split('\n').slice(-3).join(' ') || `exit ${r.code}`);
    return sanitizeResult(JSON.parse(r.stdout) as PushScanResult);
  }

  private async repoFor(arg: unknown): Promise<GitRepository | undefined> {
    if (!this.git) return undefined;
    const uri = arg instanceof vscode.Uri ? arg : (arg as { rootUri?: vscode.Uri } | undefined)?.rootUri;
    if (uri) {
      // A repository root exactly, else one nested inside a folder's repository, else the one containing it.
      const exact = this.git.repositories.find((r) => r.rootUri.fsPath === uri.fsPath);
      if (exact) return exact;
      const opened = await this.git.openRepository?.(uri).then(undefined, () => null);
      return opened && opened.rootUri.fsPath === uri.fsPath ? opened : (this.git.getRepository(uri) ?? opened ?? undefined);
    }
    const repos = this.git.repositories;
    if (repos.length <= 1) return repos[0];
    const active = vscode.window.activeTextEditor?.document.uri;
    const byEditor = active && this.git.getRepository(active);
    if (byEditor) return byEditor;
    return vscode.window
      .showQuickPick(
        repos.map((r) => ({ label: path.basename(r.rootUri.fsPath), description: r.rootUri.fsPath, repo: r })),
        { placeHolder: vscode.l10n.t('Choose a repository') },
      )
      .then((p) => p?.repo);
  }

  /** Scans the outgoing commits; pushes through the git extension only when they are clean. */
  async safePush(arg?: unknown): Promise<SafePushResult> {
    await this.ready;
    const repo = await this.repoFor(arg);
    if (!repo) {
      void vscode.window.showErrorMessage(this.git ? vscode.l10n.t('Keysentry: open a git repository to push.') : vscode.l10n.t('Keysentry: the built-in Git extension is disabled, so Safe Push cannot push.'));
      return { pushed: false, findings: [], error: 'no repository' };
    }
    // The git extension refreshes on file events; a remote added a moment ago must count.
    await repo.status().catch((e: unknown) => this.log.warn(`could not refresh the repository: ${String(e)}`));
    const target = this.pushTarget(repo);
    if (!target) {
      const msg = repo.state.remotes.length ? vscode.l10n.t('Keysentry: check out a branch with at least one commit to push.') : vscode.l10n.t('Keysentry: this repository has no remote to push to.');
      void vscode.window.showErrorMessage(msg);
      return { pushed: false, findings: [], error: msg };
    }
    let result: PushScanResult;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Keysentry: scanning outgoing commits…') },
        () => this.scanOutgoing(repo.rootUri.fsPath, target.remote, target.input, true),
      );
    } catch (e) {
      const message = redact((e as Error).message);
      this.log.error('Safe Push: the scan failed; nothing was pushed', e);
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: the scan of the outgoing commits failed, so nothing was pushed. {0}', message), vscode.l10n.t('Show Log')).then((a) => a && this.log.channel.show());
      return { pushed: false, findings: [], error: message };
    }
    // This push attempt is told about below; the watcher must not tell it again.
    const recorded = await gitPath(repo.rootUri.fsPath, PUSH_RESULT_FILE).then((f) => this.readResultFile(f), () => undefined);
    if (recorded) this.blockedNotices.set(repo.rootUri.toString(), recorded.time);
    const state = this.states.get(repo.rootUri.toString());
    if (state) {
      state.outgoing = result;
      state.error = undefined;
      this.emitter.fire();
    }
    this.log.info(`Safe Push: ${result.commits} outgoing commit(s) to ${target.remote}, ${result.findings.length} finding(s), ${result.ms} ms`);
    if (result.findings.length) {
      void this.showBlocked(repo.rootUri, result, vscode.l10n.t('Keysentry: push stopped. {0} credential(s) in {1} outgoing commit(s) to {2}.', result.findings.length, new Set(result.findings.map((f) => f.commit)).size, target.remote));
      return { pushed: false, findings: result.findings };
    }
    if (result.skipped.length) {
      const list = result.skipped.slice(0, 3).map((k) => `${k.file} (${k.reason})`).join(', ');
      this.log.warn(`Safe Push: ${result.skipped.length} file(s) in the outgoing commits could not be scanned: ${result.skipped.map((k) => `${k.file} (${k.reason})`).join(', ')}`);
      if (this.config.get<string>('failMode', 'closed') !== 'open') {
        void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: push stopped. {0} file(s) in the outgoing commits could not be scanned: {1}', result.skipped.length, list));
        return { pushed: false, findings: [], error: 'unscanned content' };
      }
      void vscode.window.showWarningMessage(vscode.l10n.t('Keysentry: pushing with {0} file(s) not scanned (fail-open): {1}', result.skipped.length, list));
    }
    // A submodule whose own pushes no Keysentry hook guards (see ../git/submodules.ts).
    const unguarded = (result.submodules ?? []).filter((m) => m.unguarded).map((m) => m.path);
    if (unguarded.length) {
      this.log.warn(`Safe Push: submodule(s) not guarded by a Keysentry hook: ${unguarded.join(', ')}`);
      if (this.config.get<string>('failMode', 'closed') !== 'open') {
        void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: push stopped. Submodule {0} has unpushed commits and no Keysentry hook of its own: install the pre-push hook again and include the submodules.', unguarded.join(', ')));
        return { pushed: false, findings: [], error: 'unguarded submodule' };
      }
    }
    try {
      await repo.push(target.remote, target.branch, target.setUpstream);
    } catch (e) {
      // The hook, the remote or the network refused: git's error handler has spoken already.
      const message = redact((e as { stderr?: string; message?: string }).stderr ?? (e as Error).message ?? String(e));
      this.log.error('Safe Push: git push failed', message);
      return { pushed: false, findings: [], error: message };
    }
    vscode.window.setStatusBarMessage(vscode.l10n.t('$(check) Keysentry: pushed {0} clean commit(s) to {1}', result.commits, target.remote), 5000);
    void this.refreshOutgoing(repo, true);
    return { pushed: true, findings: [] };
  }

  /** One notification for a blocked push, however it was started. */
  private async showBlocked(root: vscode.Uri, result: PushScanResult, message: string): Promise<void> {
    const show = vscode.l10n.t('Show Findings');
    const rotate = vscode.l10n.t('Rotate Key');
    const allow = vscode.l10n.t('Allowlist');
    const incident = vscode.l10n.t('Open Incident');
    const keyIds = [...new Set(result.findings.flatMap((f) => (f.kind === 'aws-access-key-id' ? [f.preview] : f.pairedKeyId ? [f.pairedKeyId] : [])))];
    const actions = keyIds.length ? [show, incident, rotate, allow] : [show, allow];
    const choice = await vscode.window.showWarningMessage(message, ...actions);
    const commands = choice === rotate || choice === incident ? await vscode.commands.getCommands(true) : [];
    // The key's own incident (one per key, whatever found it), not a generic runbook page.
    const openIncident = async (): Promise<void> => {
      if (commands.includes(Commands.openKeyIncident)) await vscode.commands.executeCommand(Commands.openKeyIncident, keyIds[0]);
      else await vscode.commands.executeCommand(Commands.openRunbook);
    };
    if (choice === show) await vscode.commands.executeCommand(`${'keysentry.incidents'}.focus`);
    else if (choice === incident) await openIncident();
    else if (choice === rotate) {
      if (commands.includes(Commands.rotateKey)) await vscode.commands.executeCommand(Commands.rotateKey, keyIds[0]);
      else await openIncident();
    } else if (choice === allow) await this.allowlist(root, result.findings);
  }

  private async allowlist(root: vscode.Uri, findings: PushFinding[]): Promise<void> {
    const yes = vscode.l10n.t('Add to Baseline');
    const answer = await vscode.window.showWarningMessage(
      vscode.l10n.t('Add {0} finding(s) to {1}? Do this only for test fixtures and placeholders: a real key stays usable by anyone who sees it until it is rotated.', findings.length, BASELINE_FILE),
      { modal: true },
      yes,
    );
    if (answer !== yes) return;
    const file = path.join(root.fsPath, BASELINE_FILE);
    try {
      addToBaselineFile(root.fsPath, findings, 'allowlisted after a blocked push');
      this.log.info(`added ${findings.length} finding(s) to ${file}`);
      this.onBaselineChanged();
      const repo = this.git?.getRepository(root);
      if (repo) void this.refreshOutgoing(repo, true);
    } catch (e) {
      this.log.error(`could not update ${file}`, e);
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: could not update {0}: {1}', BASELINE_FILE, redact((e as Error).message)));
    }
  }

  private readResultFile(file: string): PushResultFile | undefined {
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as PushResultFile;
      // Files written by older versions held commit subjects unredacted.
      if (data.result) data.result = sanitizeResult(data.result);
      return data;
    } catch {
      return undefined;
    }
  }

  /** The hook wrote a result: a push from anywhere (terminal, another tool) was scanned. */
  private onResultFile(repo: GitRepository, file: string): void {
    const data = this.readResultFile(file);
    if (!data) return;
    void this.refreshOutgoing(repo, true);
    if (!data.blocked || !data.result?.findings.length) return;
    const key = repo.rootUri.toString();
    if (this.blockedNotices.get(key) === data.time) return;
    this.blockedNotices.set(key, data.time);
    this.log.warn(`a push to ${data.remote} was blocked: ${data.result.findings.length} finding(s)`);
    void this.showBlocked(repo.rootUri, data.result, vscode.l10n.t('Keysentry blocked a push to {0}: {1} credential(s) in outgoing commits.', data.remote, data.result.findings.length));
  }

  private async handlePushError(repo: GitRepository, error: { stderr?: string; message?: string }): Promise<boolean> {
    const stderr = error.stderr ?? error.message ?? '';
    if (stderr.includes(FAIL_STOPPED)) {
      this.log.error('the pre-push hook could not scan, and stopped the push (fail-closed)', stderr);
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: the pre-push scan could not run, so the push was stopped. See the log.'), vscode.l10n.t('Show Log')).then((a) => a && this.log.channel.show());
      return true;
    }
    if (!stderr.includes(BLOCKED_MARKER)) return false;
    this.handledPushErrors++;
    const file = await gitPath(repo.rootUri.fsPath, PUSH_RESULT_FILE).catch(() => undefined);
    const data = file ? this.readResultFile(file) : undefined;
    const key = repo.rootUri.toString();
    if (data?.result?.findings.length) {
      if (this.blockedNotices.get(key) !== data.time) {
        this.blockedNotices.set(key, data.time);
        void this.showBlocked(repo.rootUri, data.result, vscode.l10n.t('Keysentry blocked the push to {0}: {1} credential(s) in outgoing commits.', data.remote, data.result.findings.length));
      }
    } else void vscode.window.showWarningMessage(vscode.l10n.t('Keysentry blocked the push: outgoing commits carry credentials. See the Git output for details.'));
    return true;
  }

  private async pickRepoForHook(arg: unknown): Promise<GitRepository | { rootUri: vscode.Uri } | undefined> {
    await this.ready;
    if (arg instanceof vscode.Uri && !this.git) return { rootUri: arg };
    const repo = await this.repoFor(arg);
    if (repo) return repo;
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder ? { rootUri: folder.uri } : undefined;
  }

  private hookOptions(): { node: string; cli: string; failOpen: boolean } {
    return { node: process.execPath, cli: this.cliPath, failOpen: this.config.get<string>('failMode', 'closed') === 'open' };
  }

  async install(arg?: unknown): Promise<boolean> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: git hooks are installed only in trusted workspaces.'));
      return false;
    }
    const repo = await this.pickRepoForHook(arg);
    if (!repo) return false;
    try {
      const { location, action, tracked } = await installHook(repo.rootUri.fsPath, this.hookOptions());
      this.log.info(`pre-push hook ${action}: ${location.file}${location.shared ? ' (shared hook file: no machine paths in it)' : ''}`);
      if (location.note) this.log.info(location.note);
      if (tracked) {
        void vscode.window.showWarningMessage(
          vscode.l10n.t('Keysentry: {0} is tracked by git, so this change is shared with everyone who clones the repository once committed. It holds no path of this machine; teammates without Keysentry push unscanned, with a warning.', path.relative(repo.rootUri.fsPath, location.file)),
        );
      }
      // Submodules push through their own hooks folders (git push --recurse-submodules).
      const subs = await checkedOutSubmodules(location.top).catch(() => []);
      if (subs.length) {
        const yes = vscode.l10n.t('Install in Submodules');
        // Not awaited: the install is done; the offer stays until the user answers it.
        void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: {0} submodule(s) push through their own hooks folders. Install the pre-push hook there too?', subs.length), yes).then(async (choice) => {
          if (choice !== yes) return;
          for (const r of await installInSubmodules(location.top, this.hookOptions())) this.log.info(`submodule ${r.path}: ${r.error ? `not installed: ${r.error}` : `${r.action} (${r.file})`}`);
        });
      }
      const where = location.husky ? '.husky/pre-push' : path.relative(repo.rootUri.fsPath, location.file) || location.file;
      void vscode.window.showInformationMessage(
        action === 'unchanged' ? vscode.l10n.t('Keysentry: the pre-push hook is already installed ({0}).', where) : vscode.l10n.t('Keysentry: pre-push hook installed ({0}). Pushes that carry AWS keys or private keys are now stopped.', where),
      );
      return true;
    } catch (e) {
      this.log.error('could not install the pre-push hook', e);
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: could not install the pre-push hook. {0}', redact((e as Error).message)));
      return false;
    }
  }

  async uninstall(arg?: unknown): Promise<boolean> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: git hooks are changed only in trusted workspaces.'));
      return false;
    }
    const repo = await this.pickRepoForHook(arg);
    if (!repo) return false;
    try {
      const { location, action } = await uninstallHook(repo.rootUri.fsPath);
      this.log.info(`pre-push hook uninstall: ${action} (${location.file})`);
      void vscode.window.showInformationMessage(action === 'absent' ? vscode.l10n.t('Keysentry: no Keysentry pre-push hook was installed.') : vscode.l10n.t('Keysentry: pre-push hook removed; the rest of the hook file is as it was.'));
      return action !== 'absent';
    } catch (e) {
      this.log.error('could not uninstall the pre-push hook', e);
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: could not remove the pre-push hook. {0}', redact((e as Error).message)));
      return false;
    }
  }

  /** Keeps an installed block pointing at this extension's CLI (paths change on update); offers the hook once. */
  private async maintainHook(repo: GitRepository): Promise<void> {
    if (!vscode.workspace.isTrusted) return;
    const root = repo.rootUri.fsPath;
    try {
      const status = await hookStatus(root);
      if (status.installed) {
        // A block from before "--" let a remote named "--help" skip the scan: rewrite it.
        if (status.cli !== this.cliPath || status.outdated) {
          await installHook(root, this.hookOptions());
          this.log.info(`updated the pre-push hook in ${status.location.file} to run ${this.cliPath}`);
        }
        return;
      }
    } catch (e) {
      this.log.error(`cannot read the pre-push hook of ${root}`, e);
      return;
    }
    const dismissed = this.context.globalState.get<string[]>(DISMISSED_KEY, []);
    if (!this.config.get<boolean>('offerHook', true) || dismissed.includes(root) || this.offered.has(root)) return;
    this.offered.add(root);
    const install = vscode.l10n.t('Install Hook');
    const never = vscode.l10n.t("Don't Ask Again");
    const choice = await vscode.window.showInformationMessage(
      vscode.l10n.t('Keysentry can stop pushes from {0} that carry AWS keys or private keys, with a git pre-push hook (an existing hook is kept).', path.basename(root)),
      install,
      vscode.l10n.t('Not Now'),
      never,
    );
    if (choice === install) await this.install(repo);
    else if (choice === never) await this.context.globalState.update(DISMISSED_KEY, [...dismissed, root]);
  }

  private async refreshInstalledHooks(): Promise<void> {
    if (!vscode.workspace.isTrusted) return;
    for (const s of this.states.values()) {
      try {
        if ((await hookStatus(s.root.fsPath)).installed) await installHook(s.root.fsPath, this.hookOptions());
      } catch (e) {
        this.log.error(`could not update the pre-push hook of ${s.root.fsPath}`, e);
      }
    }
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const subs of this.repoDisposables.values()) for (const d of subs) d.dispose();
    for (const d of this.disposables) d.dispose();
    this.emitter.dispose();
  }
}

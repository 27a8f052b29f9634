import * as vscode from 'vscode';
import { readFile } from 'node:fs/promises';
import { canaryOf } from '../core/investigate/canary';
import { describeLiveness, type KeyLiveness } from '../core/investigate/liveness';
import { isKeyIdShape } from '../core/detect/patterns';
import { listProfiles } from '../core/awsProfiles';
import { redact } from '../core/mask';
import { runCliProcess } from './cliProcess';
import type { FindingsStore } from './findingsStore';
import { Commands } from './ids';
import type { Log } from './log';
import { keyIdOf } from './rotation';

export type LiveCheckMode = 'off' | 'onDemand' | 'automatic';

/**
 * Whether the AWS keys found in the workspace are live: `keysentry check` (the CLI, in a child
 * process, signing with the user's own profile and never with the found key) for each distinct key
 * id, only in trusted workspaces, remembered for `keysentry.liveCheck.cacheMinutes`. In
 * `automatic` mode every newly found key is looked up in the background; `onDemand` (the default)
 * asks only when the user runs "Check Whether This Key Is Live" (hover link, quick fix, palette).
 */
export class LiveKeys implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly results = new Map<string, { live: KeyLiveness; at: number }>();
  private readonly inFlight = new Map<string, Promise<KeyLiveness | undefined>>();
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: FindingsStore,
    private readonly log: Log,
    private readonly cliPath: string,
  ) {
    this.disposables.push(
      this.emitter,
      vscode.commands.registerCommand(Commands.checkKey, (arg?: unknown) => this.checkCommand(arg)),
      vscode.commands.registerCommand(Commands.verifyKeyItself, (arg?: unknown) => this.verifyItself(arg)),
      store.onDidChange(() => this.scheduleAutomatic()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.scheduleAutomatic()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('keysentry.liveCheck') || e.affectsConfiguration('keysentry.aws')) {
          this.results.clear();
          this.emitter.fire();
          this.scheduleAutomatic();
        }
      }),
    );
  }

  private get mode(): LiveCheckMode {
    return vscode.workspace.getConfiguration('keysentry.liveCheck').get<LiveCheckMode>('mode', 'onDemand');
  }

  private get ttlMs(): number {
    return Math.max(1, vscode.workspace.getConfiguration('keysentry.liveCheck').get<number>('cacheMinutes', 60)) * 60_000;
  }

  /** The remembered result for a key id, while it is fresh. */
  get(keyId: string): KeyLiveness | undefined {
    const r = this.results.get(keyId);
    if (!r) return undefined;
    if (Date.now() - r.at > this.ttlMs) {
      this.results.delete(keyId);
      return undefined;
    }
    return r.live;
  }

  /** One sentence for hovers and diagnostics, when the key was checked. */
  describe(keyId: string): string | undefined {
    const l = this.get(keyId);
    return l ? describeLiveness(l) : undefined;
  }

  private keyIdsFound(): string[] {
    const ids = new Set<string>();
    for (const e of this.store.entries()) for (const f of e.findings) {
      const id = keyIdOf(f);
      if (id && isKeyIdShape(id)) ids.add(id);
    }
    return [...ids].sort();
  }

  /** Whether AWS credentials are likely to resolve without asking: a profile setting, the environment, or a shared profile. */
  private async credentialsLikely(): Promise<boolean> {
    const aws = vscode.workspace.getConfiguration('keysentry.aws');
    return !!aws.get<string>('profile', '') || !!process.env.AWS_ACCESS_KEY_ID || !!process.env.AWS_PROFILE || (await listProfiles()).length > 0;
  }

  private scheduleAutomatic(): void {
    if (this.mode !== 'automatic' || !vscode.workspace.isTrusted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const missing = this.keyIdsFound().filter((id) => !this.get(id) && !this.inFlight.has(id));
      if (missing.length) void this.credentialsLikely().then((likely) => (likely ? this.check(missing) : undefined));
    }, 1000);
  }

  /** Looks keys up (one CLI run for all of them); results land in the cache and fire onDidChange. */
  async check(keyIds: string[], token?: vscode.CancellationToken): Promise<Map<string, KeyLiveness>> {
    const out = new Map<string, KeyLiveness>();
    if (!vscode.workspace.isTrusted || this.mode === 'off') return out;
    const todo = keyIds.filter((id) => !this.inFlight.has(id));
    const run = todo.length ? this.runCheck(todo, token) : Promise.resolve(new Map<string, KeyLiveness>());
    for (const id of todo) this.inFlight.set(id, run.then((m) => m.get(id)));
    try {
      await run;
    } finally {
      for (const id of todo) this.inFlight.delete(id);
    }
    for (const id of keyIds) {
      const l = (await this.inFlight.get(id)) ?? this.get(id);
      if (l) out.set(id, l);
    }
    return out;
  }

  private async runCheck(keyIds: string[], token?: vscode.CancellationToken): Promise<Map<string, KeyLiveness>> {
    const aws = vscode.workspace.getConfiguration('keysentry.aws');
    const profile = aws.get<string>('profile', '');
    const region = aws.get<string>('region', '');
    const endpoint = aws.get<string>('endpointUrl', '');
    const args = ['check', ...keyIds, '--format', 'json', ...(profile ? ['--profile', profile] : []), ...(region ? ['--region', region] : [])];
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
    const found = new Map<string, KeyLiveness>();
    try {
      const r = await runCliProcess(this.cliPath, args, { cwd, env: endpoint ? { AWS_ENDPOINT_URL: endpoint } : {}, token });
      let parsed: { keys?: KeyLiveness[] } | undefined;
      try {
        parsed = JSON.parse(r.stdout) as { keys?: KeyLiveness[] };
      } catch {
        parsed = undefined;
      }
      if (!parsed?.keys) {
        this.log.error(`keysentry check failed (exit ${r.code}): ${redact(r.stderr.trim()).slice(0, 2000)}`);
        return found;
      }
      const now = Date.now();
      for (const l of parsed.keys) {
        if (!keyIds.includes(l.keyId)) continue;
        this.results.set(l.keyId, { live: l, at: now });
        found.set(l.keyId, l);
        this.log.info(`${l.keyId}: ${describeLiveness(l)}`);
      }
      this.emitter.fire();
    } catch (e) {
      this.log.error('keysentry check could not run', e);
    }
    return found;
  }

  private async checkCommand(arg?: unknown): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: checking keys with AWS needs a trusted workspace.'));
      return;
    }
    if (this.mode === 'off') {
      void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: live checks are off (keysentry.liveCheck.mode).'));
      return;
    }
    let keyIds: string[];
    if (typeof arg === 'string' && isKeyIdShape(arg)) keyIds = [arg];
    else {
      const editor = vscode.window.activeTextEditor;
      const at = editor ? this.store.at(editor.document.uri, editor.selection.active) : undefined;
      const here = at ? keyIdOf(at) : undefined;
      keyIds = here ? [here] : this.keyIdsFound();
    }
    if (!keyIds.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: no AWS access key id was found in the workspace.'));
      return;
    }
    for (const id of keyIds) this.results.delete(id);
    const results = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Keysentry: asking AWS about {0} key(s) with your own identity…', keyIds.length), cancellable: true },
      (_p, token) => this.check(keyIds, token),
    );
    if (!results.size) {
      const show = vscode.l10n.t('Show Log');
      if ((await vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: could not check the key(s). See the log.'), show)) === show) this.log.channel.show();
      return;
    }
    const lines = [...results.values()].map((l) => `${l.keyId}: ${describeLiveness(l)}`);
    const active = [...results.values()].filter((l) => l.status === 'active');
    const rotate = vscode.l10n.t('Rotate This Key');
    const message = lines.length === 1 ? vscode.l10n.t('Keysentry: {0}', lines[0] as string) : vscode.l10n.t('Keysentry: {0} of {1} key(s) are active. {2}', active.length, lines.length, lines.join(' · '));
    const show = active.length ? vscode.window.showWarningMessage(message, rotate) : vscode.window.showInformationMessage(message);
    if ((await show) === rotate) await vscode.commands.executeCommand(Commands.rotateKey, active[0]?.keyId);
  }

  /** The secret the scanner paired with `keyId`, read from the document or the file it was found in. */
  private async secretFor(keyId: string): Promise<string | undefined> {
    for (const e of this.store.entries()) {
      const f = e.findings.find((x) => x.kind === 'aws-secret-access-key' && x.pairedKeyId === keyId);
      if (!f) continue;
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === e.uri.toString());
      const text = open ? open.getText() : e.uri.scheme === 'file' ? await readFile(e.uri.fsPath, 'utf8').catch(() => undefined) : undefined;
      if (!text) continue;
      const lines = text.split('\n');
      if (f.line !== f.endLine) continue;
      const value = lines[f.line - 1]?.slice(f.column - 1, f.endColumn - 1);
      if (value && /^[A-Za-z0-9/+]{40}$/.test(value)) return value;
    }
    return undefined;
  }

  /**
   * "Verify With the Key Itself": the one action that uses a found key (STS GetCallerIdentity
   * signed with it), for keys outside the user's accounts. Never automatic, refused for canary
   * tokens, and only after a modal that says the call lands in the key owner's CloudTrail.
   */
  private async verifyItself(arg?: unknown): Promise<void> {
    if (!vscode.workspace.isTrusted) return;
    const editor = vscode.window.activeTextEditor;
    const at = editor ? this.store.at(editor.document.uri, editor.selection.active) : undefined;
    const keyId = typeof arg === 'string' && isKeyIdShape(arg) ? arg : at ? keyIdOf(at) : undefined;
    if (!keyId) return void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: put the cursor on an AWS key to verify it.'));
    const canary = canaryOf(keyId);
    if (canary) {
      return void vscode.window.showWarningMessage(vscode.l10n.t('Keysentry: {0} is {1} (account {2}). Using it, even to check it, alerts whoever planted it: Keysentry will not.', keyId, canary.what, canary.account));
    }
    const secret = await this.secretFor(keyId);
    if (!secret) return void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: no secret was found beside {0}, so it cannot be tried.', keyId));
    const go = vscode.l10n.t('Use the Key Once');
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('Verify {0} with the key itself?', keyId),
      {
        modal: true,
        detail: vscode.l10n.t(
          'Keysentry will call STS GetCallerIdentity signed with this key and its secret, once. The call is recorded in the CloudTrail of the account that owns the key{0}. Prefer "Check Whether This Key Is Live", which asks with your own identity; use this only for keys outside your accounts.',
          this.get(keyId)?.accountId ? ` (${this.get(keyId)?.accountId})` : '',
        ),
      },
      go,
    );
    if (choice !== go) return;
    const aws = vscode.workspace.getConfiguration('keysentry.aws');
    const region = aws.get<string>('region', '');
    const endpoint = aws.get<string>('endpointUrl', '');
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
    const r = await runCliProcess(this.cliPath, ['check', keyId, '--verify-with-key', '--format', 'json', ...(region ? ['--region', region] : [])], { cwd, input: `${secret}\n`, env: endpoint ? { AWS_ENDPOINT_URL: endpoint } : {} });
    let v: { works?: boolean; reason?: string } | undefined;
    try {
      v = JSON.parse(r.stdout) as { works?: boolean; reason?: string };
    } catch {
      v = undefined;
    }
    if (!v?.reason) {
      this.log.error(`verify ${keyId} failed (exit ${r.code}): ${redact(r.stderr.trim()).slice(0, 2000)}`);
      return void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: could not verify {0}. See the log.', keyId));
    }
    this.log.info(`verified ${keyId} with the key itself: ${v.reason}`);
    const message = vscode.l10n.t('Keysentry: {0}: {1}', keyId, v.reason);
    void (v.works ? vscode.window.showWarningMessage(message) : vscode.window.showInformationMessage(message));
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

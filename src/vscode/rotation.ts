import * as vscode from 'vscode';
import { sharedCredentialsHold } from '../core/rotation/files';
import { credentialsFile, listProfiles } from '../core/awsProfiles';
import { redact } from '../core/mask';
import { isKeyIdShape } from '../core/detect/patterns';
import { unfinishedJournals } from '../core/rotation/journal';
import type { RotationOutcome } from '../core/rotation/rotate';
import type { RotationPlan } from '../core/rotation/types';
import type { Finding } from '../core/types';
import { runCliProcess, type CliRun } from './cliProcess';
import type { FindingsStore } from './findingsStore';
import { Commands } from './ids';
import type { Log } from './log';

export interface RotateResult {
  status: 'done' | 'rolled-back' | 'refused' | 'declined' | 'failed';
  newKeyId?: string;
  message?: string;
  /** The refusal's reason code (tracked-file, no-usable-file, not-found, locked…). */
  refused?: string;
  /** Where the new key went when the user chose (a profile, untracked files). */
  destination?: { toProfile?: string; untracked?: string[] };
}

type Message = (message: string, options: vscode.MessageOptions, ...items: string[]) => Thenable<string | undefined>;

/**
 * What the rotation asks and tells the user, in one place: vscode.window by default; the
 * integration tests put their own answers here (and read what was shown).
 */
export interface RotationPrompts {
  info: Message;
  warn: Message;
  error: Message;
  pick<T extends vscode.QuickPickItem>(items: T[], options: vscode.QuickPickOptions): Thenable<T | undefined>;
  input(options: vscode.InputBoxOptions): Thenable<string | undefined>;
  openFiles(options: vscode.OpenDialogOptions): Thenable<vscode.Uri[] | undefined>;
}

const windowPrompts: RotationPrompts = {
  info: (m, o, ...i) => vscode.window.showInformationMessage(m, o, ...i),
  warn: (m, o, ...i) => vscode.window.showWarningMessage(m, o, ...i),
  error: (m, o, ...i) => vscode.window.showErrorMessage(m, o, ...i),
  pick: (items, o) => vscode.window.showQuickPick(items, o),
  input: (o) => vscode.window.showInputBox(o),
  openFiles: (o) => vscode.window.showOpenDialog(o),
};

/** The first lines of a CLI message that say why, short enough for a notification (which shows no detail). */
export function reasonLine(message: string, max = 400): string {
  const text = message
    .split('\n')
    .map((l) => l.replace(/^keysentry:\s*(will not rotate:\s*)?/, '').trim())
    .filter(Boolean)
    .join(' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The key id a finding stands for: the id itself, or the id its secret pairs with. */
export const keyIdOf = (f: Finding): string | undefined => (f.kind === 'aws-access-key-id' ? f.preview : f.pairedKeyId);

/**
 * "Keysentry: Rotate This Key": runs `keysentry rotate` (the CLI, in a child process, with its
 * journal) for a key found in the workspace: plan, one confirmation, cancellable progress, summary
 * and checklist. The new secret goes from IAM straight into the files, never through this process.
 */
export class RotationController implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  /** What the user is asked and told (replaceable for tests). */
  prompts: RotationPrompts = windowPrompts;

  constructor(
    private readonly store: FindingsStore,
    private readonly log: Log,
    private readonly cliPath: string,
  ) {
    this.disposables.push(vscode.commands.registerCommand(Commands.rotateKey, (arg?: unknown, finding?: Finding) => this.rotate(arg, finding)));
    void this.offerResume();
    // Granting trust later (Restricted Mode → trusted) offers it then, not after a reload.
    this.disposables.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.offerResume()));
  }

  private get config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('keysentry.aws');
  }

  private run(args: string[], onStderrLine?: (line: string) => void, token?: vscode.CancellationToken): Promise<CliRun> {
    const endpoint = this.config.get<string>('endpointUrl', '');
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
    return runCliProcess(this.cliPath, args, { cwd, env: endpoint ? { AWS_ENDPOINT_URL: endpoint } : {}, onStderrLine, token });
  }

  private awsArgs(profile: string | undefined): string[] {
    const region = this.config.get<string>('region', '');
    return [...(profile ? ['--profile', profile] : []), ...(region ? ['--region', region] : [])];
  }

  /** The profile to sign with: the setting, else a pick when there are several. */
  private async chooseProfile(): Promise<string | undefined | null> {
    const configured = this.config.get<string>('profile', '');
    if (configured) return configured;
    const profiles = await listProfiles();
    if (profiles.length <= 1 || process.env.AWS_ACCESS_KEY_ID) return undefined;
    const pick = await vscode.window.showQuickPick(
      [{ label: vscode.l10n.t('Default credentials'), description: vscode.l10n.t('environment, default profile, SSO'), profile: undefined as string | undefined }, ...profiles.map((p) => ({ label: p, description: '', profile: p as string | undefined }))],
      { placeHolder: vscode.l10n.t('Sign the rotation with which AWS profile? (never the leaked key itself; set keysentry.aws.profile to skip this)') },
    );
    return pick ? pick.profile : null;
  }

  private keyIdsInWorkspace(): string[] {
    const ids = new Set<string>();
    for (const e of this.store.entries()) for (const f of e.findings) {
      const id = keyIdOf(f);
      if (id) ids.add(id);
    }
    return [...ids].sort();
  }

  private async resolveKeyId(arg: unknown, finding?: Finding): Promise<string | undefined> {
    if (typeof arg === 'string' && isKeyIdShape(arg)) return arg;
    const f = finding ?? (arg as { finding?: Finding } | undefined)?.finding;
    if (f && keyIdOf(f)) return keyIdOf(f);
    const editor = vscode.window.activeTextEditor;
    if (editor) {
      const at = this.store.at(editor.document.uri, editor.selection.active);
      if (at && keyIdOf(at)) return keyIdOf(at);
    }
    const ids = this.keyIdsInWorkspace();
    if (ids.length === 1) return ids[0];
    if (!ids.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: no AWS access key was found in the workspace to rotate.'));
      return undefined;
    }
    return vscode.window.showQuickPick(ids, { placeHolder: vscode.l10n.t('Rotate which access key?') });
  }

  private filesFor(keyId: string): string[] {
    const files = new Set<string>();
    for (const e of this.store.entries()) if (e.uri.scheme === 'file' && e.findings.some((f) => keyIdOf(f) === keyId)) files.add(e.uri.fsPath);
    const shared = credentialsFile();
    if (sharedCredentialsHold(shared, keyId)) files.add(shared);
    return [...files];
  }

  async rotate(arg?: unknown, finding?: Finding): Promise<RotateResult> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: AWS actions run only in trusted workspaces.'));
      return { status: 'refused', message: 'untrusted workspace' };
    }
    const keyId = await this.resolveKeyId(arg, finding);
    if (!keyId) return { status: 'declined' };
    const profile = await this.chooseProfile();
    if (profile === null) return { status: 'declined' };
    let files = this.filesFor(keyId);
    let extra: string[] = [];
    if (!files.length) {
      // No file here holds the key (an audit's old key): the user says where the new key goes.
      const dest = await this.chooseDestination(keyId, vscode.l10n.t('No file in this workspace holds {0}. Where should its new key go?', keyId));
      if (!dest) return { status: 'declined' };
      files = dest.files;
      extra = dest.args;
    }
    return this.rotateWith(keyId, profile, files, extra);
  }

  /**
   * Where the new key goes when no listed file can take it: files the user picks, or a profile of
   * the shared credentials file (a rotation "without a file").
   */
  private async chooseDestination(keyId: string, placeHolder: string): Promise<{ files: string[]; args: string[] } | undefined> {
    const items: Array<vscode.QuickPickItem & { id: 'files' | 'profile' }> = [
      { id: 'files', label: vscode.l10n.t('$(file) Choose the files that use it…'), detail: vscode.l10n.t('a .env, a config file: the new key replaces the old one where it stands') },
      { id: 'profile', label: vscode.l10n.t('$(key) Write the new key into a profile of ~/.aws/credentials…'), detail: vscode.l10n.t('no file of yours changes; point what used the key at that profile') },
    ];
    const pick = await this.prompts.pick(items, { placeHolder, ignoreFocusOut: true });
    if (!pick) return undefined;
    if (pick.id === 'files') {
      const uris = await this.prompts.openFiles({ canSelectMany: true, openLabel: vscode.l10n.t('Update These Files'), defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
      if (!uris?.length) return undefined;
      return { files: uris.map((u) => u.fsPath), args: [] };
    }
    const name = await this.askProfileName(keyId);
    return name ? { files: [], args: ['--to-profile', name] } : undefined;
  }

  private askProfileName(keyId: string): Thenable<string | undefined> {
    return this.prompts.input({
      title: vscode.l10n.t('Profile for the new key of {0}', keyId),
      prompt: vscode.l10n.t('A profile of ~/.aws/credentials: added when missing; one holding another key is refused'),
      value: 'rotated',
      ignoreFocusOut: true,
      validateInput: (v) => (/^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$/.test(v) ? undefined : vscode.l10n.t('Letters, digits and _ . @ + - only')),
    });
  }

  private async rotateWith(keyId: string, profile: string | undefined, files: string[], initialExtra: string[]): Promise<RotateResult> {
    // Save open editors of the files first: the rotation rewrites them on disk.
    for (const doc of vscode.workspace.textDocuments) if (doc.isDirty && files.includes(doc.uri.fsPath)) await doc.save();
    const base = ['rotate', keyId, '--format', 'json', ...this.awsArgs(profile), ...files.flatMap((f) => ['--update', f])];

    const extra = [...initialExtra];
    let planned: { plan: RotationPlan; exposed: boolean; files: string[]; signer: string } | undefined;
    for (let attempt = 0; attempt < 4 && !planned; attempt++) {
      const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Keysentry: looking up {0} in IAM…', keyId) }, () => this.run([...base, ...extra, '--plan']));
      if (r.code === 0) planned = JSON.parse(r.stdout);
      else if (r.code === 1) {
        const refusal = this.parseJson<{ refused: string; message: string; tracked?: Array<{ path: string }> }>(r.stdout);
        if (refusal?.refused === 'key-limit' && /--delete-inactive/.test(refusal.message) && !extra.includes('--delete-inactive')) {
          const del = vscode.l10n.t('Delete Inactive Key');
          const ok = await this.prompts.warn(vscode.l10n.t('Keysentry: the user already has two access keys.'), { modal: true, detail: refusal.message }, del);
          if (ok !== del) return { status: 'declined' };
          extra.push('--delete-inactive');
          continue;
        }
        if (refusal?.refused === 'tracked-file' && !extra.includes('--untrack') && !extra.includes('--to-profile')) {
          // Never the new secret into a file git tracks without the user's choice: offer both ways, with the plan.
          const untrack = vscode.l10n.t('Untrack and Rotate');
          const toProfile = vscode.l10n.t('Write to a Profile Instead…');
          const names = (refusal.tracked ?? []).map((t) => vscode.workspace.asRelativePath(t.path)).join(', ');
          const a = await this.prompts.warn(vscode.l10n.t('Keysentry: {0} is tracked by git. Writing the new key there would commit it again.', names || vscode.l10n.t('a file')), { modal: true, detail: refusal.message }, untrack, toProfile);
          if (a === untrack) extra.push('--untrack');
          else if (a === toProfile) {
            const name = await this.askProfileName(keyId);
            if (!name) return { status: 'declined' };
            extra.push('--to-profile', name);
          } else return { status: 'declined', refused: 'tracked-file', message: refusal.message };
          continue;
        }
        if (refusal?.refused === 'no-usable-file' && !extra.includes('--to-profile')) {
          // No listed file can take the new key: say why, and offer the other destinations.
          const choose = vscode.l10n.t('Choose Files…');
          const toProfile = vscode.l10n.t('Write to a Profile…');
          this.log.warn(`rotation of ${keyId} refused: ${refusal.message}`);
          const a = await this.prompts.error(vscode.l10n.t('Keysentry: no listed file can take the new key of {0}.', keyId), { modal: true, detail: refusal.message }, choose, toProfile);
          if (a === choose) {
            const uris = await this.prompts.openFiles({ canSelectMany: true, openLabel: vscode.l10n.t('Update These Files'), defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
            if (!uris?.length) return { status: 'declined', refused: refusal.refused, message: refusal.message };
            return this.rotateWith(keyId, profile, uris.map((u) => u.fsPath), extra);
          }
          if (a === toProfile) {
            const name = await this.askProfileName(keyId);
            if (!name) return { status: 'declined', refused: refusal.refused, message: refusal.message };
            extra.push('--to-profile', name);
            continue;
          }
          return { status: 'refused', refused: refusal.refused, message: refusal.message };
        }
        return this.refused(keyId, refusal, r);
      } else return this.failed(keyId, r);
    }
    if (!planned) return { status: 'declined' };
    const detail = [
      vscode.l10n.t('IAM user {0}, account {1}; signing as {2}.', planned.plan.userName, planned.plan.account, planned.signer),
      planned.exposed ? vscode.l10n.t('The key is in a committed file: it is deactivated the moment the new key works.') : vscode.l10n.t('The new key is in place before the old one stops.'),
      ...planned.plan.notes,
      '',
      ...planned.plan.steps.map((s, i) => `${i + 1}. ${s.describe}`),
    ].join('\n');
    const go = vscode.l10n.t('Rotate');
    if ((await this.prompts.warn(vscode.l10n.t('Rotate {0}?', keyId), { modal: true, detail }, go)) !== go) return { status: 'declined' };

    this.log.info(`rotating ${keyId} (${planned.plan.steps.length} steps, files: ${planned.files.join(', ') || 'none'})`);
    const r = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Keysentry: rotating {0}', keyId), cancellable: true },
      (progress, token) =>
        this.run(
          [...base, ...extra, '--yes', '--progress', ...(planned.exposed ? ['--exposed'] : ['--not-exposed'])],
          (line) => {
            const step = this.parseJson<{ step: string; phase: string; message: string }>(line);
            if (step?.phase === 'start') {
              progress.report({ message: step.message, increment: 100 / (planned.plan.steps.length + 1) });
              this.log.info(`rotation step: ${step.message}`);
            }
          },
          token,
        ),
    );
    const outcome = this.parseJson<RotationOutcome & { cancelled?: boolean }>(r.stdout);
    if (r.code === 0 && outcome) return this.succeeded(outcome);
    // A rotation whose new key no file took is rolled back by the CLI (exit 2, an outcome with nothingWritten).
    const nothing = outcome as (RotationOutcome & { nothingWritten?: boolean; reason?: string }) | undefined;
    if (r.code === 2 && nothing?.nothingWritten) {
      const message = nothing.reason ?? 'no file took the new key';
      this.log.error(`rotation of ${keyId} rolled back: ${message}`);
      const choose = vscode.l10n.t('Choose Files…');
      const toProfile = vscode.l10n.t('Write to a Profile…');
      void this.prompts
        .error(vscode.l10n.t('Keysentry: the rotation of {0} was rolled back: {1}. The old key still works.', keyId, reasonLine(message, 300)), {}, choose, toProfile, vscode.l10n.t('Show Log'))
        .then(async (a) => {
          if (a === choose) {
            const uris = await this.prompts.openFiles({ canSelectMany: true, openLabel: vscode.l10n.t('Update These Files'), defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
            if (uris?.length) await this.rotateWith(keyId, profile, uris.map((u) => u.fsPath), []);
          } else if (a === toProfile) {
            const name = await this.askProfileName(keyId);
            if (name) await this.rotateWith(keyId, profile, [], ['--to-profile', name]);
          } else await this.afterInterrupt(keyId, a);
        });
      return { status: 'rolled-back', message };
    }
    // Refused at the start of the run: another window or process took the key since the plan, or the files changed.
    if (r.code === 1) return this.refused(keyId, this.parseJson<{ refused: string; message: string }>(r.stdout), r);
    if (r.code === 130 && outcome) {
      this.log.warn(`rotation of ${keyId} cancelled and rolled back: ${outcome.notes.join('; ')}`);
      void this.prompts.warn(vscode.l10n.t('Keysentry: rotation cancelled and rolled back. {0}', outcome.notes.join(' ')), {});
      return { status: 'rolled-back' };
    }
    return this.failed(keyId, r);
  }

  /**
   * A refusal, shown to the user (never only logged): a lock held by another process, an unfinished
   * rotation of another key of the same user (with Resume / Roll Back), or no file able to take the
   * new key, each with the CLI's explanation.
   */
  private refused(keyId: string, refusal: { refused: string; message: string } | undefined, r: CliRun): RotateResult {
    const message = refusal?.message ?? redact(r.stderr.trim());
    const refusedCode = refusal?.refused;
    this.log.warn(`rotation of ${keyId} refused: ${message}`);
    if (refusedCode === 'locked') {
      void this.prompts.warn(vscode.l10n.t('Keysentry: {0} is being rotated by another Keysentry process (another window or a terminal).', keyId), { modal: true, detail: message });
      return { status: 'refused', refused: refusedCode, message };
    }
    const other = refusedCode === 'unfinished' ? /a rotation of (A[A-Z0-9]{19})/.exec(message)?.[1] : undefined;
    if (other) {
      const resume = vscode.l10n.t('Resume');
      const back = vscode.l10n.t('Roll Back');
      void this.prompts
        .warn(vscode.l10n.t('Keysentry: finish the interrupted rotation of {0} first.', other), { modal: true, detail: message }, resume, back)
        .then((a) => (a ? this.continueJournal(other, a === resume ? '--resume' : '--rollback') : undefined));
      return { status: 'refused', refused: refusedCode, message };
    }
    // A dialog where the user is looking: the reason as its detail, and the way out as its buttons.
    const chooseProfile = vscode.l10n.t('Choose the Signing Profile…');
    const showLog = vscode.l10n.t('Show Log');
    const ways = refusedCode === 'not-found' || refusedCode === 'other-account' || refusedCode === 'signer-is-leaked-key' || refusedCode === 'quarantined-signer' ? [chooseProfile, showLog] : [showLog];
    void this.prompts.error(vscode.l10n.t('Keysentry will not rotate {0}.', keyId), { modal: true, detail: message }, ...ways).then((a) => {
      if (a === chooseProfile) void vscode.commands.executeCommand('workbench.action.openSettings', 'keysentry.aws.profile');
      else if (a === showLog) this.log.channel.show();
    });
    return { status: 'refused', refused: refusedCode, message };
  }

  private parseJson<T>(text: string): T | undefined {
    try {
      return JSON.parse(text) as T;
    } catch {
      return undefined;
    }
  }

  private async succeeded(o: RotationOutcome): Promise<RotateResult> {
    this.log.info(`rotated ${o.keyId} → ${o.newKeyId} for ${o.userName}; updated ${o.filesUpdated.length} file(s)`);
    await this.rescanRewritten(o.keyId, o.filesUpdated);
    const show = vscode.l10n.t('Show Checklist');
    const where = o.destination?.toProfile
      ? vscode.l10n.t('The new key is in profile [{0}] of ~/.aws/credentials (your choice); the git-tracked file was left as it is.', o.destination.toProfile)
      : o.destination?.untracked?.length
        ? vscode.l10n.t('Untracked {0} from git and added to .gitignore (your choice): commit that change.', o.destination.untracked.map((f) => vscode.workspace.asRelativePath(f)).join(', '))
        : '';
    void this.prompts.info(`${vscode.l10n.t('Keysentry: rotated {0} → {1}. Updated {2} file(s).', o.keyId, o.newKeyId ?? '', o.filesUpdated.length)}${where ? ` ${where}` : ''}`, {}, show).then(async (a) => {
      if (a !== show) return;
      const lines = [`# Rotation of ${o.keyId}`, '', `New key: \`${o.newKeyId}\` (user ${o.userName})`, '', '## Updated', ...o.filesUpdated.map((f) => `- ${f}`), '', '## Still to do', ...o.checklist.map((c) => `- [ ] ${c}`), '', ...o.notes.map((n) => `> ${n}`)];
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: 'markdown', content: lines.join('\n') }));
    });
    return { status: 'done', newKeyId: o.newKeyId, ...(o.destination ? { destination: o.destination } : {}) };
  }

  /**
   * The rewritten files no longer hold the old key: its findings there go at once (no waiting for
   * the file watcher), and files not open are read again by the scanner (opening a document makes
   * the scan controller scan it off the extension host's thread; open ones reload from disk).
   */
  private async rescanRewritten(keyId: string, files: string[]): Promise<void> {
    for (const file of files) {
      const uri = vscode.Uri.file(file);
      const left = this.store.get(uri).filter((f) => keyIdOf(f) !== keyId);
      if (left.length !== this.store.get(uri).length) this.store.set(uri, left);
      if (!vscode.workspace.getWorkspaceFolder(uri)) continue;
      if (!vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString())) await vscode.workspace.openTextDocument(uri).then(undefined, () => undefined);
    }
  }

  private failed(keyId: string, r: CliRun): RotateResult {
    const message = redact(r.stderr.split('\n').filter((l) => l.startsWith('keysentry:') || /^(The rotation|Nothing| {2}\S|\S+ (is inactive|works again))/.test(l)).join('\n') || r.stderr.trim().slice(-800));
    this.log.error(`rotation of ${keyId} failed`, message);
    const interrupted = /--resume/.test(message);
    const resume = vscode.l10n.t('Resume');
    const back = vscode.l10n.t('Roll Back');
    const showLog = vscode.l10n.t('Show Log');
    const actions = interrupted ? [resume, back, showLog] : [showLog];
    // A notification shows no detail: the reason goes into the message itself.
    void this.prompts.error(vscode.l10n.t('Keysentry: the rotation of {0} stopped: {1}', keyId, reasonLine(message)), {}, ...actions).then((a) => this.afterInterrupt(keyId, a));
    return { status: 'failed', message };
  }

  private async afterInterrupt(keyId: string, action: string | undefined): Promise<void> {
    if (action === vscode.l10n.t('Show Log')) this.log.channel.show();
    else if (action === vscode.l10n.t('Resume') || action === vscode.l10n.t('Roll Back')) await this.continueJournal(keyId, action === vscode.l10n.t('Resume') ? '--resume' : '--rollback');
  }

  /** Resumes or rolls back a journaled rotation. */
  async continueJournal(keyId: string, mode: '--resume' | '--rollback'): Promise<RotateResult> {
    const r = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: mode === '--resume' ? vscode.l10n.t('Keysentry: resuming the rotation of {0}', keyId) : vscode.l10n.t('Keysentry: rolling back the rotation of {0}', keyId) },
      () => this.run(['rotate', keyId, mode, '--format', 'json']),
    );
    const outcome = this.parseJson<RotationOutcome>(r.stdout);
    if (r.code === 0 && outcome?.status === 'done') {
      // A rollback asked for after the old key was already deleted in IAM finishes the rotation instead: say so.
      if (mode === '--rollback') void this.prompts.warn(vscode.l10n.t('Keysentry: the rotation of {0} was finished instead of rolled back.', keyId), { modal: true, detail: outcome.notes[0] ?? '' });
      return this.succeeded(outcome);
    }
    if (r.code === 1) return this.refused(keyId, this.parseJson<{ refused: string; message: string }>(r.stdout), r);
    if (r.code === 0 && outcome) {
      this.log.info(`rolled back the rotation of ${keyId}: ${outcome.notes.join('; ')}`);
      void this.prompts.info(vscode.l10n.t('Keysentry: rolled back. {0}', outcome.notes.join(' ')), {});
      return { status: 'rolled-back' };
    }
    return this.failed(keyId, r);
  }

  /** A rotation interrupted by a crash or a reload: ask once at startup. */
  private async offerResume(): Promise<void> {
    if (!vscode.workspace.isTrusted) return;
    for (const j of unfinishedJournals()) {
      const last = j.steps.at(-1);
      const resume = vscode.l10n.t('Resume');
      const back = vscode.l10n.t('Roll Back');
      const a = await vscode.window.showWarningMessage(
        vscode.l10n.t('Keysentry: the rotation of {0} was interrupted{1}. Resume it, or roll it back so the old key works again?', j.keyId, last ? ` (${last.name}, ${last.state})` : ''),
        resume,
        back,
      );
      if (a) await this.continueJournal(j.keyId, a === resume ? '--resume' : '--rollback');
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

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
    // Save open editors of the files first: the rotation rewrites them on disk.
    const files = this.filesFor(keyId);
    for (const doc of vscode.workspace.textDocuments) if (doc.isDirty && files.includes(doc.uri.fsPath)) await doc.save();
    const base = ['rotate', keyId, '--format', 'json', ...this.awsArgs(profile), ...files.flatMap((f) => ['--update', f])];

    let extra: string[] = [];
    let planned: { plan: RotationPlan; exposed: boolean; files: string[]; signer: string } | undefined;
    for (let attempt = 0; attempt < 2 && !planned; attempt++) {
      const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Keysentry: looking up {0} in IAM…', keyId) }, () => this.run([...base, ...extra, '--plan']));
      if (r.code === 0) planned = JSON.parse(r.stdout);
      else if (r.code === 1) {
        const refusal = this.parseJson<{ refused: string; message: string }>(r.stdout);
        if (refusal?.refused === 'key-limit' && /--delete-inactive/.test(refusal.message) && attempt === 0) {
          const del = vscode.l10n.t('Delete Inactive Key');
          const ok = await vscode.window.showWarningMessage(vscode.l10n.t('Keysentry: the user already has two access keys.'), { modal: true, detail: refusal.message }, del);
          if (ok !== del) return { status: 'declined' };
          extra = ['--delete-inactive'];
          continue;
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
    if ((await vscode.window.showWarningMessage(vscode.l10n.t('Rotate {0}?', keyId), { modal: true, detail }, go)) !== go) return { status: 'declined' };

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
    // Refused at the start of the run: another window or process took the key since the plan, or the files changed.
    if (r.code === 1) return this.refused(keyId, this.parseJson<{ refused: string; message: string }>(r.stdout), r);
    if (r.code === 130 && outcome) {
      this.log.warn(`rotation of ${keyId} cancelled and rolled back: ${outcome.notes.join('; ')}`);
      void vscode.window.showWarningMessage(vscode.l10n.t('Keysentry: rotation cancelled and rolled back. {0}', outcome.notes.join(' ')));
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
    this.log.warn(`rotation of ${keyId} refused: ${message}`);
    if (refusal?.refused === 'locked') {
      void vscode.window.showWarningMessage(vscode.l10n.t('Keysentry: {0} is being rotated by another Keysentry process (another window or a terminal).', keyId), { modal: true, detail: message });
      return { status: 'refused', message };
    }
    const other = refusal?.refused === 'unfinished' ? /a rotation of (A[A-Z0-9]{19})/.exec(message)?.[1] : undefined;
    if (other) {
      const resume = vscode.l10n.t('Resume');
      const back = vscode.l10n.t('Roll Back');
      void vscode.window
        .showWarningMessage(vscode.l10n.t('Keysentry: finish the interrupted rotation of {0} first.', other), { modal: true, detail: message }, resume, back)
        .then((a) => (a ? this.continueJournal(other, a === resume ? '--resume' : '--rollback') : undefined));
      return { status: 'refused', message };
    }
    void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry will not rotate {0}.', keyId), { modal: true, detail: message });
    return { status: 'refused', message };
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
    const show = vscode.l10n.t('Show Checklist');
    void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: rotated {0} → {1}. Updated {2} file(s).', o.keyId, o.newKeyId ?? '', o.filesUpdated.length), show).then(async (a) => {
      if (a !== show) return;
      const lines = [`# Rotation of ${o.keyId}`, '', `New key: \`${o.newKeyId}\` (user ${o.userName})`, '', '## Updated', ...o.filesUpdated.map((f) => `- ${f}`), '', '## Still to do', ...o.checklist.map((c) => `- [ ] ${c}`), '', ...o.notes.map((n) => `> ${n}`)];
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: 'markdown', content: lines.join('\n') }));
    });
    return { status: 'done', newKeyId: o.newKeyId };
  }

  private failed(keyId: string, r: CliRun): RotateResult {
    const message = redact(r.stderr.split('\n').filter((l) => l.startsWith('keysentry:') || /^(The rotation|Nothing| {2}\S|\S+ (is inactive|works again))/.test(l)).join('\n') || r.stderr.trim().slice(-800));
    this.log.error(`rotation of ${keyId} failed`, message);
    const interrupted = /--resume/.test(message);
    const actions = interrupted ? [vscode.l10n.t('Resume'), vscode.l10n.t('Roll Back'), vscode.l10n.t('Show Log')] : [vscode.l10n.t('Show Log')];
    void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: the rotation of {0} stopped.', keyId), { detail: message, modal: false }, ...actions).then((a) => this.afterInterrupt(keyId, a));
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
      if (mode === '--rollback') void vscode.window.showWarningMessage(vscode.l10n.t('Keysentry: the rotation of {0} was finished instead of rolled back.', keyId), { modal: true, detail: outcome.notes[0] ?? '' });
      return this.succeeded(outcome);
    }
    if (r.code === 1) return this.refused(keyId, this.parseJson<{ refused: string; message: string }>(r.stdout), r);
    if (r.code === 0 && outcome) {
      this.log.info(`rolled back the rotation of ${keyId}: ${outcome.notes.join('; ')}`);
      void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: rolled back. {0}', outcome.notes.join(' ')));
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

import { readFileSync, statSync } from 'node:fs';
import { writePrivateFile } from '../core/privateFile';
import { userInfo } from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { actionTargets, describePlan, planAction, runPlan, type ActionKind, type ActionPlan } from '../core/incidents/actions';
import { IncidentBook } from '../core/incidents/book';
import { auditCovers, checkAccount, DEFAULT_CHECKS } from '../core/incidents/checks';
import { isUsableNotice, noticeIncident, noticeTooLarge, parseNoticeAsync } from '../core/incidents/notice';
import { sightingDraft, type KeySighting } from '../core/incidents/keyIncident';
import { describeLiveness, type KeyLiveness } from '../core/investigate/liveness';
import type { FindingsStore } from './findingsStore';
import type { LiveKeys } from './liveKeys';
import type { PushGuard } from './pushGuard';
import { keyIdOf } from './rotation';
import { incidentReport } from '../core/incidents/report';
import { INCIDENT_TYPES, STATUSES, type AccountSnapshot, type Incident, type IncidentStatus, type IncidentType, type ResourceRef } from '../core/incidents/types';
import { keysentryHome } from '../core/home';
import { redact } from '../core/mask';
import { isKeyIdShape } from '../core/detect/patterns';
import { containKeys, findStep, parseRunbooks, type Runbook } from '../core/incidents/runbooks';
import { HARDENING_INPUTS, invalidInput, isHardeningKind, planHardening, type HardeningInputs } from '../core/incidents/hardening';
import { Commands, Views } from './ids';
import type { Log } from './log';

/** How many plan lines the confirmation dialog shows before the whole plan opens beside it (850 px windows fit about this many). */
const PLAN_LINES_IN_DIALOG = 18;
const PLAN_SCHEME = 'keysentry-plan';

/** What the Account group shows for one profile. */
export interface AccountState {
  /** '' = the default credential chain. */
  profile: string;
  running: boolean;
  progress?: string;
  error?: string;
  snapshot?: Pick<AccountSnapshot, 'account' | 'caller' | 'takenAt' | 'regions' | 'errors'> & { instances: number; keyPairs: number };
}

/** Injected by tests; the editor asks with a modal dialog. */
export type Confirm = (plan: ActionPlan) => Promise<boolean>;

type AwsModule = typeof import('../aws/account');

async function askMfaCode(serial: string): Promise<string> {
  const code = await vscode.window.showInputBox({ title: vscode.l10n.t('Keysentry: AWS MFA code'), prompt: vscode.l10n.t('Code from the MFA device {0}', serial), password: true, ignoreFocusOut: true, validateInput: (v) => (/^\d{6}$/.test(v.trim()) ? undefined : vscode.l10n.t('Six digits')) });
  if (code === undefined) throw new Error('no MFA code was entered');
  return code.trim();
}

/**
 * Account incidents: audits through the AWS SDK (loaded on first use), notices, hand-opened
 * incidents, the checklist and timeline of each, and the containment actions of its runbook.
 * Everything is kept in $KEYSENTRY_HOME/incidents.json and survives reloads.
 */
export class AccountIncidents implements vscode.Disposable {
  readonly book: IncidentBook;
  private runbookData: Record<string, Runbook> | undefined;
  private readonly states = new Map<string, AccountState>();
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private aws: Promise<AwsModule> | undefined;
  private callers = new Map<string, string>();
  /** Replaced by tests to answer the confirmation dialog. */
  confirm: Confirm = (plan) => this.askConfirm(plan);
  private readonly plans = new Map<string, string>();
  private planCount = 0;
  /** Replaced by tests to type what a hardening action asks for (an e-mail address…); undefined cancels. */
  ask: (prompt: string, placeholder?: string, value?: string, validate?: (v: string) => string | undefined) => Promise<string | undefined> = (prompt, placeHolder, value, validate) =>
    Promise.resolve(vscode.window.showInputBox({ prompt, placeHolder, value, ignoreFocusOut: true, validateInput: (v) => validate?.(v) }));

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
    storeFile = path.join(keysentryHome(), 'incidents.json'),
  ) {
    this.book = new IncidentBook(storeFile);
    if (this.book.loadProblem) {
      log.error(`incidents: ${this.book.loadProblem}`);
      void vscode.window.showWarningMessage(vscode.l10n.t('Keysentry: the incidents file could not be read. {0}', this.book.loadProblem));
    }
    for (const p of this.profiles()) this.states.set(p, { profile: p, running: false });
    // Another window or the CLI may write the file: show what it wrote (every write of ours
    // re-reads it under the lock anyway, so nothing is lost either way).
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(storeFile)), path.basename(storeFile)));
    const reload = (): void => {
      this.book.reload();
      this.emitter.fire();
    };
    this.disposables.push(
      watcher,
      watcher.onDidChange(reload),
      watcher.onDidCreate(reload),
      watcher.onDidDelete(reload),
      this.emitter,
      vscode.commands.registerCommand(Commands.auditAccount, () => this.refreshAll(true)),
      vscode.commands.registerCommand(Commands.importNotice, (uri?: vscode.Uri) => this.importNotice(uri)),
      vscode.commands.registerCommand(Commands.newIncident, () => this.newIncident()),
      vscode.commands.registerCommand(Commands.exportIncidents, () => this.exportIncidents()),
      vscode.commands.registerCommand(Commands.importIncidents, () => this.importIncidents()),
      vscode.commands.registerCommand(Commands.exportReport, (arg?: unknown) => this.exportReport(incidentIdOf(arg))),
      vscode.commands.registerCommand(Commands.setIncidentStatus, (arg?: unknown, status?: IncidentStatus) => this.pickStatus(incidentIdOf(arg), status)),
      vscode.commands.registerCommand(Commands.deleteIncident, (arg?: unknown) => this.deleteIncident(incidentIdOf(arg))),
      vscode.commands.registerCommand(Commands.openKeyIncident, (keyId?: unknown) => (typeof keyId === 'string' && isKeyIdShape(keyId) ? this.openKeyIncident(keyId) : undefined)),
      // Long plans are shown as read-only documents (closing one asks nothing).
      vscode.workspace.registerTextDocumentContentProvider(PLAN_SCHEME, { provideTextDocumentContent: (uri) => this.plans.get(uri.path) ?? '' }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('keysentry.audit') || e.affectsConfiguration('keysentry.aws')) this.configure();
      }),
    );
    this.configure();
    if (this.config().get<boolean>('onStartup', false)) void this.refreshAll(false);
    // The startup audit of a workspace trusted later runs when trust is granted, not after a reload.
    this.disposables.push(vscode.workspace.onDidGrantWorkspaceTrust(() => (this.config().get<boolean>('onStartup', false) ? void this.refreshAll(false) : undefined)));
  }

  /** The runbook of each incident type, read on first use (not at activation). */
  get runbooks(): Record<string, Runbook> {
    this.runbookData ??= parseRunbooks(readFileSync(vscode.Uri.joinPath(this.context.extensionUri, 'media', 'runbooks', 'incidents.json').fsPath, 'utf8'));
    return this.runbookData;
  }

  private config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('keysentry.audit');
  }

  /** The profiles to audit: keysentry.audit.profiles, else keysentry.aws.profile, else the default chain. */
  profiles(): string[] {
    const list = this.config().get<string[]>('profiles', []).filter((p) => typeof p === 'string');
    if (list.length) return [...new Set(list)];
    return [vscode.workspace.getConfiguration('keysentry.aws').get<string>('profile', '')];
  }

  private configure(): void {
    const wanted = this.profiles();
    for (const p of [...this.states.keys()]) if (!wanted.includes(p)) this.states.delete(p);
    for (const p of wanted) if (!this.states.has(p)) this.states.set(p, { profile: p, running: false });
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const minutes = this.config().get<number>('refreshIntervalMinutes', 0);
    if (minutes > 0) this.timer = setInterval(() => void this.refreshAll(false), Math.max(1, minutes) * 60_000);
    this.emitter.fire();
  }

  get accounts(): AccountState[] {
    return [...this.states.values()];
  }

  /** Whether an audit incident belongs to a profile's account: its audited account, else (before this session's first audit) the profile it was found with. */
  private claims(state: AccountState, i: Incident): boolean {
    if (i.source !== 'audit') return false;
    return state.snapshot ? i.account === state.snapshot.account : (i.profile ?? '') === state.profile;
  }

  /**
   * Incidents of one profile's account; without a profile, everything else: notices, incidents
   * opened by hand, and audit incidents of profiles no longer audited (kept, never hidden).
   */
  incidentsFor(state?: AccountState): Incident[] {
    if (state) return this.book.incidents.filter((i) => this.claims(state, i));
    const states = this.accounts;
    return this.book.incidents.filter((i) => !states.some((st) => this.claims(st, i)));
  }

  get openCount(): number {
    return this.book.incidents.filter((i) => i.status === 'open').length; // contained needs no action now
  }

  private awsModule(): Promise<AwsModule> {
    // Profiles with mfa_serial ask for the code in an input box (once per credential lifetime).
    return (this.aws ??= import('../aws/account').then((m) => (m.setMfaCodeProvider(askMfaCode), m)));
  }

  private target(profile: string): { profile?: string; region?: string; endpoint?: string } {
    const aws = vscode.workspace.getConfiguration('keysentry.aws');
    return { profile: profile || undefined, region: aws.get<string>('region', '') || undefined, endpoint: aws.get<string>('endpointUrl', '') || undefined };
  }

  private actor(profile: string): string {
    const who = this.callers.get(profile);
    let user = 'someone';
    try {
      user = userInfo().username;
    } catch {
      // no passwd entry (a container): keep "someone"
    }
    // The AWS identity first: "root as arn:…" would read as the account's root user to AWS.
    return who ? `${who} (local user ${user}, via Keysentry)` : `local user ${user}`;
  }

  private trusted(interactive = true): boolean {
    if (vscode.workspace.isTrusted) return true;
    if (interactive) void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: AWS calls run only in trusted workspaces (workspace settings choose the profile and regions).'));
    return false;
  }

  /** Audits every configured profile; `interactive` = the user asked (an untrusted workspace then says why not). */
  async refreshAll(interactive = true): Promise<void> {
    if (!this.trusted(interactive)) return;
    await vscode.window.withProgress({ location: { viewId: Views.incidents }, title: vscode.l10n.t('Auditing AWS account') }, () => Promise.all(this.accounts.map((s) => this.refresh(s.profile))));
  }

  /** Audits one profile's account; a failure becomes an error node, never a pop-up. */
  async refresh(profile: string): Promise<AccountState> {
    const state = this.states.get(profile) ?? { profile, running: false };
    this.states.set(profile, state);
    if (state.running) return state;
    state.running = true;
    state.error = undefined;
    state.progress = vscode.l10n.t('starting…');
    this.emitter.fire();
    const label = profile || 'default credentials';
    try {
      const { snapshotAccount, resolveTarget } = await this.awsModule();
      const c = this.config();
      const t = resolveTarget(this.target(profile));
      const started = Date.now();
      const snap = await snapshotAccount(t, {
        regions: c.get<string[]>('regions', []),
        homeRegions: c.get<string[]>('homeRegions', []),
        onProgress: (done, total, what) => {
          state.progress = vscode.l10n.t('{0}/{1} · {2}', done, total, what);
          this.emitter.fire();
        },
        // issue 14: traffic (CloudWatch, free within the API's allowance) and the bill (Cost Explorer, USD 0.01 a call: off by default)
        trafficDays: c.get<boolean>('traffic', true) ? Math.max(1, Math.min(63, c.get<number>('trafficDays', 14))) : undefined,
        trafficThresholds: { factor: Math.max(1, c.get<number>('trafficRatio', 10)), minBytes: Math.max(0, c.get<number>('trafficMinimumGB', 1)) * 1e9 },
        costDays: c.get<boolean>('costs', false) ? Math.max(1, Math.min(365, c.get<number>('trafficDays', 14))) : undefined,
      });
      this.callers.set(profile, snap.caller);
      const drafts = checkAccount(snap, {
        maxKeyAgeDays: c.get<number>('maxKeyAgeDays', DEFAULT_CHECKS.maxKeyAgeDays),
        unusedKeyDays: c.get<number>('unusedKeyDays', DEFAULT_CHECKS.unusedKeyDays),
        recentLaunchDays: c.get<number>('recentLaunchDays', DEFAULT_CHECKS.recentLaunchDays),
        traffic: { factor: Math.max(1, c.get<number>('trafficRatio', 10)), minBytes: Math.max(0, c.get<number>('trafficMinimumGB', 1)) * 1e9, minCost: 1, timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone },
        now: new Date(),
      });
      const added = this.book.mergeAudit(drafts, {
        account: snap.account,
        profile: profile || undefined,
        actor: this.actor(profile),
        // Only what this audit could read is resolved when missing.
        covers: (i) => auditCovers(snap, i),
      });
      state.snapshot = { account: snap.account, caller: snap.caller, takenAt: snap.takenAt, regions: snap.regions, errors: snap.errors, instances: snap.instances.length, keyPairs: snap.keyPairs.length };
      this.log.info(`audit of ${label} (account ${snap.account}) in ${Date.now() - started} ms: ${snap.regions.length} region(s), ${drafts.length} incident(s), ${added.length} new`);
      for (const e of snap.errors) this.log.warn(`audit of ${label}: ${e}`);
    } catch (e) {
      state.error = redact((e as Error).message ?? String(e));
      this.log.error(`audit of ${label} failed`, e);
    } finally {
      state.running = false;
      state.progress = undefined;
      this.emitter.fire();
    }
    return state;
  }

  // ------------------------------------------------------------------------ notices & incidents

  /** Imports an abuse notice from a file, the clipboard or the active editor. */
  async importNotice(uri?: vscode.Uri): Promise<Incident | undefined> {
    let input: Buffer | string | undefined;
    let from = '';
    if (uri instanceof vscode.Uri) {
      input = await this.readNoticeFile(uri);
      from = path.basename(uri.fsPath);
    } else {
      const editor = vscode.window.activeTextEditor;
      const picks = [
        { label: vscode.l10n.t('$(file) From a file…'), detail: vscode.l10n.t('A saved email (.eml) or text file'), id: 'file' },
        { label: vscode.l10n.t('$(clippy) From the clipboard'), detail: vscode.l10n.t('Copy the whole email (with its headers if you can) first'), id: 'clipboard' },
        ...(editor ? [{ label: vscode.l10n.t('$(edit) From the active editor'), detail: editor.document.fileName, id: 'editor' }] : []),
      ];
      const pick = await vscode.window.showQuickPick(picks, { placeHolder: vscode.l10n.t('Import the AWS abuse notice from…') });
      if (!pick) return undefined;
      if (pick.id === 'file') {
        const [file] = (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { [vscode.l10n.t('Email or text')]: ['eml', 'txt', 'msg', 'html'], [vscode.l10n.t('All files')]: ['*'] }, openLabel: vscode.l10n.t('Import Notice') })) ?? [];
        if (!file) return undefined;
        input = await this.readNoticeFile(file);
        from = path.basename(file.fsPath);
      } else if (pick.id === 'clipboard') {
        input = await vscode.env.clipboard.readText();
        from = 'the clipboard';
      } else if (editor) {
        input = editor.selection.isEmpty ? editor.document.getText() : editor.document.getText(editor.selection);
        from = path.basename(editor.document.fileName);
      }
    }
    if (input === undefined) return undefined;
    // Clipboard and editor text are capped like files: the parser runs on the extension host.
    const big = noticeTooLarge(typeof input === 'string' ? Buffer.byteLength(input) : input.length, from);
    if (big) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: {0}', big));
      return undefined;
    }
    return this.openNotice(input, from);
  }

  private async readNoticeFile(uri: vscode.Uri): Promise<Buffer | undefined> {
    try {
      const st = statSync(uri.fsPath);
      if (!st.isFile()) {
        void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: {0} is not a regular file.', path.basename(uri.fsPath)));
        return undefined;
      }
      const big = noticeTooLarge(st.size, path.basename(uri.fsPath));
      if (big) {
        void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: {0}', big));
        return undefined;
      }
      return Buffer.from(await vscode.workspace.fs.readFile(uri));
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: cannot read {0}: {1}', uri.fsPath, (e as Error).message));
      return undefined;
    }
  }

  /** Parses a notice and opens (or finds) its incident; says what was and was not understood. */
  async openNotice(input: Buffer | string, from: string, opts: { quiet?: boolean } = {}): Promise<Incident | undefined> {
    const big = noticeTooLarge(typeof input === 'string' ? Buffer.byteLength(input) : input.length, from);
    if (big) {
      if (!opts.quiet) void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: {0}', big));
      return undefined;
    }
    const n = await parseNoticeAsync(input);
    if (!isUsableNotice(n)) {
      const msg = vscode.l10n.t('Keysentry: {0} does not look like an AWS abuse notice: no instance id, IP address, access key id or type of abuse was found.', from);
      if (opts.quiet) return undefined;
      const anyway = vscode.l10n.t('Create Incident Anyway');
      if ((await vscode.window.showWarningMessage(msg, anyway)) !== anyway) return undefined;
    }
    const draft = noticeIncident(n);
    // A notice about a key or an instance Keysentry already tracks adds to that incident.
    const { incident: inc, newEvidence } = this.book.upsert(draft, this.actor(''), `Notice imported from ${from}: ${n.understood.length} field(s) understood${n.missing.length ? `; not found: ${n.missing.join(', ')}` : ''}.`);
    const existing = !newEvidence;
    for (const w of n.warnings) if (!existing) this.book.record(inc.id, { actor: this.actor(''), kind: 'note', text: `Parser: ${w}` });
    this.emitter.fire();
    this.log.info(`notice from ${from} → incident ${inc.id} (${inc.type})`);
    if (!opts.quiet) {
      const open = vscode.l10n.t('Open Runbook');
      const summary = existing
        ? vscode.l10n.t('Keysentry: this notice was imported before ({0}).', inc.title)
        : vscode.l10n.t('Keysentry: opened "{0}". Understood: {1}.{2}', inc.title, n.understood.map(([k]) => k).join(', '), n.missing.length ? ' ' + vscode.l10n.t('Not found: {0}.', n.missing.join(', ')) : '');
      void vscode.window.showInformationMessage(summary, open).then((a) => a === open && vscode.commands.executeCommand(Commands.openIncident, inc.id));
    }
    return inc;
  }

  /** Opens an incident by hand: a billing spike, a key pair, anything no check detects. */
  async newIncident(): Promise<Incident | undefined> {
    const types = INCIDENT_TYPES.map((t) => ({ label: this.runbooks[t]?.title ?? t, description: t, type: t as IncidentType }));
    const pick = await vscode.window.showQuickPick(types, { placeHolder: vscode.l10n.t('What happened?') });
    if (!pick) return undefined;
    const raw = await vscode.window.showInputBox({
      prompt: vscode.l10n.t('Affected resources, separated by spaces: instance ids, security group ids, access key ids, key pair names (key-pair:NAME), user names (user:NAME), and a region'),
      placeHolder: 'i-0abc1234def567890 sg-0123456789abcdef0 ap-south-1',
      validateInput: (v) => (v.length > 2000 ? vscode.l10n.t('Too long') : undefined),
    });
    if (raw === undefined) return undefined;
    const tokens = raw.split(/[\s,]+/).filter(Boolean);
    const region = tokens.find((x) => /^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(x));
    const resources: ResourceRef[] = [];
    for (const tok of tokens) {
      if (tok === region) continue;
      if (/^i-[0-9a-f]{8,17}$/.test(tok)) resources.push({ kind: 'instance', id: tok, region });
      else if (/^sg-[0-9a-f]{8,17}$/.test(tok)) resources.push({ kind: 'security-group', id: tok, region });
      else if (isKeyIdShape(tok)) resources.push({ kind: 'access-key', id: tok });
      else if (tok.startsWith('key-pair:')) resources.push({ kind: 'key-pair', id: tok.slice(9), region });
      else if (tok.startsWith('user:')) resources.push({ kind: 'user', id: tok.slice(5) });
      else {
        void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: "{0}" is not an instance id, security group id, access key id, key-pair:NAME, user:NAME or region.', tok));
        return undefined;
      }
    }
    const rb = this.runbooks[pick.type];
    const id = `manual:${pick.type}:${Date.now().toString(36)}`;
    const inc = this.book.add(
      { id, type: pick.type, severity: 'high', title: `${rb?.title ?? pick.type}${resources.length ? `: ${resources.map((r) => r.id).join(', ')}` : ''}`, summary: rb?.summary ?? '', source: 'manual', resources, facts: region ? [['Region', region]] : [] },
      this.actor(''),
      'Opened by hand.',
    );
    this.emitter.fire();
    await vscode.commands.executeCommand(Commands.openIncident, inc.id);
    return inc;
  }

  async pickStatus(id: string | undefined, status?: IncidentStatus): Promise<void> {
    const inc = id ? this.book.get(id) : undefined;
    if (!inc) return;
    const next =
      status && STATUSES.includes(status)
        ? status
        : (await vscode.window.showQuickPick(
            STATUSES.filter((s) => s !== inc.status).map((s) => ({ label: s })),
            { placeHolder: vscode.l10n.t('Set the status of "{0}"', inc.title) },
          ))?.label;
    if (!next) return;
    this.setStatus(inc.id, next as IncidentStatus);
  }

  setStatus(id: string, status: IncidentStatus): void {
    this.book.setStatus(id, status, this.actor(this.book.get(id)?.profile ?? ''));
    this.emitter.fire();
  }

  setStep(id: string, key: string, done: boolean): void {
    const inc = this.book.get(id);
    if (!inc) return;
    const rb = this.runbooks[inc.type];
    const step = findStep(rb, key);
    if (!step) return;
    this.book.setStep(id, key, done, this.actor(inc.profile ?? ''), containKeys(rb), step.label);
    this.emitter.fire();
  }

  private async deleteIncident(id: string | undefined): Promise<void> {
    const inc = id ? this.book.get(id) : undefined;
    if (!inc) return;
    const del = vscode.l10n.t('Delete');
    const answer = await vscode.window.showWarningMessage(vscode.l10n.t('Delete the incident "{0}" with its checklist and timeline?', inc.title), { modal: true, detail: vscode.l10n.t('Export it first if you may need the record. An audit opens it again if the problem is still there.') }, del);
    if (answer !== del) return;
    this.book.remove(inc.id);
    this.emitter.fire();
  }

  private async exportIncidents(): Promise<void> {
    if (!this.book.incidents.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: there are no incidents to export.'));
      return;
    }
    // Exports hold account details and timelines: they default to Keysentry's own folder, outside
    // every repository, and are written 0600 (never with the workspace's default 0644).
    const uri = await vscode.window.showSaveDialog({ filters: { JSON: ['json'] }, defaultUri: vscode.Uri.file(path.join(keysentryHome(), 'exports', `keysentry-incidents-${new Date().toISOString().slice(0, 10)}.json`)) });
    if (!uri) return;
    try {
      writePrivate(uri.fsPath, this.book.export());
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: cannot write {0}: {1}', uri.fsPath, (e as Error).message));
      return;
    }
    void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: exported {0} incident(s) to {1}.', this.book.incidents.length, uri.fsPath));
  }

  private async importIncidents(): Promise<void> {
    const [uri] = (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { JSON: ['json'] }, openLabel: vscode.l10n.t('Import Incidents') })) ?? [];
    if (!uri) return;
    try {
      const res = this.book.import(Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8'), this.actor(''));
      this.emitter.fire();
      void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: imported {0} new incident(s), merged {1}.', res.added, res.merged));
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: {0}', (e as Error).message));
    }
  }

  report(id: string): string | undefined {
    const inc = this.book.get(id);
    return inc && incidentReport(inc, this.runbooks[inc.type], this.actor(inc.profile ?? ''));
  }

  /**
   * Writes the Markdown report (0600) under Keysentry's folder, outside every repository, and
   * opens it, to paste into the reply to AWS. Saving it again writes there, never into the workspace.
   */
  async exportReport(id: string | undefined): Promise<vscode.TextDocument | undefined> {
    const text = id ? this.report(id) : undefined;
    if (!text || !id) return undefined;
    const file = path.join(keysentryHome(), 'reports', `${id.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120)}-${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
    try {
      writePrivate(file, text);
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: cannot write {0}: {1}', file, (e as Error).message));
      return undefined;
    }
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    await vscode.window.showTextDocument(doc, { preview: false });
    return doc;
  }

  // ------------------------------------------------------------------- one incident per key

  private sources: { store: FindingsStore; push: PushGuard; live: LiveKeys } | undefined;

  /** Gives the incidents what the workspace scan, the gate and the liveness checks found (extension.ts wires it). */
  connect(store: FindingsStore, push: PushGuard, live: LiveKeys): void {
    this.sources = { store, push, live };
    this.disposables.push(live.onDidChange(() => this.emitter.fire()));
  }

  /** What the liveness check said about a key, while fresh (for the Incidents view's "live" mark). */
  liveness(keyId: string): KeyLiveness | undefined {
    return this.sources?.live.get(keyId);
  }

  /** Every place the workspace scan and the gate see `keyId` now. */
  private sightings(keyId: string): KeySighting[] {
    const out: KeySighting[] = [];
    if (!this.sources) return out;
    for (const e of this.sources.store.entries()) {
      const folder = vscode.workspace.getWorkspaceFolder(e.uri);
      const rel = folder ? path.relative(folder.uri.fsPath, e.uri.fsPath).split(path.sep).join('/') : path.basename(e.uri.fsPath);
      for (const f of e.findings) if (keyIdOf(f) === keyId) out.push({ keyId, source: 'workspace', file: rel, line: f.line, ...(f.accountId ? { accountId: f.accountId } : {}) });
    }
    for (const r of this.sources.push.repositories)
      for (const f of r.outgoing?.findings ?? [])
        if (keyIdOf(f) === keyId) out.push({ keyId, source: 'push', file: f.file, line: f.line, commit: f.commit, subject: redact(f.subject).slice(0, 200), ref: f.ref, pushed: false, ...(f.accountId ? { accountId: f.accountId } : {}) });
    // One piece of evidence per file (a key id and its secret on two lines are one sighting).
    const seen = new Set<string>();
    return out.filter((s) => {
      const k = `${s.source}\u0000${s.commit ?? ''}\u0000${s.file}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }

  /**
   * The incident of one access key, with every sighting of it as evidence (files and lines,
   * outgoing commits) and what the liveness check said; evidence of files that no longer hold it
   * is marked "no longer found". Audits and notices about the key add to the same incident.
   * Returns its id (opens the runbook unless `open` is false).
   */
  async openKeyIncident(keyId: string, open = true): Promise<string | undefined> {
    const live = this.sources?.live.get(keyId);
    const owner = live ? { status: live.status, user: live.user, accountId: live.accountId, sentence: describeLiveness(live) } : undefined;
    const found = this.sightings(keyId);
    let id: string | undefined = this.book.get(`key:${keyId}`)?.id;
    for (const s of found) id = this.book.upsert(sightingDraft(s, owner), this.actor(''), `Found ${s.source === 'workspace' ? 'in the workspace' : 'in an outgoing commit'}: ${s.file} line ${s.line}.`).incident.id;
    const inc = id ? this.book.get(id) : undefined;
    if (inc) {
      const current = new Set(found.map((s) => sightingDraft(s).evidenceId));
      this.book.markGone((inc.evidence ?? []).filter((e) => (e.source === 'workspace' || e.source === 'push') && e.current && !current.has(e.id)).map((e) => e.id), this.actor(''));
    }
    if (!inc) {
      // Not seen anywhere right now: a key typed by hand. Open it with the liveness facts alone.
      id = this.book.upsert({ ...sightingDraft({ keyId, source: 'workspace', file: '(not found in the workspace)', line: 0 }, owner), evidenceId: `manual:${keyId}`, source: 'manual', label: 'opened by hand' }, this.actor(''), 'Opened by hand.').incident.id;
    }
    this.emitter.fire();
    if (open && id) await vscode.commands.executeCommand(Commands.openIncident, id);
    return id;
  }

  // ------------------------------------------------------------------------------- actions

  private async askConfirm(plan: ActionPlan): Promise<boolean> {
    const run = plan.calls.length === 1 ? vscode.l10n.t('Run 1 call') : vscode.l10n.t('Run {0} calls', plan.calls.length);
    const lines = describePlan(plan).split('\n').slice(2);
    // A modal taller than the window hides its buttons: a long plan is shown whole beside the
    // dialog (a read-only document), and the dialog keeps its first lines and says so.
    let detail = lines.join('\n');
    if (lines.length > PLAN_LINES_IN_DIALOG) {
      const key = `/plan-${++this.planCount}.md`;
      if (this.plans.size > 20) this.plans.clear();
      this.plans.set(key, `# ${plan.title}\n\n${lines.join('\n')}\n`);
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: PLAN_SCHEME, path: key }));
      await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
      detail = [...lines.slice(0, PLAN_LINES_IN_DIALOG), vscode.l10n.t('… and {0} more line(s): the whole plan is open beside this dialog.', lines.length - PLAN_LINES_IN_DIALOG)].join('\n');
    }
    const answer = await vscode.window.showWarningMessage(plan.title, { modal: true, detail }, run);
    return answer === run;
  }

  /**
   * The button of a runbook step: plans the action for one resource, shows the plan, runs it
   * after confirmation, and records calls, results and errors in the timeline.
   */
  async runAction(id: string, stepKey: string, kind: ActionKind, resourceId: string): Promise<'done' | 'failed' | 'declined' | 'refused'> {
    const inc = this.book.get(id);
    if (!inc || !this.trusted()) return 'refused';
    const target = actionTargets(inc, kind).find((t) => t.resource.id === resourceId);
    if (!target) return 'refused';
    if (kind === 'rotate-key') {
      await vscode.commands.executeCommand(Commands.rotateKey, resourceId);
      return 'done';
    }
    const profile = inc.profile ?? this.profiles()[0] ?? '';
    const { AwsContainment, explainCall, resolveTarget } = await this.awsModule();
    const ops = new AwsContainment(resolveTarget(this.target(profile)));
    // audit hardening (issue 14): what the action needs typed first (an e-mail address…), then its own planner
    const inputs: HardeningInputs = {};
    for (const f of isHardeningKind(kind) ? (HARDENING_INPUTS[kind] ?? []) : []) {
      const v = await this.ask(vscode.l10n.t(f.prompt), f.placeholder, f.value, (x) => invalidInput(f.key, x) && vscode.l10n.t('Expected {0}', invalidInput(f.key, x) as string));
      if (v === undefined) return 'declined';
      inputs[f.key] = v;
    }
    const hardening = isHardeningKind(kind) ? new (await import('../aws/account')).AwsHardening(resolveTarget(this.target(profile))) : undefined;
    let plan: ActionPlan;
    try {
      plan = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Keysentry: planning "{0}"…', target.label) }, () =>
        hardening ? planHardening(target, inc, hardening, inputs) : planAction(target, inc, ops),
      );
      if (!this.callers.has(profile)) this.callers.set(profile, (await ops.caller()).arn);
    } catch (e) {
      const message = explainCall(kind, e);
      this.book.record(id, { actor: this.actor(profile), kind: 'note', text: `${target.label}: not run: ${message}` });
      this.emitter.fire();
      this.log.warn(`${target.label}: ${message}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: {0}: {1}', target.label, message));
      return 'refused';
    }
    if (!(await this.confirm(plan))) return 'declined';
    const rb = this.runbooks[inc.type];
    const step = findStep(rb, stepKey);
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: plan.title }, (progress) =>
      runPlan(plan, (api, e) => explainCall(api, e, this.callers.get(profile)), (c, i) => progress.report({ message: `${i + 1}/${plan.calls.length} ${c.api}` })),
    );
    this.book.recordAction(id, plan.title, result, this.actor(profile), step ? { ...step, containKeys: containKeys(rb) } : undefined);
    this.emitter.fire();
    for (const c of result.calls) this.log.info(`${plan.title}: ${c.api} ${c.target}${c.region ? ` (${c.region})` : ''} ${c.ok ? 'ok' : `failed: ${c.error}`}`);
    if (result.ok) void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: {0}: done ({1} call(s)). Recorded in the timeline.', plan.title, result.calls.length));
    else void vscode.window.showErrorMessage(vscode.l10n.t('Keysentry: {0}', result.error ?? plan.title));
    return result.ok ? 'done' : 'failed';
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

/** Writes a file only its owner can read (0600), creating Keysentry's folders 0700, never through a symlink (core/privateFile). */
const writePrivate = (file: string, text: string): void => writePrivateFile(file, text);

/** Commands get an incident id, or a tree node that carries one. */
export function incidentIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const o = arg as { incident?: { id?: unknown } } | undefined;
  return typeof o?.incident?.id === 'string' ? o.incident.id : undefined;
}

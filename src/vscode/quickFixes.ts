import * as vscode from 'vscode';
import { BASELINE_FILE } from '../core/detect/baseline';
import { addToBaselineFile } from '../core/detect/scanFiles';
import { KeysentryError } from '../core/types';
import { KIND_TITLES } from '../core/detect/report';
import type { Finding } from '../core/types';
import type { FindingsStore } from './findingsStore';
import { toRange } from './findingsStore';
import { Commands, DIAGNOSTIC_SOURCE } from './ids';
import type { LiveKeys } from './liveKeys';
import type { Log } from './log';
import { keyIdOf } from './rotation';

const HASH_COMMENT = new Set(['dotenv', 'properties', 'shellscript', 'python', 'yaml', 'toml', 'ini', 'ruby', 'perl', 'r', 'dockerfile', 'makefile', 'powershell', 'plaintext', 'terraform', 'hcl']);
const SLASH_COMMENT = new Set(['javascript', 'typescript', 'javascriptreact', 'typescriptreact', 'java', 'go', 'c', 'cpp', 'csharp', 'rust', 'kotlin', 'swift', 'scala', 'php', 'dart', 'jsonc', 'groovy']);

/** The comment that carries `keysentry:ignore` on this document's language, or undefined where comments are not possible. */
export function ignoreComment(doc: vscode.TextDocument): string | undefined {
  if (HASH_COMMENT.has(doc.languageId) || /(^|\/)\.env/.test(doc.uri.path)) return '# keysentry:ignore';
  if (SLASH_COMMENT.has(doc.languageId)) return '// keysentry:ignore';
  if (['sql', 'lua', 'haskell'].includes(doc.languageId)) return '-- keysentry:ignore';
  return undefined;
}

/** Hover, quick fixes and the commands behind them, for Keysentry's diagnostics. */
export class QuickFixes implements vscode.CodeActionProvider, vscode.HoverProvider, vscode.Disposable {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly store: FindingsStore,
    private readonly log: Log,
    private readonly onBaselineWritten: () => void,
    private readonly live?: LiveKeys,
  ) {
    this.disposables.push(
      vscode.languages.registerCodeActionsProvider({ scheme: 'file' }, this, { providedCodeActionKinds: QuickFixes.kinds }),
      vscode.languages.registerHoverProvider({ scheme: 'file' }, this),
      vscode.commands.registerCommand(Commands.ignoreLine, (uri?: vscode.Uri, line?: number) => this.ignoreLine(uri, line)),
      vscode.commands.registerCommand(Commands.addToBaseline, (uri?: vscode.Uri, line?: number) => this.addToBaseline(uri, line)),
    );
  }

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== DIAGNOSTIC_SOURCE) continue;
      const finding = this.store.at(doc.uri, diagnostic.range.start);
      if (!finding) continue;
      const line = diagnostic.range.start.line;
      const keyId = keyIdOf(finding);
      if (keyId && keyId.startsWith('AKIA')) {
        const rotate = new vscode.CodeAction(vscode.l10n.t('Rotate this key ({0}) through IAM…', keyId), vscode.CodeActionKind.QuickFix);
        rotate.command = { command: Commands.rotateKey, title: rotate.title, arguments: [keyId] };
        rotate.diagnostics = [diagnostic];
        // Never preferred: Auto Fix (and "fix all") applies preferred fixes unasked, and a rotation is an AWS operation.
        rotate.isPreferred = false;
        actions.push(rotate);
      }
      if (keyId && !this.live?.get(keyId)) {
        const check = new vscode.CodeAction(vscode.l10n.t('Check whether {0} is live (asks AWS with your own identity)', keyId), vscode.CodeActionKind.QuickFix);
        check.command = { command: Commands.checkKey, title: check.title, arguments: [keyId] };
        check.diagnostics = [diagnostic];
        actions.push(check);
      }
      const runbook = new vscode.CodeAction(vscode.l10n.t('Open the runbook for a leaked {0}', KIND_TITLES[finding.kind].toLowerCase()), vscode.CodeActionKind.QuickFix);
      // An AWS key's runbook is its incident (facts filled in, buttons acting on that key).
      runbook.command = keyId ? { command: Commands.openKeyIncident, title: runbook.title, arguments: [keyId] } : { command: Commands.openRunbook, title: runbook.title, arguments: [finding.kind] };
      runbook.diagnostics = [diagnostic];
      actions.push(runbook);
      if (ignoreComment(doc)) {
        const ignore = new vscode.CodeAction(vscode.l10n.t('Ignore this line (keysentry:ignore)'), vscode.CodeActionKind.QuickFix);
        ignore.command = { command: Commands.ignoreLine, title: ignore.title, arguments: [doc.uri, line] };
        ignore.diagnostics = [diagnostic];
        actions.push(ignore);
      }
      const baseline = new vscode.CodeAction(vscode.l10n.t('Add to the baseline ({0})', BASELINE_FILE), vscode.CodeActionKind.QuickFix);
      baseline.command = { command: Commands.addToBaseline, title: baseline.title, arguments: [doc.uri, line] };
      baseline.diagnostics = [diagnostic];
      actions.push(baseline);
    }
    return actions;
  }

  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const f = this.store.at(doc.uri, position);
    if (!f) return undefined;
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: [Commands.ignoreLine, Commands.addToBaseline, Commands.openRunbook, Commands.openKeyIncident, Commands.rotateKey, Commands.checkKey] };
    md.appendMarkdown(`**Keysentry: ${KIND_TITLES[f.kind]}**\n\n`);
    md.appendMarkdown(`- ${vscode.l10n.t('Value')}: \`${f.preview}\`\n`);
    if (f.accountId) md.appendMarkdown(`- ${vscode.l10n.t('AWS account (decoded offline)')}: \`${f.accountId}\`\n`);
    if (f.pairedKeyId) md.appendMarkdown(`- ${vscode.l10n.t('Pairs with key id')}: \`${f.pairedKeyId}\`\n`);
    const keyId = keyIdOf(f);
    const liveText = keyId ? this.live?.describe(keyId) : undefined;
    // AWS user names are account data: shown as code, with backticks and newlines taken out.
    if (liveText) md.appendMarkdown(`- ${vscode.l10n.t('In AWS')}: \`${liveText.replace(/[`\r\n]/g, ' ')}\`\n`);
    md.appendMarkdown(`- ${vscode.l10n.t('Rule')}: \`${f.rule}\`\n\n`);
    const arg = (args: unknown[]): string => encodeURIComponent(JSON.stringify(args));
    const links = [keyId ? `[${vscode.l10n.t('Open its incident')}](command:${Commands.openKeyIncident}?${arg([keyId])})` : `[${vscode.l10n.t('Open runbook')}](command:${Commands.openRunbook}?${arg([f.kind])})`];
    if (keyId && !liveText && vscode.workspace.isTrusted) links.unshift(`[${vscode.l10n.t('Is it live?')}](command:${Commands.checkKey}?${arg([keyId])})`);
    if (keyId?.startsWith('AKIA')) links.unshift(`[${vscode.l10n.t('Rotate this key')}](command:${Commands.rotateKey}?${arg([keyId])})`);
    if (ignoreComment(doc)) links.push(`[${vscode.l10n.t('Ignore this line')}](command:${Commands.ignoreLine}?${arg([doc.uri, f.line - 1])})`);
    links.push(`[${vscode.l10n.t('Add to baseline')}](command:${Commands.addToBaseline}?${arg([doc.uri, f.line - 1])})`);
    md.appendMarkdown(links.join(' · '));
    return new vscode.Hover(md, toRange(f));
  }

  private target(uri?: vscode.Uri, line?: number): { uri: vscode.Uri; line: number; findings: Finding[] } | undefined {
    const editor = vscode.window.activeTextEditor;
    const u = uri ? vscode.Uri.from(uri) : editor?.document.uri;
    const l = line ?? editor?.selection.active.line;
    if (!u || l === undefined) return undefined;
    const findings = this.store.get(u).filter((f) => f.line - 1 <= l && l <= f.endLine - 1);
    return findings.length ? { uri: u, line: l, findings } : undefined;
  }

  async ignoreLine(uri?: vscode.Uri, line?: number): Promise<void> {
    const t = this.target(uri, line);
    if (!t) return void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: no finding on this line.'));
    const doc = await vscode.workspace.openTextDocument(t.uri);
    const comment = ignoreComment(doc);
    if (!comment) return void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: this file type has no comments; add the finding to the baseline instead.'));
    const edit = new vscode.WorkspaceEdit();
    const end = doc.lineAt(t.findings[0]!.line - 1).range.end;
    edit.insert(t.uri, end, ` ${comment}`);
    await vscode.workspace.applyEdit(edit);
  }

  async addToBaseline(uri?: vscode.Uri, line?: number): Promise<void> {
    const t = this.target(uri, line);
    if (!t) return void vscode.window.showInformationMessage(vscode.l10n.t('Keysentry: no finding on this line.'));
    const folder = vscode.workspace.getWorkspaceFolder(t.uri);
    if (!folder) return;
    try {
      addToBaselineFile(folder.uri.fsPath, t.findings);
    } catch (e) {
      this.log.error('cannot update the baseline', e);
      return void vscode.window.showErrorMessage(
        e instanceof KeysentryError ? vscode.l10n.t('Keysentry: {0} is invalid; fix it before adding to it.', BASELINE_FILE) : vscode.l10n.t('Keysentry: could not write {0}.', BASELINE_FILE),
      );
    }
    this.onBaselineWritten();
    this.log.info(`added ${t.findings.length} finding(s) to ${BASELINE_FILE}`);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

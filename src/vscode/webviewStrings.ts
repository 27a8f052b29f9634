import * as vscode from 'vscode';

/**
 * The webview page's own strings (media/webview/runbook.ts calls them through `t(...)`), translated
 * here with vscode.l10n so they are in the l10n bundle, and sent with each message to the page.
 * Keys are the English strings; a unit test keeps this list and the page's `t('…')` calls equal.
 */
export function webviewStrings(): Record<string, string> {
  return {
    '{0} of {1} steps done': vscode.l10n.t('{0} of {1} steps done'),
    Status: vscode.l10n.t('Status'),
    'Export Report': vscode.l10n.t('Export Report'),
    Details: vscode.l10n.t('Details'),
    Resources: vscode.l10n.t('Resources'),
    'Why: {0}': vscode.l10n.t('Why: {0}'),
    'Console: {0}': vscode.l10n.t('Console: {0}'),
    Copy: vscode.l10n.t('Copy'),
    'Copy the command of "{0}"': vscode.l10n.t('Copy the command of "{0}"'),
    '{0}: running…': vscode.l10n.t('{0}: running…'),
    'Shows the exact AWS calls first; runs only after you confirm': vscode.l10n.t('Shows the exact AWS calls first; runs only after you confirm'),
    'Done {0}': vscode.l10n.t('Done {0}'),
    Timeline: vscode.l10n.t('Timeline'),
    // Incident statuses, shown in the status picker.
    open: vscode.l10n.t('open'),
    contained: vscode.l10n.t('contained'),
    resolved: vscode.l10n.t('resolved'),
  };
}

import * as vscode from 'vscode';
import { AccountIncidents } from './vscode/accountIncidents';
import { FindingsStore } from './vscode/findingsStore';
import { DiagnosticsView } from './vscode/diagnostics';
import { Commands } from './vscode/ids';
import { IncidentPanels } from './vscode/incidentPanel';
import { IncidentsView } from './vscode/incidentsView';
import { getGitApi } from './vscode/gitApi';
import { LiveKeys } from './vscode/liveKeys';
import { Log } from './vscode/log';
import { PushGuard } from './vscode/pushGuard';
import { QuickFixes } from './vscode/quickFixes';
import { RotationController } from './vscode/rotation';
import { RunbookPanels } from './vscode/runbookPanel';
import { ScanController } from './vscode/scanController';
import { StatusBar } from './vscode/statusBar';

/** What tests and other extensions can reach. */
export interface KeysentryApi {
  store: FindingsStore;
  scanner: ScanController;
  runbooks: RunbookPanels;
  push: PushGuard;
  rotation: RotationController;
  liveKeys: LiveKeys;
  incidents: AccountIncidents;
  incidentPanels: IncidentPanels;
  incidentsView: IncidentsView;
  activationMs: number;
}

/** Wires the pieces together; no logic lives here. */
export function activate(context: vscode.ExtensionContext): KeysentryApi {
  const started = performance.now();
  const log = new Log();
  const store = new FindingsStore();
  const cliPath = vscode.Uri.joinPath(context.extensionUri, 'dist', 'cli.js').fsPath;
  const scanner = new ScanController(store, log, cliPath, undefined, context.workspaceState);
  const runbooks = new RunbookPanels(context, log);
  const git = getGitApi();
  const push = new PushGuard(context, log, cliPath, git, () => scanner.reloadFolderSettings());
  const rotation = new RotationController(store, log, cliPath);
  const liveKeys = new LiveKeys(store, log, cliPath);
  const incidents = new AccountIncidents(context, log);
  incidents.connect(store, push, liveKeys);
  const incidentPanels = new IncidentPanels(context, incidents, log);
  const incidentsView = new IncidentsView(store, push, git, incidents);
  context.subscriptions.push(
    log,
    store,
    liveKeys,
    new DiagnosticsView(store, liveKeys),
    push,
    rotation,
    new StatusBar(store, push),
    incidents,
    incidentPanels,
    incidentsView,
    new QuickFixes(store, log, () => scanner.reloadFolderSettings(), liveKeys),
    scanner,
    runbooks,
    vscode.commands.registerCommand(Commands.showLog, () => log.channel.show()),
  );
  if (vscode.workspace.getConfiguration('keysentry').get<boolean>('scan.onStartup', true)) void scanner.scanWorkspace({ notify: false });
  const activationMs = Math.round(performance.now() - started);
  log.info(`activated in ${activationMs} ms`);
  return { store, scanner, runbooks, push, rotation, liveKeys, incidents, incidentPanels, incidentsView, activationMs };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

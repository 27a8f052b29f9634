// What every integration suite file shares (they run in one extension host, see index.ts).
import * as vscode from 'vscode';

export const EXTENSION_ID = 'keysentry.keysentry';

/** Polls `fn` until it returns something truthy, or fails after `ms` naming `what`. */
export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Keysentry's diagnostics of one file. */
export const keysentry = (uri: vscode.Uri): vscode.Diagnostic[] => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Keysentry');

/** The first workspace folder (the suite always opens one). */
export function root(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the test workspace must be open');
  return folder.uri;
}

import path from 'node:path';
import * as vscode from 'vscode';
import type { Finding, ScanResult } from '../core/types';
import { runCliProcess } from './cliProcess';
import type { Log } from './log';

/**
 * Scans a workspace folder in a child process running the `keysentry` CLI, so the extension
 * host never blocks and secretlint's state never accumulates in it. Reports progress and can be
 * cancelled (the child is killed).
 */
export async function scanFolderInChild(
  cliPath: string,
  folder: vscode.Uri,
  options: { maxFileSize: number; allFiles: boolean },
  progress: (done: number, total: number) => void,
  token: vscode.CancellationToken,
  log: Log,
): Promise<ScanResult | undefined> {
  const args = ['scan', '--format', 'json', '--progress', '--max-file-size', String(options.maxFileSize)];
  if (options.allFiles) args.push('--all-files');
  let errText = '';
  const onStderrLine = (line: string): void => {
    if (!line.trim()) return;
    try {
      const p = (JSON.parse(line) as { progress?: { done: number; total: number } }).progress;
      if (p) return progress(p.done, p.total);
    } catch {
      // not a progress line
    }
    errText += line + '\n';
  };
  const r = await runCliProcess(cliPath, args, { cwd: folder.fsPath, onStderrLine, token });
  if (token.isCancellationRequested) return undefined;
  if (r.code !== 0 && r.code !== 1) throw new Error(`scan of ${path.basename(folder.fsPath)} failed (exit ${r.code}): ${errText.trim()}`);
  try {
    return JSON.parse(r.stdout) as ScanResult;
  } catch (e) {
    log.error('could not read the scan result', e);
    throw new Error('the scan process returned unreadable output');
  }
}

export function findingsByUri(folder: vscode.Uri, findings: Finding[]): Array<[vscode.Uri, Finding[]]> {
  const map = new Map<string, Finding[]>();
  for (const f of findings) map.set(f.file, [...(map.get(f.file) ?? []), f]);
  return [...map].map(([file, list]) => [vscode.Uri.joinPath(folder, ...file.split('/')), list]);
}

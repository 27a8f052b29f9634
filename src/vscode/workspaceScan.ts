import { spawn } from 'node:child_process';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Finding, ScanResult } from '../core/types';
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
  const args = [cliPath, 'scan', '--format', 'json', '--progress', '--max-file-size', String(options.maxFileSize)];
  if (options.allFiles) args.push('--all-files');
  return new Promise((resolve, reject) => {
    // In desktop VS Code the extension host is Electron: ELECTRON_RUN_AS_NODE makes it plain Node.
    const child = spawn(process.execPath, args, {
      cwd: folder.fsPath,
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let errText = '';
    let cancelled = false;
    const sub = token.onCancellationRequested(() => {
      cancelled = true;
      child.kill();
    });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (!line.trim()) continue;
        try {
          const p = (JSON.parse(line) as { progress?: { done: number; total: number } }).progress;
          if (p) {
            progress(p.done, p.total);
            continue;
          }
        } catch {
          // not a progress line
        }
        errText += line + '\n';
      }
    });
    child.on('error', (e) => {
      sub.dispose();
      reject(e);
    });
    child.on('close', (code) => {
      sub.dispose();
      if (cancelled) return resolve(undefined);
      if (code !== 0 && code !== 1) {
        return reject(new Error(`scan of ${path.basename(folder.fsPath)} failed (exit ${code}): ${errText.trim()}`));
      }
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as ScanResult);
      } catch (e) {
        log.error('could not read the scan result', e);
        reject(new Error('the scan process returned unreadable output'));
      }
    });
  });
}

export function findingsByUri(folder: vscode.Uri, findings: Finding[]): Array<[vscode.Uri, Finding[]]> {
  const map = new Map<string, Finding[]>();
  for (const f of findings) map.set(f.file, [...(map.get(f.file) ?? []), f]);
  return [...map].map(([file, list]) => [vscode.Uri.joinPath(folder, ...file.split('/')), list]);
}

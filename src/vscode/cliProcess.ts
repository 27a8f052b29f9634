import { spawn } from 'node:child_process';
import type * as vscode from 'vscode';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  cwd: string;
  /** Standard input (the pre-push ref lines); none when absent. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Each complete stderr line, as it arrives (progress). */
  onStderrLine?: (line: string) => void;
  /** Cancel sends SIGTERM: the CLI stops at its next safe point. */
  token?: vscode.CancellationToken;
}

/**
 * Runs Keysentry's CLI in a child process, as plain Node (the extension host is Electron in
 * desktop VS Code), and collects its output.
 */
export function runCliProcess(cliPath: string, args: string[], o: CliRunOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: o.cwd,
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', NO_COLOR: '1', ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!o.onStderrLine) return;
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) o.onStderrLine(l);
    });
    const sub = o.token?.onCancellationRequested(() => child.kill('SIGTERM'));
    child.on('error', (e) => {
      sub?.dispose();
      reject(e);
    });
    child.on('close', (code) => {
      sub?.dispose();
      if (partial) o.onStderrLine?.(partial);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the CLI may exit before reading it all; its exit code tells
    child.stdin.end(o.input ?? '');
  });
}

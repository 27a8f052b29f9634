import * as vscode from 'vscode';
import { redact } from '../core/mask';

/** One log channel for the extension. Every line passes through `redact` first. */
export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;

  constructor() {
    this.channel = vscode.window.createOutputChannel('Keysentry', { log: true });
  }

  info(message: string): void {
    this.channel.info(redact(message));
  }

  warn(message: string): void {
    this.channel.warn(redact(message));
  }

  error(message: string, error?: unknown): void {
    const detail = error instanceof Error ? `: ${error.message}` : error !== undefined ? `: ${String(error)}` : '';
    this.channel.error(redact(message + detail));
  }

  dispose(): void {
    this.channel.dispose();
  }
}

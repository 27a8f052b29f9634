// The editor's document scanner, run in a worker thread (dist/scanWorker.js): a slow or hostile
// document costs this thread, never the extension host's. One request at a time; the client
// (scanWorkerClient.ts) enforces the time budget by terminating this worker.
import { parentPort } from 'node:worker_threads';
import { redact } from '../mask';
import type { Finding, SkippedFile } from '../types';
import { scanText } from './engine';
import { scanBytes } from './scanFiles';

export interface ScanRequest {
  id: number;
  /** Path shown in findings. */
  file: string;
  /** An open document's text, or a file's bytes read from disk. */
  text?: string;
  bytes?: Uint8Array;
  baseline: string[];
}

export type ScanReply = { id: number; findings: Finding[]; incomplete?: string; skipped?: SkippedFile } | { id: number; error: string };

export async function handle(req: ScanRequest): Promise<ScanReply> {
  let incomplete: string | undefined;
  const opts = { baseline: new Set(req.baseline), onIncomplete: (why: string) => (incomplete = why) };
  try {
    if (req.text !== undefined) return { id: req.id, findings: await scanText(req.text, req.file, opts), incomplete };
    const result = await scanBytes(Buffer.from(req.bytes ?? new Uint8Array()), req.file, opts);
    return Array.isArray(result) ? { id: req.id, findings: result, incomplete } : { id: req.id, findings: [], skipped: result };
  } catch (e) {
    return { id: req.id, error: redact(e instanceof Error ? e.message : String(e)) };
  }
}

parentPort?.on('message', (req: ScanRequest) => {
  void handle(req).then((reply) => parentPort?.postMessage(reply));
});

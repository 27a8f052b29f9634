// The editor's document scanner, run in a worker thread (dist/scanWorker.js): a slow or hostile
// document costs this thread, never the extension host's. One request at a time; the client
// (scanWorkerClient.ts) enforces the time budget by terminating this worker.
import { parentPort, workerData } from 'node:worker_threads';
import { redact } from '../mask';
import type { Finding, SkippedFile } from '../types';
import { scanText } from './engine';
import { scanBytes, scanListedFile, type BatchMessage, type BatchWorkerData } from './scanFiles';

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

/**
 * Batch mode (`keysentry scan` with worker threads, scanFiles.ts scanInParallel): take the next
 * job from the shared counter until none is left, post each outcome, then `done`.
 */
async function runBatch(batch: BatchWorkerData['keysentryBatch']): Promise<void> {
  const next = new Int32Array(batch.counter);
  for (let i = Atomics.add(next, 0, 1); i < batch.jobs.length; i = Atomics.add(next, 0, 1)) {
    const job = batch.jobs[i] as BatchWorkerData['keysentryBatch']['jobs'][number];
    const abs = typeof job.abs === 'string' ? job.abs : Buffer.from(job.abs);
    const outcome = await scanListedFile(abs, job.rel, batch.maxSize, batch.exhaustive);
    parentPort?.postMessage({ i, outcome } satisfies BatchMessage);
  }
  parentPort?.postMessage({ done: true } satisfies BatchMessage);
}

const batch = (workerData as Partial<BatchWorkerData> | null)?.keysentryBatch;
if (batch) void runBatch(batch);
else {
  parentPort?.on('message', (req: ScanRequest) => {
    void handle(req).then((reply) => parentPort?.postMessage(reply));
  });
}

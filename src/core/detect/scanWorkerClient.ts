import { Worker } from 'node:worker_threads';
import type { Finding, SkippedFile } from '../types';
import type { ScanReply, ScanRequest } from './scanWorker';

/**
 * Runs scans in one worker thread so the caller's thread (the extension host) never does the
 * work. Per document, the latest request wins: a request queued for a document is replaced by a
 * newer one (its promise answers `superseded`), and the answer of a scan that was already running
 * when a newer request came is dropped. A scan that runs past the time budget is stopped by
 * terminating the worker (a regex cannot be interrupted any other way); the next scan starts a
 * fresh one, and the stopped document is answered `timedOut` so the caller can say so.
 */
export interface ScanOutcome {
  findings: Finding[];
  /** The text was scanned only in part (the match cap); findings are from the part that was. */
  incomplete?: string;
  skipped?: SkippedFile;
  /** Stopped after the time budget: the document was not (fully) scanned. */
  timedOut?: boolean;
  /** A newer request for the same document replaced this one: nothing to apply. */
  superseded?: boolean;
  error?: string;
}

interface Job {
  key: string;
  id: number;
  req: Omit<ScanRequest, 'id'>;
  superseded: boolean;
  resolve: (o: ScanOutcome) => void;
}

export interface ScanWorkerClientOptions {
  /** The worker script (dist/scanWorker.js). */
  script: string | URL;
  /** Time budget per scan, in ms. */
  budgetMs: number;
  execArgv?: string[];
  eval?: boolean;
  /** Told when a worker is stopped or dies. */
  onRestart?: (why: string) => void;
}

export class ScanWorkerClient {
  private worker: Worker | undefined;
  private running: { job: Job; timer: NodeJS.Timeout } | undefined;
  private readonly queue = new Map<string, Job>();
  private seq = 0;
  private disposed = false;
  /** Workers started so far (tests check the restart). */
  started = 0;

  constructor(private readonly opts: ScanWorkerClientOptions) {}

  scan(key: string, req: Omit<ScanRequest, 'id'>): Promise<ScanOutcome> {
    if (this.disposed) return Promise.resolve({ findings: [], error: 'scanner stopped' });
    const queued = this.queue.get(key);
    if (queued) {
      this.queue.delete(key);
      queued.resolve({ findings: [], superseded: true });
    }
    if (this.running?.job.key === key) this.running.job.superseded = true;
    return new Promise((resolve) => {
      this.queue.set(key, { key, id: ++this.seq, req, superseded: false, resolve });
      this.pump();
    });
  }

  /** Requests waiting (not running): at most one per document. */
  get pending(): number {
    return this.queue.size;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.opts.script, { execArgv: this.opts.execArgv, eval: this.opts.eval });
    this.started++;
    w.on('message', (reply: ScanReply) => this.onReply(w, reply));
    w.on('error', (e) => this.onDeath(w, `the scan worker failed: ${e.message}`));
    w.on('exit', (code) => this.onDeath(w, `the scan worker exited (${code})`));
    // The worker must not keep the process alive on its own (CLI, tests).
    w.unref();
    this.worker = w;
    return w;
  }

  private pump(): void {
    if (this.running || this.disposed) return;
    const next = this.queue.values().next();
    if (next.done) return;
    const job = next.value;
    this.queue.delete(job.key);
    const worker = this.ensureWorker();
    const timer = setTimeout(() => this.onTimeout(job), this.opts.budgetMs);
    this.running = { job, timer };
    const msg: ScanRequest = { id: job.id, ...job.req };
    worker.postMessage(msg);
  }

  private finish(job: Job, outcome: ScanOutcome): void {
    if (this.running?.job === job) {
      clearTimeout(this.running.timer);
      this.running = undefined;
    }
    job.resolve(job.superseded ? { findings: [], superseded: true } : outcome);
    this.pump();
  }

  private onReply(w: Worker, reply: ScanReply): void {
    if (w !== this.worker || !this.running || reply.id !== this.running.job.id) return;
    const job = this.running.job;
    if ('error' in reply) this.finish(job, { findings: [], error: reply.error });
    else this.finish(job, { findings: reply.findings, incomplete: reply.incomplete, skipped: reply.skipped });
  }

  private onTimeout(job: Job): void {
    if (this.running?.job !== job) return;
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate();
    this.opts.onRestart?.(`a scan ran past ${this.opts.budgetMs} ms and was stopped`);
    this.running = undefined;
    // A superseded job's document has a newer request queued: that one is the answer that counts.
    job.resolve(job.superseded ? { findings: [], superseded: true } : { findings: [], timedOut: true });
    this.pump();
  }

  private onDeath(w: Worker, why: string): void {
    if (w !== this.worker) return; // a worker we stopped on purpose
    this.worker = undefined;
    this.opts.onRestart?.(why);
    const job = this.running?.job;
    if (job) this.finish(job, { findings: [], error: why });
  }

  dispose(): void {
    this.disposed = true;
    if (this.running) clearTimeout(this.running.timer);
    for (const job of this.queue.values()) job.resolve({ findings: [], superseded: true });
    this.running?.job.resolve({ findings: [], superseded: true });
    this.queue.clear();
    this.running = undefined;
    void this.worker?.terminate();
    this.worker = undefined;
  }
}

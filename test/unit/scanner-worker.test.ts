// The editor's document scans run in a worker thread: the budget stops a scan that runs too long
// (and the next scan gets a fresh worker), the latest edit wins, and the real worker finds what
// the in-process scanner finds. Nothing here asserts a duration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { scanText } from '../../src/core/detect/engine';
import { ScanWorkerClient } from '../../src/core/detect/scanWorkerClient';
// @ts-expect-error plain ESM helper
import { fakeKeyId, fakeSecret } from '../fixtures/fake-keys.mjs';

// A stand-in worker: `hang` never answers (a scan that would run forever), `slow:N` answers after N ms, anything else at once.
const STUB = `
const { parentPort } = require('node:worker_threads');
let seen = 0;
parentPort.on('message', (req) => {
  seen++;
  if (req.text === 'hang') for (;;) {}
  const m = /^slow:(\\d+)/.exec(req.text);
  if (m) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(m[1]));
  parentPort.postMessage({ id: req.id, findings: [{ file: req.text, seen }] });
});`;

test('a scan past the budget is stopped, reported as timed out, and the next scan gets a fresh worker', async (t) => {
  const restarts: string[] = [];
  const client = new ScanWorkerClient({ script: STUB, eval: true, budgetMs: 300, onRestart: (why) => restarts.push(why) });
  t.after(() => client.dispose());
  const hung = await client.scan('a', { file: 'a', text: 'hang', baseline: [] });
  assert.deepEqual(hung, { findings: [], timedOut: true });
  assert.equal(restarts.length, 1);
  const next = await client.scan('b', { file: 'b', text: 'fine', baseline: [] });
  assert.equal(next.timedOut, undefined);
  assert.equal((next.findings[0] as unknown as { file: string }).file, 'fine');
  assert.equal(client.started, 2, 'a new worker after the stopped one');
});

test('latest edit wins: rapid requests for one document never queue stale scans', async (t) => {
  const client = new ScanWorkerClient({ script: STUB, eval: true, budgetMs: 10_000 });
  t.after(() => client.dispose());
  const answers = Array.from({ length: 20 }, (_, i) => client.scan('doc', { file: 'doc', text: `slow:100 edit ${i}`, baseline: [] }));
  assert.ok(client.pending <= 1, 'at most one waiting request per document');
  const other = client.scan('other', { file: 'other', text: 'other', baseline: [] });
  const outcomes = await Promise.all(answers);
  // Only the last edit is applied; every earlier one is superseded (the first was already running, its answer is dropped).
  assert.deepEqual(outcomes.slice(0, -1).map((o) => o.superseded), Array(19).fill(true));
  const last = outcomes.at(-1)!;
  assert.equal(last.superseded, undefined);
  assert.equal((last.findings[0] as unknown as { file: string }).file, 'slow:100 edit 19');
  // The worker saw the first edit (running when the others came), the other document and the last edit: 3, not 21.
  const seen = (last.findings[0] as unknown as { seen: number }).seen;
  assert.ok(seen <= 3, `the worker scanned ${seen} requests`);
  assert.equal((await other).superseded, undefined);
});

test('the real worker finds what the in-process scanner finds, for text and for bytes', async (t) => {
  const client = new ScanWorkerClient({
    // The worker from source: tsx's require hook, then the entry (the shipped one is dist/scanWorker.js).
    script: `require('tsx/cjs'); require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'src', 'core', 'detect', 'scanWorker.ts'))});`,
    eval: true,
    budgetMs: 60_000,
  });
  t.after(() => client.dispose());
  const text = `AWS_ACCESS_KEY_ID=${fakeKeyId()}\nAWS_SECRET_ACCESS_KEY=${fakeSecret()}\n`;
  const viaText = await client.scan('t', { file: '.env', text, baseline: [] });
  assert.deepEqual(viaText.findings, await scanText(text, '.env'));
  assert.equal(viaText.findings.length, 2);
  const viaBytes = await client.scan('b', { file: '.env', bytes: Buffer.from(text), baseline: [viaText.findings[0]!.fingerprint] });
  assert.deepEqual(viaBytes.findings, [viaText.findings[1]], 'the baseline applies in the worker');
  const binary = await client.scan('x', { file: 'x.bin', bytes: Buffer.from([0, 1, 2, 0x41, 0x4b, 0x49, 0x41]), baseline: [] });
  // Binary content is scanned as its printable strings (the gate's rule), never skipped.
  assert.equal(binary.skipped, undefined);
});

test('keysentry scan with worker threads finds exactly what one thread finds, in the same order (leaks, skips, binaries, odd names)', async (t) => {
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { scanPaths } = await import('../../src/core/detect/scanFiles');
  const dir = mkdtempSync(path.join(tmpdir(), 'keysentry-par-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const secrets: string[] = [];
  for (let i = 0; i < 150; i++) {
    const sub = path.join(dir, `d${i % 7}`);
    mkdirSync(sub, { recursive: true });
    const s = fakeSecret() as string;
    const body =
      i % 5 === 0
        ? `AWS_ACCESS_KEY_ID=${fakeKeyId()}\nAWS_SECRET_ACCESS_KEY=${s}\n`
        : i % 11 === 0
          ? Buffer.concat([Buffer.from([0x4d, 0x5a, 0]), Buffer.from(`\0aws_secret_access_key=${s}\r\n`, 'utf16le')])
          : `export const x${i} = ${i}; // nothing here\n`.repeat(1 + (i % 13));
    if (i % 5 === 0 || i % 11 === 0) secrets.push(s);
    writeFileSync(path.join(sub, i % 17 === 0 ? `we ird\n${i}.txt` : `f${i}.env`), body);
  }
  writeFileSync(path.join(dir, 'big.txt'), 'x'.repeat(5000));
  const source = { topLevel: () => undefined, committable: () => ({ files: [], unreadable: [] }) };
  const base = { paths: [dir], cwd: dir, allFiles: true, maxFileSize: 4000 };
  const one = await scanPaths(base, source);
  const script = `require('tsx/cjs'); require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'src', 'core', 'detect', 'scanWorker.ts'))});`;
  const progress: number[] = [];
  const two = await scanPaths({ ...base, parallel: { script, eval: true, threads: 3, minJobs: 1 }, onProgress: (done) => progress.push(done) }, source);
  assert.ok(one.findings.length >= 30, `${one.findings.length} findings`);
  assert.deepEqual(two.findings, one.findings);
  assert.deepEqual({ ...two.stats, ms: 0 }, { ...one.stats, ms: 0 });
  assert.equal(progress.length, one.stats.files + one.stats.skipped.length, 'one progress report per file');
  const out = JSON.stringify(two);
  for (const s of secrets) assert.ok(!out.includes(s), 'no raw secret');
});

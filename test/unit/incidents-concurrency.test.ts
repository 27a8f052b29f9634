// incidents.json written by several processes at once (two windows, the editor and the CLI),
// killed at random instants (SIGKILL): every acknowledged write survives (timeline entries,
// checklist ticks with their latest change, deletions), the file always parses and stays 0600.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { IncidentBook, parseIncidents } from '../../src/core/incidents/book';
import type { Incident } from '../../src/core/incidents/types';
import type { Op } from './workers/incidentsWorker';
import { tempDir } from './helpers';

const WORKER = path.join(__dirname, 'workers', 'incidentsWorker.ts');
const SHARED = ['shared-a', 'shared-b'];

/** Operations of worker `w`: step keys, notes and added incidents are its own, so each has one expected end state. */
const opsOf = (w: number): fc.Arbitrary<Op[]> =>
  fc
    .array(
      fc.oneof(
        fc.record({ t: fc.constant('step' as const), inc: fc.constantFrom(...SHARED), k: fc.integer({ min: 0, max: 3 }), done: fc.boolean() }).map(({ inc, k, done }): Op => ({ t: 'step', inc, key: `Investigate/w${w}-${k}`, done })),
        fc.record({ t: fc.constant('note' as const), inc: fc.constantFrom(...SHARED) }).map(({ inc }): Op => ({ t: 'note', inc, text: '' })),
        fc.constant<Op>({ t: 'add', id: '' }),
        fc.constant<Op>({ t: 'remove', id: '' }),
        fc.record({ inc: fc.constantFrom(...SHARED), status: fc.constantFrom('open' as const, 'contained' as const, 'resolved' as const) }).map((x): Op => ({ t: 'status', ...x })),
      ),
      { minLength: 10, maxLength: 30 },
    )
    .map((ops) => {
      // unique note texts and incident ids; a remove deletes this worker's latest addition
      const mine: string[] = [];
      return ops.map((op, n): Op => {
        if (op.t === 'note') return { ...op, text: `note w${w} #${n}` };
        if (op.t === 'add') {
          mine.push(`w${w}-inc-${n}`);
          return { t: 'add', id: `w${w}-inc-${n}` };
        }
        if (op.t === 'remove') return mine.length ? { t: 'remove', id: mine.pop() as string } : { t: 'note', inc: SHARED[0] as string, text: `note w${w} #${n}` };
        return op;
      });
    });

interface Run {
  ops: Op[];
  acked: number;
}

/** The states the file may show for worker w's own data: after its acknowledged ops, or one more (in flight when killed). */
function check(list: Incident[], runs: Run[]): void {
  const byId = new Map(list.map((i) => [i.id, i]));
  for (const [w, run] of runs.entries()) {
    const applied = (upto: number): { steps: Map<string, boolean>; notes: Set<string>; present: Set<string>; removed: Set<string> } => {
      const steps = new Map<string, boolean>();
      const notes = new Set<string>();
      const present = new Set<string>();
      const removed = new Set<string>();
      for (const op of run.ops.slice(0, upto)) {
        if (op.t === 'step') steps.set(`${op.inc}|${op.key}`, op.done);
        if (op.t === 'note') notes.add(`${op.inc}|${op.text}`);
        if (op.t === 'add') {
          present.add(op.id);
          removed.delete(op.id);
        }
        if (op.t === 'remove') {
          present.delete(op.id);
          removed.add(op.id);
        }
      }
      return { steps, notes, present, removed };
    };
    const a = applied(run.acked);
    const b = applied(Math.min(run.acked + 1, run.ops.length));
    for (const [k, done] of a.steps) {
      const [inc, key] = k.split('|') as [string, string];
      const got = byId.get(inc)?.steps[key]?.done ?? false;
      assert.ok(got === done || got === b.steps.get(k), `worker ${w}: tick ${key} on ${inc} is ${got}, acknowledged ${done}`);
    }
    for (const k of a.notes) {
      const [inc, text] = k.split('|') as [string, string];
      assert.ok(byId.get(inc)?.timeline.some((e) => e.text === text), `worker ${w}: acknowledged note "${text}" on ${inc} lost`);
    }
    for (const id of a.present) assert.ok(byId.has(id) || b.removed.has(id), `worker ${w}: acknowledged incident ${id} lost`);
    for (const id of a.removed) assert.ok(!byId.has(id) || b.present.has(id), `worker ${w}: deleted incident ${id} came back`);
  }
}

function fileIsSound(file: string): Incident[] {
  const list = parseIncidents(readFileSync(file, 'utf8'), file);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  return list;
}

async function round(file: string, opLists: Op[][], killAfter: Array<number | undefined>): Promise<void> {
  const runs: Run[] = opLists.map((ops) => ({ ops, acked: 0 }));
  let polls = 0;
  const poller = setInterval(() => {
    fileIsSound(file); // readers (another window) never see a torn file
    polls++;
  }, 15);
  try {
    await Promise.all(
      opLists.map(
        (ops, w) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, ['--import', 'tsx', WORKER, file, JSON.stringify(ops)], { stdio: ['ignore', 'pipe', 'pipe'] });
            let err = '';
            child.stdout.on('data', (d: Buffer) => {
              for (const m of d.toString().matchAll(/ack (\d+)/g)) (runs[w] as Run).acked = Number(m[1]) + 1;
            });
            child.stderr.on('data', (d: Buffer) => (err += d.toString()));
            const k = killAfter[w];
            let timer: NodeJS.Timeout | undefined;
            // Killed a random time after its first acknowledged write (startup costs vary).
            if (k !== undefined) child.stdout.once('data', () => (timer = setTimeout(() => child.kill('SIGKILL'), k)));
            child.on('exit', (code, signal) => {
              if (timer) clearTimeout(timer);
              if (code === 0 || signal === 'SIGKILL') resolve();
              else reject(new Error(`worker ${w} failed (${code}): ${err.slice(-800)}`));
            });
          }),
      ),
    );
  } finally {
    clearInterval(poller);
  }
  assert.ok(polls > 0);
  check(fileIsSound(file), runs);
}

test('incidents.json: three writers, some killed at random instants; every acknowledged write survives (fixed seed)', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.tuple(opsOf(0), opsOf(1), opsOf(2)), fc.array(fc.option(fc.integer({ min: 0, max: 250 }), { nil: undefined }), { minLength: 3, maxLength: 3 }), async (opLists, killAfter) => {
      const file = path.join(tempDir(t), 'incidents.json');
      const book = new IncidentBook(file);
      for (const id of SHARED) book.add({ id, type: 'open-ingress', severity: 'high', title: id, summary: '', source: 'manual', resources: [], facts: [] }, 'setup', 'opened');
      await round(file, opLists, killAfter);
    }),
    { seed: 1111, numRuns: Number(process.env.KEYSENTRY_INCIDENT_RUNS) || 4 },
  );
});

test('incidents.json: a window holding an old copy does not bring back what another deleted, nor drop its ticks', (t) => {
  const file = path.join(tempDir(t), 'incidents.json');
  const a = new IncidentBook(file);
  a.add({ id: 'x', type: 'exposed-key', severity: 'high', title: 'x', summary: '', source: 'manual', resources: [], facts: [] }, 'a', 'opened');
  a.add({ id: 'y', type: 'exposed-key', severity: 'high', title: 'y', summary: '', source: 'manual', resources: [], facts: [] }, 'a', 'opened');
  const b = new IncidentBook(file); // the second window read both
  a.remove('x');
  a.setStep('y', 'Contain/one', true, 'a');
  b.setStep('y', 'Contain/two', true, 'b');
  b.record('y', { actor: 'b', kind: 'note', text: 'from b' });
  a.setStep('y', 'Contain/one', false, 'a');
  const end = new IncidentBook(file);
  assert.equal(end.get('x'), undefined, 'deleted stays deleted');
  const y = end.get('y') as Incident;
  assert.equal(y.steps['Contain/one']?.done, false, 'latest change wins');
  assert.equal(y.steps['Contain/two']?.done, true);
  assert.ok(y.timeline.some((e) => e.text === 'from b'));
  assert.throws(() => b.setStep('x', 'Contain/one', true, 'b'), /no incident "x"/);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

// A process that applies a list of operations to an incidents file (the way a window or the CLI
// does) and prints "ack N" after each one returned: what was acknowledged must survive.
import { IncidentBook } from '../../../src/core/incidents/book';

export type Op =
  | { t: 'add'; id: string }
  | { t: 'step'; inc: string; key: string; done: boolean }
  | { t: 'note'; inc: string; text: string }
  | { t: 'status'; inc: string; status: 'open' | 'contained' | 'resolved' }
  | { t: 'remove'; id: string };

const [file, opsJson] = process.argv.slice(2) as [string, string];
const ops = JSON.parse(opsJson) as Op[];
// A long-lived book (a window open for a while), sometimes replaced by a fresh one (a new window, a CLI run).
let book = new IncidentBook(file);
for (const [n, op] of ops.entries()) {
  if (n % 7 === 6) book = new IncidentBook(file);
  switch (op.t) {
    case 'add':
      book.add({ id: op.id, type: 'exposed-key', severity: 'high', title: op.id, summary: '', source: 'manual', resources: [], facts: [] }, 'worker', `opened ${op.id}`);
      break;
    case 'step':
      book.setStep(op.inc, op.key, op.done, 'worker');
      break;
    case 'note':
      book.record(op.inc, { actor: 'worker', kind: 'note', text: op.text });
      break;
    case 'status':
      book.setStatus(op.inc, op.status, 'worker');
      break;
    case 'remove':
      book.remove(op.id);
      break;
  }
  process.stdout.write(`ack ${n}\n`);
}

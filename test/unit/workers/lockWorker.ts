// A process that takes the lock `rounds` times; inside, it checks that no live process is inside
// too (a marker file naming the holder's pid), then increments a counter file.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAlive, withLock } from '../../../src/core/fileLock';

const [lockFile, dir, roundsArg] = process.argv.slice(2) as [string, string, string];
const inside = `${dir}/inside`;
const counter = `${dir}/counter`;
for (let i = 0; i < Number(roundsArg); i++) {
  withLock(lockFile, 'lock test', () => {
    // Created exclusively: a second process inside fails to create it (an existsSync check
    // followed by a write missed two processes that entered at the same instant).
    try {
      writeFileSync(inside, String(process.pid), { flag: 'wx' });
    } catch {
      const other = existsSync(inside) ? Number(readFileSync(inside, 'utf8')) : 0;
      if (isAlive(other) && other !== process.pid) writeFileSync(`${dir}/violation-${process.pid}-${Date.now()}`, String(other));
      writeFileSync(inside, String(process.pid));
    }
    const n = existsSync(counter) ? Number(readFileSync(counter, 'utf8')) : 0;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.random() < 0.2 ? 2 : 0);
    writeFileSync(counter, String(n + 1));
    rmSync(inside, { force: true });
  }, 60_000);
}

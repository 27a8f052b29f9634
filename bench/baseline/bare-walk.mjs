// The floor `npm run bench` compares the scan against (bench/run.mjs): a bare Node walk of the
// corpus that reads every file and runs one regex (the key-id pattern) over it, single-threaded,
// printing the match count. Anything a scanner does beyond this is its own cost.
//   node bench/baseline/bare-walk.mjs DIR
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const re = /(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}/g;
let files = 0;
let bytes = 0;
let matches = 0;
const stack = [path.resolve(process.argv[2] ?? '.')];
while (stack.length) {
  const dir = stack.pop();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) stack.push(p);
    else if (e.isFile()) {
      const buf = readFileSync(p);
      files++;
      bytes += buf.length;
      matches += (buf.toString('latin1').match(re) ?? []).length;
    }
  }
}
console.log(JSON.stringify({ files, bytes, matches }));

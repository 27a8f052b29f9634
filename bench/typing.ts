// Time to rescan a 5,000-line document after one edit, as the editor does on each (debounced) change.
import { scanText } from '../src/core/detect/engine';
// @ts-expect-error plain ESM helper
import { fakeKeyId, fakeSecret } from '../test/fixtures/fake-keys.mjs';

const lines: string[] = [];
for (let i = 0; i < 5000; i++) lines.push(i % 250 === 0 ? `const awsKey${i} = "${fakeKeyId()}"; // secret ${fakeSecret()}` : `export function handler${i}(event, context) { return { statusCode: 200, body: JSON.stringify(event.secretName ?? null) }; }`);
const samples: number[] = [];
(async () => {
  for (let i = 0; i < 60; i++) {
    lines[2500] = `const typed = "${'x'.repeat(i)}";`;
    const text = lines.join('\n');
    const t = performance.now();
    await scanText(text, 'src/big.ts');
    samples.push(performance.now() - t);
  }
  const warm = samples.slice(10).sort((a, b) => a - b);
  console.log(`rescan of a 5,000-line file (${(lines.join('\n').length / 1e3).toFixed(0)} KB) after an edit: median ${warm[Math.floor(warm.length / 2)]!.toFixed(1)} ms, p95 ${warm[Math.floor(warm.length * 0.95)]!.toFixed(1)} ms`);
})();

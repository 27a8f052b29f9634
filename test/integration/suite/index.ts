// The integration suite's entry point, run inside a real VS Code extension host: by code-server
// (test/harness/run-code-server.mjs) here, or by @vscode/test-electron (run-electron.mjs) where
// VS Code can be downloaded. It writes a results file the harness relays, and prints a closing
// "N passed, N failed" line.
import { writeFileSync } from 'node:fs';
import Mocha from 'mocha';

interface TestResult {
  title: string;
  state: 'passed' | 'failed';
  ms: number;
  error?: string;
}

export async function run(): Promise<void> {
  // KEYSENTRY_TEST_GREP (a regular expression) runs only the matching tests while working on one area.
  const grep = process.env.KEYSENTRY_TEST_GREP;
  const mocha = new Mocha({ ui: 'tdd', timeout: 60_000, color: false, reporter: 'spec', ...(grep ? { grep: new RegExp(grep) } : {}) });
  mocha.suite.emit('pre-require', globalThis, 'bundle', mocha);
  // One file per area, so work on one area does not touch another's tests.
  await import('./extension.test');
  await import('./rotation.test');
  await import('./incidents.test');
  await import('./containment.test');
  await import('./audit.test');
  await import('./detection.test');
  await import('./conventions.test');
  const results: TestResult[] = [];
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run((n) => resolve(n));
    runner.on('pass', (t) => results.push({ title: t.fullTitle(), state: 'passed', ms: t.duration ?? 0 }));
    runner.on('fail', (t, err: Error) => results.push({ title: t.fullTitle(), state: 'failed', ms: t.duration ?? 0, error: String(err?.stack ?? err) }));
  });
  const passed = results.filter((r) => r.state === 'passed').length;
  const summary = `${passed} passed, ${results.length - passed} failed`;
  const out = process.env.KEYSENTRY_TEST_RESULTS;
  if (out) writeFileSync(out, JSON.stringify({ results, summary }, null, 2));
  console.log(summary);
  if (failures > 0) throw new Error(`${failures} integration test(s) failed`);
}

// Activation cost of the extension bundle: its size and the time Node takes to load it (parse and
// evaluate, what VS Code counts as "code loading" before activate()), for the shipped layout (the
// AWS code in dist/aws.js, loaded on first use) against the same code with the AWS SDK bundled
// in, built the same way in this run. Each load runs in a fresh Node process with a stub `vscode`.
// The figure VS Code itself shows (Running Extensions) is measured by the integration harness.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(path.join(tmpdir(), 'keysentry-bench-activation-'));
const common = {
  absWorkingDir: root,
  entryPoints: ['src/extension.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  external: ['vscode'],
  logLevel: 'error',
  define: { 'import.meta.url': 'importMetaUrl', KEYSENTRY_VERSION: '"bench"' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};
const split = {
  name: 'aws-on-demand',
  setup(b) {
    b.onResolve({ filter: /\.\.\/aws\/account$/ }, (a) => (a.kind === 'dynamic-import' ? { path: './aws.js', external: true } : undefined));
  },
};
const shipped = path.join(out, 'split', 'extension.js');
const inline = path.join(out, 'inline', 'extension.js');
await esbuild.build({ ...common, outfile: shipped, plugins: [split], supported: { 'dynamic-import': false } });
await esbuild.build({ ...common, outfile: inline });

const loader = path.join(out, 'load.cjs');
// A stand-in for the `vscode` module: every name the extension reads at load time, each a
// callable, constructible object whose properties are more of the same.
const names = ['CodeAction', 'CodeActionKind', 'Diagnostic', 'DiagnosticSeverity', 'Disposable', 'EventEmitter', 'FileType', 'Hover', 'MarkdownString', 'Position', 'ProgressLocation', 'Range', 'RelativePattern', 'StatusBarAlignment', 'ThemeColor', 'ThemeIcon', 'TreeItem', 'TreeItemCollapsibleState', 'Uri', 'ViewColumn', 'WorkspaceEdit', 'commands', 'env', 'extensions', 'l10n', 'languages', 'window', 'workspace'];
writeFileSync(
  loader,
  `const Module = require('module');
const orig = Module._resolveFilename;
Module._resolveFilename = function (r, ...rest) { return r === 'vscode' ? 'vscode' : orig.call(this, r, ...rest); };
const any = () => new Proxy(function () {}, { get: (t, k) => (k === 'prototype' ? {} : any()), construct: () => ({}) });
const stub = {};
for (const n of ${JSON.stringify(names)}) stub[n] = any();
require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: stub };
const t = process.hrtime.bigint();
require(process.argv[2]);
process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`,
);
const load = (file) => {
  const r = spawnSync(process.execPath, [loader, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(r.stdout);
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = 7;
const times = { shipped: [], inline: [] };
for (let i = 0; i < runs; i++) {
  times.shipped.push(load(shipped));
  times.inline.push(load(inline));
}
const size = { [shipped]: Math.round(statSync(shipped).size / 1024), [inline]: Math.round(statSync(inline).size / 1024) };
const kb = (f) => size[f];
console.log(`extension.js, AWS code on demand (shipped): ${kb(shipped)} KB, loads in ${median(times.shipped).toFixed(1)} ms (median of ${runs})`);
console.log(`extension.js, AWS SDK bundled in:          ${kb(inline)} KB, loads in ${median(times.inline).toFixed(1)} ms (median of ${runs})`);
rmSync(out, { recursive: true, force: true });
let failed = false;
if (kb(shipped) > 250) {
  console.log(`check failed: the extension bundle is ${kb(shipped)} KB (over 250 KB: did AWS code creep back in?)`);
  failed = true;
}
if (!(median(times.shipped) < median(times.inline))) {
  console.log('check failed: the split bundle does not load faster than the inline one');
  failed = true;
}
process.exit(failed ? 1 : 0);

// One bundler config for every bundle Keysentry ships:
//   dist/extension.js   the extension (Node, CommonJS, `vscode` external)
//   dist/cli.js         the `keysentry` command line (Node, with a shebang)
//   dist/scanWorker.js  the editor's document scanner, run in a worker thread off the extension host
//   dist/webview/*.js   the webview scripts (browser)
// and, with --tests, the integration suite that runs inside a real VS Code extension host.
// Flags: --production minifies; --watch rebuilds on change; --tests also builds out/test.
import * as esbuild from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const watch = args.has('--watch');
const tests = args.has('--tests');

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  legalComments: production ? 'none' : 'inline',
  logLevel: 'warning',
  // Some AWS SDK / secretlint modules are ESM and read import.meta.url; in CommonJS use __filename.
  define: { 'import.meta.url': 'importMetaUrl', KEYSENTRY_VERSION: JSON.stringify(pkg.version) },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

/** @type {esbuild.BuildOptions[]} */
const builds = [
  { ...node, entryPoints: { extension: 'src/extension.ts' }, outdir: 'dist', external: ['vscode'] },
  {
    ...node,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node\n' + node.banner.js },
  },
  { ...node, entryPoints: { scanWorker: 'src/core/detect/scanWorker.ts' }, outdir: 'dist' },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: production ? false : 'linked',
    minify: production,
    logLevel: 'warning',
    entryPoints: { runbook: 'media/webview/runbook.ts' },
    outdir: 'dist/webview',
  },
];

if (tests) {
  builds.push({
    ...node,
    entryPoints: { index: 'test/integration/suite/index.ts' },
    outdir: 'out/test/integration',
    external: ['vscode', 'mocha'],
  });
}

// A production build starts from an empty dist/ so no development source maps are packaged.
if (production) rmSync(new URL('./dist/', import.meta.url), { recursive: true, force: true });

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[watch] watching for changes');
} else {
  const started = Date.now();
  await Promise.all(builds.map((b) => esbuild.build(b)));
  console.log(`built ${builds.length} bundles${production ? ' (production)' : ''} in ${Date.now() - started} ms`);
}

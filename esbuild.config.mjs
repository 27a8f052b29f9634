// One bundler config for every bundle Keysentry ships:
//   dist/extension.js   the extension (Node, CommonJS, `vscode` external), without the AWS SDK
//   dist/aws.js         the extension's AWS code (src/aws/account.ts and the SDK), required on first use
//   dist/cli.js         the `keysentry` command line (Node, with a shebang)
//   dist/scanWorker.js  the editor's document scanner, run in a worker thread off the extension host
//   dist/webview/*.js   the webview scripts (browser)
// and, with --tests, the integration suite that runs inside a real VS Code extension host.
// Flags: --production minifies; --watch rebuilds on change; --tests also builds out/test.
import * as esbuild from 'esbuild';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

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
  // Third-party licence notices go to <bundle>.LEGAL.txt beside each bundle (shipped in the package).
  legalComments: 'external',
  logLevel: 'warning',
  // Some AWS SDK / secretlint modules are ESM and read import.meta.url; in CommonJS use __filename.
  define: { 'import.meta.url': 'importMetaUrl', KEYSENTRY_VERSION: JSON.stringify(pkg.version) },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

/**
 * The extension's `import('../aws/account')` becomes `require('./aws.js')` beside dist/extension.js:
 * the AWS SDK (most of the bundle's size) is parsed on the first AWS call, not at activation.
 * Anything else reaching into src/aws from the extension fails the build, so the SDK cannot creep back.
 */
const awsOnDemand = {
  name: 'aws-on-demand',
  setup(build) {
    build.onResolve({ filter: /\/aws\// }, (a) => {
      if (!a.importer.includes(`${'/src/'}`) || a.importer.includes('/src/aws/')) return undefined;
      if (a.kind === 'dynamic-import' && /\.\.\/aws\/account$/.test(a.path)) return { path: './aws.js', external: true };
      return { errors: [{ text: `${a.path}: the extension loads AWS code only through import('../aws/account') (its own bundle)` }] };
    });
    build.onResolve({ filter: /^@aws-sdk\// }, (a) => ({ errors: [{ text: `${a.path} imported by ${a.importer}: the AWS SDK belongs in dist/aws.js` }] }));
  },
};

/** @type {esbuild.BuildOptions[]} */
const builds = [
  { ...node, entryPoints: { extension: 'src/extension.ts' }, outdir: 'dist', external: ['vscode'], plugins: [awsOnDemand], supported: { 'dynamic-import': false } },
  { ...node, entryPoints: { aws: 'src/aws/account.ts' }, outdir: 'dist' },
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
  const results = await Promise.all(builds.map((b) => esbuild.build({ ...b, metafile: true })));
  writeNotices(results.map((r) => r.metafile));
  console.log(`built ${builds.length} bundles${production ? ' (production)' : ''} in ${Date.now() - started} ms`);
}

/**
 * dist/THIRD_PARTY_NOTICES.txt: the name, version, licence and licence text of every npm package
 * whose code is in a bundle (from esbuild's metafile). Most packages carry no `@license` comment,
 * so `legalComments` alone (dist/*.LEGAL.txt) would miss them.
 */
function writeNotices(metafiles) {
  const dirs = new Set();
  for (const m of metafiles) {
    for (const input of Object.keys(m.inputs)) {
      const hit = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (hit) dirs.add(hit[1]);
    }
  }
  const seen = new Map();
  for (const dir of dirs) {
    const meta = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const id = `${meta.name}@${meta.version}`;
    if (seen.has(id)) continue;
    const licenceFile = readdirSync(dir).find((f) => /^(licen[cs]e|copying|notice)(\.|$)/i.test(f));
    const text = licenceFile && existsSync(path.join(dir, licenceFile)) ? readFileSync(path.join(dir, licenceFile), 'utf8').trim() : `Licence: ${meta.license ?? 'see the package'} (no licence file in the package)`;
    seen.set(id, `${id} (${meta.license ?? 'unknown'})\n${meta.repository?.url ?? meta.homepage ?? ''}\n\n${text}`);
  }
  const body = [...seen.keys()].sort().map((k) => seen.get(k)).join(`\n\n${'-'.repeat(72)}\n\n`);
  writeFileSync(new URL('./dist/THIRD_PARTY_NOTICES.txt', import.meta.url), `Keysentry bundles the following third-party packages.\n\n${'-'.repeat(72)}\n\n${body}\n`);
}

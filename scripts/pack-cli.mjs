// Builds the publishable CLI package (packages/cli, npm name @keysentry/cli) from the production
// bundle and packs it: dist/keysentry-cli-<version>.tgz, what `npm publish` would upload.
// Run after `node esbuild.config.mjs --production` (npm run package:cli does both).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = path.join(root, 'packages', 'cli');
const out = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'dist');
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;

mkdirSync(path.join(pkgDir, 'dist'), { recursive: true });
copyFileSync(path.join(root, 'dist', 'cli.js'), path.join(pkgDir, 'dist', 'cli.js'));
copyFileSync(path.join(root, 'dist', 'THIRD_PARTY_NOTICES.txt'), path.join(pkgDir, 'THIRD_PARTY_NOTICES.txt'));
copyFileSync(path.join(root, 'LICENSE'), path.join(pkgDir, 'LICENSE'));
// One version for the extension and the CLI.
const manifest = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
if (manifest.version !== version) writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ ...manifest, version }, null, 2) + '\n');
mkdirSync(out, { recursive: true });
const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: pkgDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
console.log(path.join(out, packed.filename));

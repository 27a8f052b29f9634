// Installs code-server (VS Code 1.100.3 in the browser) into a git-ignored cache folder on
// first use and reuses it afterwards. It is a test and demo tool, not a dependency of the
// extension, so it lives outside the project's own node_modules.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cacheDir = path.join(root, '.vscode-test', 'code-server');
export const codeServerBin = path.join(cacheDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const marker = path.join(cacheDir, `.installed-${CODE_SERVER_VERSION}`);

function which(cmd) {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

export function ensureCodeServer({ log = console.error } = {}) {
  if (existsSync(marker) && existsSync(codeServerBin)) return codeServerBin;
  const rg = which('rg');
  if (!rg) throw new Error('ripgrep (rg) is required to install code-server offline: run scripts/setup.sh or apt-get install ripgrep');
  // @vscode/ripgrep's postinstall looks in a cache under os.tmpdir() before downloading from GitHub:
  // seed it with Debian's rg so the install works without internet.
  const rgCache = path.join(tmpdir(), 'vscode-ripgrep-cache-1.15.11');
  mkdirSync(rgCache, { recursive: true });
  execFileSync('tar', ['czf', path.join(rgCache, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz'), '-C', path.dirname(rg), path.basename(rg)]);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(path.join(cacheDir, 'package.json'), JSON.stringify({ name: 'keysentry-code-server-cache', private: true }, null, 2));
  log(`Installing code-server ${CODE_SERVER_VERSION} into ${path.relative(root, cacheDir)} (first run only, about a minute)...`);
  const started = Date.now();
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--unsafe-perm', '--no-save', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: cacheDir,
    // node-pty's postinstall runs `npx node-gyp`, which asks for confirmation without a TTY.
    env: { ...process.env, npm_config_yes: 'true' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (!existsSync(codeServerBin)) throw new Error(`code-server install finished but ${codeServerBin} is missing`);
  writeFileSync(marker, new Date().toISOString());
  log(`code-server installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return codeServerBin;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(ensureCodeServer());
}

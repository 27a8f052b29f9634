// The demo: the same path a user takes with the .vsix, in code-server instead of desktop VS Code.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDemoWorkspace } from '../test/fixtures/fake-keys.mjs';
import { codeServerBin } from '../test/harness/ensure-code-server.mjs';
import { freePort } from '../test/harness/code-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(root, '.vscode-test', 'demo');
const port = Number(process.env.PORT ?? (await freePort()));

console.log('demo: packaging the extension (.vsix)...');
execFileSync('npm', ['run', '--silent', 'package'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
const vsix = path.join(root, 'dist', 'keysentry.vsix');

const workspace = path.join(cache, 'demo-shop');
rmSync(workspace, { recursive: true, force: true });
makeDemoWorkspace(workspace);
const userData = path.join(cache, 'user-data');
const extensions = path.join(cache, 'extensions');
mkdirSync(userData, { recursive: true });
const common = ['--user-data-dir', userData, '--extensions-dir', extensions];
execFileSync(process.execPath, [codeServerBin, ...common, '--install-extension', vsix, '--force'], { stdio: ['ignore', 'ignore', 'inherit'] });
if (!existsSync(extensions)) throw new Error('the .vsix did not install');

const child = spawn(process.execPath, [codeServerBin, ...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', workspace], { stdio: ['ignore', 'pipe', 'pipe'] });
let shown = false;
const onData = (b) => {
  if (!shown && /HTTP server listening/.test(b.toString())) {
    shown = true;
    console.log(`\nKeysentry demo is running. Open:\n\n    http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}\n\nThe demo workspace (${path.relative(root, workspace)}) holds random, fake leaks: .env, deploy/id_rsa, deploy/server.pem, src/upload.py.\nPress Ctrl+C to stop.`);
  }
};
child.stdout.on('data', onData);
child.stderr.on('data', onData);
const stop = () => child.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('exit', (code) => process.exit(code ?? 0));

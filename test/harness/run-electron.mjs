// The same integration suite under @vscode/test-electron, for machines that can download VS Code
// (internet access to update.code.visualstudio.com, and a desktop or Xvfb for Electron).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';
import { makeDemoWorkspace } from '../fixtures/fake-keys.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ws = makeDemoWorkspace(path.join(mkdtempSync(path.join(tmpdir(), 'keysentry-electron-')), 'demo-shop'));
try {
  await runTests({
    version: '1.100.3',
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'out', 'test', 'integration'),
    launchArgs: [ws.dir, '--disable-extensions', '--disable-workspace-trust'],
  });
} catch (e) {
  console.error(`integration tests failed: ${e?.message ?? e}`);
  process.exit(1);
}

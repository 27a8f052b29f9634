// Integration tests of the conventions area, run inside a real VS Code extension host (see index.ts).
import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { KeysentryApi } from '../../../src/extension';
// @ts-expect-error plain ESM helper shared with the harness and the demo
import { fakeKeyId, fakeSecret } from '../../fixtures/fake-keys.mjs';
import { EXTENSION_ID, keysentry, root, waitFor } from './util';

suite('Conventions: quiet, truthful editor UI', () => {
  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<KeysentryApi>(EXTENSION_ID);
    assert.ok(ext);
    await ext.activate();
  });

  test('conventions: files created in new nested folders are scanned without "Scan Workspace"', async () => {
    // Several rounds: the watcher may report only the new top folder; each file must still be found.
    for (let round = 0; round < 4; round++) {
      const top = path.join(root().fsPath, `nested-${round}-${Date.now()}`);
      const file = path.join(top, 'a', 'b', 'c', 'settings.env');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `AWS_ACCESS_KEY_ID=${fakeKeyId()}\nAWS_SECRET_ACCESS_KEY=${fakeSecret()}\n`);
      try {
        await waitFor(`a finding in ${path.relative(root().fsPath, file)}`, () => keysentry(vscode.Uri.file(file)).length > 0);
      } finally {
        rmSync(top, { recursive: true, force: true });
      }
    }
  });

  test('conventions: diagnostics say where the secret is (untracked file, unsaved text), never "committed" for either', async () => {
    const file = path.join(root().fsPath, `untracked-${Date.now()}.env`);
    writeFileSync(file, `AWS_ACCESS_KEY_ID=${fakeKeyId()}\nAWS_SECRET_ACCESS_KEY=${fakeSecret()}\n`);
    try {
      const uri = vscode.Uri.file(file);
      const untracked = await waitFor('an "untracked" diagnostic', () => keysentry(uri).find((d) => /does not track yet/.test(d.message)));
      assert.doesNotMatch(untracked.message, /committed/);
      const doc = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(doc);
      await editor.edit((e) => e.insert(new vscode.Position(0, 0), '# edited\n'));
      const unsaved = await waitFor('an "unsaved" diagnostic', () => keysentry(uri).find((d) => /in unsaved text/.test(d.message)));
      assert.doesNotMatch(unsaved.message, /committed/);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    } finally {
      rmSync(file, { force: true });
    }
  });

  test('conventions: "Open Runbook" from the view title (no argument, or a menu context object) opens the leaked-key runbook', async () => {
    const before = vscode.window.tabGroups.all.flatMap((g) => g.tabs).length;
    await vscode.commands.executeCommand('keysentry.openRunbook', { some: 'menu context' });
    const tab = await waitFor('a runbook tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && /runbook/i.test(t.input.viewType)));
    assert.ok(vscode.window.tabGroups.all.flatMap((g) => g.tabs).length > before);
    assert.doesNotMatch(tab.label, /\{0\}/);
    await vscode.window.tabGroups.close(tab);
  });
});

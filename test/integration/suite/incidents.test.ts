// Integration tests of the incidents area, run inside a real VS Code extension host (see index.ts).
// One incident per leaked key: the seeded old key of the moto account, written into a file of the
// workspace, flagged by an audit and named by an AWS notice, is one incident with the evidence of
// all three, its runbook filled in with the key and its user, and its buttons acting on that key.
import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { KeysentryApi } from '../../../src/extension';
import { actionTargets } from '../../../src/core/incidents/actions';
import { fillCliChecked } from '../../../src/core/incidents/runbooks';
// @ts-expect-error plain ESM helper shared with the harness and the demo
import { fakeSecret } from '../../fixtures/fake-keys.mjs';
import { waitFor as waitForMs } from './util';

const waitFor = <T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000): Promise<T> => waitForMs(what, fn, ms);

suite('Incidents: one incident per key', () => {
  let api: KeysentryApi;
  suiteSetup(async () => {
    api = (await vscode.extensions.getExtension<KeysentryApi>('keysentry.keysentry')?.activate()) as KeysentryApi;
  });
  const seed = (): { oldKeyId: string } => JSON.parse(process.env.KEYSENTRY_TEST_SEED ?? '{}');

  test('incidents: workspace + audit + notice for one key make one incident whose runbook acts on that key', async function () {
    // A full audit of every region of the moto account, a scan and a live check: minutes on a loaded machine.
    this.timeout(300_000);
    const keyId = seed().oldKeyId;
    assert.ok(keyId, 'the harness passes the seeded old key id');
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath as string;
    const file = path.join(root, 'ops', 'legacy.env');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `AWS_ACCESS_KEY_ID=${keyId}\nAWS_SECRET_ACCESS_KEY=${fakeSecret()}\n`);
    // The file watcher finds it; opening it makes the editor scan it at once (a loaded machine delays the watcher).
    await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    await waitFor('the scan to find the key', () => api.store.entries().some((e) => e.uri.fsPath === file), 120_000);
    const state = await api.incidents.refresh('');
    assert.equal(state.error, undefined, state.error);
    const notice = `Subject: Action Required: Your AWS Access Key is Exposed for AWS Account 123456789012\nDate: Mon, 07 Apr 2025 09:14:52 +0000\n\nCase ID: 174302977800599\n\nWe have become aware that the AWS Access Key ${keyId}, belonging to IAM User 'ci-deploy', along with the corresponding Secret Key is publicly available online at https://github.com/example-shop/checkout-api/compare/9c1e2f7...41ab0d3\n\nPlease contact AWS by 2025-04-14.\n`;
    const fromNotice = await api.incidents.openNotice(notice, 'notice.eml', { quiet: true });
    const id = await api.incidents.openKeyIncident(keyId, false);
    assert.equal(id, `key:${keyId}`);
    assert.equal(fromNotice?.id, id, 'the notice landed in the key\'s incident');
    const inc = api.incidents.book.get(id as string);
    assert.ok(inc);
    assert.equal(inc.type, 'exposed-key');
    const sources = new Set((inc.evidence ?? []).filter((e) => e.current).map((e) => e.source));
    assert.deepEqual([...sources].sort(), ['audit', 'notice', 'workspace']);
    assert.ok(inc.facts.some(([k, v]) => k === 'Found in' && v === 'ops/legacy.env line 1'), JSON.stringify(inc.facts));
    assert.ok(inc.facts.some(([k]) => k === 'Found by'));
    assert.equal(api.incidents.book.get(`stale-key:123456789012:${keyId}`)?.id, id, 'the audit check id finds it too');
    // The runbook: facts filled, buttons on this key.
    const rb = api.incidents.runbooks[inc.type];
    const deactivate = rb?.phases[0]?.steps.find((s) => s.action === 'deactivate-key');
    assert.equal(fillCliChecked(deactivate?.cli as string, inc).line, `aws iam update-access-key --user-name ci-deploy --access-key-id ${keyId} --status Inactive`);
    assert.deepEqual(actionTargets(inc, 'deactivate-key').map((t) => t.resource.id), [keyId]);
    assert.deepEqual(actionTargets(inc, 'revoke-sessions').map((t) => t.resource.id), ['ci-deploy']);
    // Opening it from the finding opens this incident's panel.
    await vscode.commands.executeCommand('keysentry.openKeyIncident', keyId);
    await waitFor('the incident panel', () => api.incidentPanels.openPanels.includes(id as string));
    // The Incidents view marks the key live once the liveness check (the user's own identity, moto) says it is active.
    const live = await api.liveKeys.check([keyId]);
    assert.equal(live.get(keyId)?.status, 'active', JSON.stringify(live.get(keyId)));
    await api.incidents.openKeyIncident(keyId, false);
    assert.ok(api.incidents.book.get(id as string)?.facts.some(([k, v]) => k === 'In AWS' && /active/.test(v)), 'the liveness facts are in the incident');
    const view = api.incidentsView as unknown as { getChildren(n?: unknown): Array<{ type: string; incident?: { id: string } }>; getTreeItem(n: unknown): vscode.TreeItem };
    const node = view.getChildren().flatMap((g) => view.getChildren(g)).find((n) => n.type === 'incident' && n.incident?.id === id);
    assert.ok(node, 'the incident is in the view');
    assert.match(String(view.getTreeItem(node).description), /^LIVE · critical/);
    // Only one incident mentions the key.
    assert.equal(api.incidents.book.incidents.filter((i) => i.resources.some((r) => r.kind === 'access-key' && r.id === keyId)).length, 1);
  });
});

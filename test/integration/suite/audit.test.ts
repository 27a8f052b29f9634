// Integration tests of the audit area, run inside a real VS Code extension host (see index.ts).
// The harness seeds moto with seed 2: the Mumbai instance's night of traffic to Bahrain and the bill.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { KeysentryApi } from '../../../src/extension';

const seed = (): { stray: { instance: string; region: string } } => JSON.parse(process.env.KEYSENTRY_TEST_SEED ?? '{}');

suite('Audit: data transfer and hardening (real VS Code, moto)', () => {
  let api: KeysentryApi;
  suiteSetup(async () => {
    api = (await vscode.extensions.getExtension<KeysentryApi>('keysentry.keysentry')?.activate()) as KeysentryApi;
    assert.ok(api);
  });

  test('audit: the data-transfer incident of the demo account, with its window, volume, route and cost', async () => {
    const s = seed();
    const c = vscode.workspace.getConfiguration('keysentry.audit');
    await c.update('costs', true, vscode.ConfigurationTarget.Global);
    await c.update('trafficDays', 3, vscode.ConfigurationTarget.Global);
    await c.update('regions', ['us-east-1', 'ap-south-1', 'eu-west-1'], vscode.ConfigurationTarget.Global);
    try {
      const state = await api.incidents.refresh('');
      assert.equal(state.error, undefined, state.error);
      const inc = api.incidents.book.get(`data-transfer:123456789012:ap-south-1:${s.stray.instance}`);
      assert.ok(inc, `a data-transfer incident for ${s.stray.instance}; errors: ${state.snapshot?.errors.join('; ')}`);
      const facts = Object.fromEntries(inc.facts);
      assert.match(facts.Window ?? '', /sent 209 GB between \d\d:\d\d and \d\d:\d\d/);
      assert.equal(facts.Route, 'ap-south-1 → me-south-1');
      assert.match(facts.Cost ?? '', /USD 18\.81/);
      assert.ok(inc.resources.some((r) => r.kind === 'instance' && r.id === s.stray.instance));
      await vscode.commands.executeCommand('keysentry.openIncident', inc.id);
    } finally {
      await c.update('costs', undefined, vscode.ConfigurationTarget.Global);
      await c.update('trafficDays', undefined, vscode.ConfigurationTarget.Global);
      await c.update('regions', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('audit: a hardening action (a monthly budget) asks for the address, shows the plan, and runs only after confirmation', async () => {
    const id = 'no-billing-alert:123456789012';
    if (!api.incidents.book.get(id)) await api.incidents.refresh('');
    assert.ok(api.incidents.book.get(id), 'the audit found no budget and no billing alarm');
    const ask = api.incidents.ask;
    const confirm = api.incidents.confirm;
    const answers = ['ops@example.com', '25'];
    let shown = '';
    api.incidents.ask = async () => answers.shift();
    api.incidents.confirm = async (plan) => {
      shown = plan.calls.map((c) => `${c.api} ${c.what}`).join('\n');
      return false;
    };
    try {
      assert.equal(await api.incidents.runAction(id, 'Recover & harden/budget', 'create-budget', '123456789012'), 'declined');
      assert.match(shown, /budgets:CreateBudget create a monthly cost budget of USD 25 that e-mails ops@example.com/);
      answers.push('ops@example.com', '25');
      api.incidents.confirm = async () => true;
      assert.equal(await api.incidents.runAction(id, 'Recover & harden/budget', 'create-budget', '123456789012'), 'done');
    } finally {
      api.incidents.ask = ask;
      api.incidents.confirm = confirm;
    }
    const entry = api.incidents.book.get(id)?.timeline.find((e) => e.kind === 'action');
    assert.match(entry?.text ?? '', /Create a monthly budget with an e-mail alert to ops@example.com: done/);
    // The next audit no longer finds it: the budget exists in moto.
    await api.incidents.refresh('');
    assert.equal(api.incidents.book.get(id)?.status, 'resolved');
  });
});

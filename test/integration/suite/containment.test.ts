// Integration tests of the containment area, run inside a real VS Code extension host (see index.ts):
// the isolate plan (both steps per interface, with why), release after isolate, and a
// "compromised key pair" incident opened from the demo workspace's deploy/server.pem.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { DescribeInstancesCommand, DescribeKeyPairsCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { KeysentryApi } from '../../../src/extension';
import { describePlan } from '../../../src/core/incidents/actions';
import { EXTENSION_ID, waitFor } from './util';

interface Seed {
  recent: string;
  keyPair: { keyName: string; region: string; instance: string };
}
const seed = (): Seed => JSON.parse(process.env.KEYSENTRY_TEST_SEED ?? '{}') as Seed;

const ec2 = (region = 'us-east-1'): EC2Client => new EC2Client({ region, endpoint: process.env.AWS_ENDPOINT_URL });

suite('Containment in a real VS Code', () => {
  let api: KeysentryApi;
  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<KeysentryApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
  });

  test('containment: the isolate plan moves each interface through the all-traffic group (both steps, with why); release after isolate restores the groups', async () => {
    const s = seed();
    const groupsOf = async (): Promise<string[]> => ((await ec2().send(new DescribeInstancesCommand({ InstanceIds: [s.recent] }))).Reservations?.[0]?.Instances?.[0]?.SecurityGroups ?? []).map((g) => g.GroupName ?? '');
    const before = await groupsOf();
    const inc = api.incidents.book.add({ id: 'manual:containment-isolate', type: 'compromised-instance', severity: 'critical', title: 'Abuse from the recent instance', summary: 's', source: 'manual', resources: [{ kind: 'instance', id: s.recent, region: 'us-east-1' }], facts: [] }, 'tester', 'Opened by hand');
    await vscode.commands.executeCommand('keysentry.openIncident', inc.id);
    const ask = api.incidents.confirm;
    let shown = '';
    api.incidents.confirm = async (plan) => {
      shown = describePlan(plan);
      return true;
    };
    try {
      assert.equal(await api.incidents.runAction(inc.id, 'Contain/isolate', 'isolate-instance', s.recent), 'done');
      assert.match(shown, /step 1 of 2: move eni-\w+ .* to the temporary all-traffic group\. Why: its open connections become untracked/);
      assert.match(shown, /step 2 of 2: move eni-\w+ to the isolation group \(no rules\)\. Why: untracked flows are cut at once/);
      assert.match(shown, /record eni-\w+ original groups: sg-/);
      assert.deepEqual(await groupsOf(), ['keysentry-isolation']);
      // isolating again finds nothing to do and says so
      assert.equal(await api.incidents.runAction(inc.id, 'Contain/isolate', 'isolate-instance', s.recent), 'refused');
      assert.match(api.incidents.book.get(inc.id)?.timeline.at(-1)?.text ?? '', /nothing to do: .* already isolated by incident "manual:containment-isolate"/);
      assert.equal(await api.incidents.runAction(inc.id, 'Recover & harden/release', 'release-instance', s.recent), 'done');
      assert.match(shown, /give eni-\w+ back its recorded groups/);
    } finally {
      api.incidents.confirm = ask;
    }
    assert.deepEqual(await groupsOf(), before);
    const texts = api.incidents.book.get(inc.id)?.timeline.filter((e) => e.kind === 'action').map((e) => e.text);
    assert.deepEqual(texts, [`Isolate instance ${s.recent}: done`, `Release instance ${s.recent}: done`]);
  });

  test('containment: the demo\'s deploy/server.pem opens a "compromised key pair" incident with its key pair and instance; its delete action warns about authorized_keys', async () => {
    const s = seed();
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(root);
    const cli = path.join(__dirname, '..', '..', '..', 'dist', 'cli.js');
    let out = '';
    try {
      // An earlier test deletes deploy/server.pem from the work tree; git still has it (it is in the first commit).
      let pem = path.join('deploy', 'server.pem');
      if (!existsSync(path.join(root, pem))) {
        pem = path.join(mkdtempSync(path.join(tmpdir(), 'keysentry-pem-')), 'server.pem');
        writeFileSync(pem, execFileSync('git', ['show', 'HEAD:deploy/server.pem'], { cwd: root }), { mode: 0o600 });
      }
      execFileSync(process.execPath, [cli, 'check-key-pair', pem, '--regions', 'us-east-1', '--format', 'json'], { cwd: root, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, encoding: 'utf8' });
      assert.fail('a match exits 1');
    } catch (e) {
      const err = e as { status?: number; stdout?: string; stderr?: string };
      assert.equal(err.status, 1, `check-key-pair: ${String(err.stderr ?? '').slice(0, 600)}`);
      out = err.stdout ?? '';
    }
    assert.doesNotMatch(out, /PRIVATE KEY/);
    const j = JSON.parse(out) as { keys: Array<{ incident: string | null; matches: Array<{ keyName: string }> }> };
    const id = j.keys[0]?.incident;
    assert.ok(id, 'an incident was opened');
    assert.deepEqual(j.keys[0]?.matches.map((m) => m.keyName), [s.keyPair.keyName]);
    // the window picks it up from the shared incidents file
    const inc = await waitFor('the key-pair incident in the window', () => (api.incidents.book.reload(), api.incidents.book.get(id)));
    assert.equal(inc.type, 'key-pair');
    assert.deepEqual(inc.resources.map((r) => `${r.kind}:${r.id}`), [`key-pair:${s.keyPair.keyName}`, `instance:${s.keyPair.instance}`]);
    await vscode.commands.executeCommand('keysentry.openIncident', id);
    await waitFor('the incident panel', () => api.incidentPanels.openPanels.includes(id));
    const ask = api.incidents.confirm;
    let shown = '';
    api.incidents.confirm = async (plan) => {
      shown = describePlan(plan);
      return true;
    };
    try {
      assert.equal(await api.incidents.runAction(id, 'Eradicate/delete', 'delete-key-pair', s.keyPair.keyName), 'done');
    } finally {
      api.incidents.confirm = ask;
    }
    assert.match(shown, /authorized_keys/);
    await assert.rejects(ec2(s.keyPair.region).send(new DescribeKeyPairsCommand({ KeyNames: [s.keyPair.keyName] })));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});

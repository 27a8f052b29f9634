// Integration tests of the rotation area, run inside a real VS Code extension host (see index.ts),
// against moto (the harness points AWS_ENDPOINT_URL and an admin's credentials at it):
// - a failed rotation shows its reason to the user (not only in the log), with the way out;
// - a planted key in a git-tracked .env is never written without a choice (Untrack, or a profile);
// - the "Rotate this key" quick fix is never preferred (Auto Fix must not start an AWS operation);
// - rotating a live key: the old key's diagnostics go at once, the new key is in the file;
// - a key no file holds (an audit's old key): the user chooses a profile and the new key goes there.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import type { KeysentryApi } from '../../../src/extension';
import type { RotationPrompts } from '../../../src/vscode/rotation';
import { EXTENSION_ID, keysentry, root, waitFor } from './util';

interface Shown {
  kind: 'info' | 'warn' | 'error';
  message: string;
  detail?: string;
  items: string[];
}

/** Prompts that answer from `answers` (by the start of the message, or the next in order for picks and inputs) and record everything shown. */
function scriptedPrompts(answers: { buttons?: Array<[RegExp, string]>; picks?: string[]; inputs?: string[]; files?: string[] }): { prompts: RotationPrompts; shown: Shown[] } {
  const shown: Shown[] = [];
  const message =
    (kind: Shown['kind']) =>
    (m: string, o: vscode.MessageOptions, ...items: string[]): Thenable<string | undefined> => {
      shown.push({ kind, message: m, detail: o.detail, items });
      const hit = answers.buttons?.find(([re]) => re.test(m));
      return Promise.resolve(hit ? items.find((i) => i === hit[1]) : undefined);
    };
  const picks = [...(answers.picks ?? [])];
  const inputs = [...(answers.inputs ?? [])];
  return {
    shown,
    prompts: {
      info: message('info'),
      warn: message('warn'),
      error: message('error'),
      pick: <T extends vscode.QuickPickItem>(items: T[]) => {
        const want = picks.shift();
        return Promise.resolve(items.find((i) => want !== undefined && i.label.includes(want)));
      },
      input: () => Promise.resolve(inputs.shift()),
      openFiles: () => Promise.resolve(answers.files?.map((f) => vscode.Uri.file(f))),
    },
  };
}

suite('Rotation from the editor (moto)', () => {
  let api: KeysentryApi;
  let saved: RotationPrompts;
  const iam = new IAMClient({ region: process.env.AWS_REGION ?? 'us-east-1' });
  let users = 0;
  const secrets: string[] = [];

  async function liveKey(): Promise<{ user: string; id: string; secret: string }> {
    const user = `suite-rotation-${++users}-${process.pid}`;
    await iam.send(new CreateUserCommand({ UserName: user }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!;
    secrets.push(k.SecretAccessKey!);
    return { user, id: k.AccessKeyId!, secret: k.SecretAccessKey! };
  }
  const keysOf = async (user: string): Promise<Array<{ id: string; status: string }>> =>
    ((await iam.send(new ListAccessKeysCommand({ UserName: user }))).AccessKeyMetadata ?? []).map((k) => ({ id: k.AccessKeyId!, status: k.Status! }));
  const noSecretIn = (shown: Shown[]): void => {
    const text = JSON.stringify(shown);
    for (const s of secrets) assert.ok(!text.includes(s), 'no raw secret in anything shown');
  };

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<KeysentryApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
    saved = api.rotation.prompts;
  });
  teardown(() => {
    api.rotation.prompts = saved;
  });

  test('a failed rotation shows its reason to the user: the tracked .env is offered untrack / a profile, then AWS says no', async () => {
    const env = vscode.Uri.joinPath(root(), '.env');
    const before = readFileSync(env.fsPath, 'utf8');
    secrets.push(/AWS_SECRET_ACCESS_KEY=(\S+)/.exec(before)![1]!);
    const idDiag = await waitFor('the planted key id', () => keysentry(env).find((d) => (d.code as { value: string }).value === 'aws-access-key-id'));
    const keyId = /AKIA[A-Z2-7]{16}/.exec(idDiag.message)![0];
    const { prompts, shown } = scriptedPrompts({ buttons: [[/tracked by git/, 'Write to a Profile Instead…']], inputs: ['demo-rotated'] });
    api.rotation.prompts = prompts;
    const r = await api.rotation.rotate(keyId);
    assert.equal(r.status, 'refused', JSON.stringify(r));
    assert.ok(r.refused === 'not-found' || r.refused === 'other-account', r.refused);
    const tracked = shown.find((s) => /tracked by git/.test(s.message));
    assert.ok(tracked, 'the tracked-file choice was offered');
    assert.deepEqual(tracked.items, ['Untrack and Rotate', 'Write to a Profile Instead…']);
    assert.match(tracked.detail ?? '', /--untrack.*git rm --cached .env.*--to-profile/s);
    const error = shown.find((s) => s.kind === 'error');
    assert.ok(error, 'the refusal is shown');
    // A modal dialog: the reason is its detail (shown), with the way out as buttons; not only in the log.
    assert.match(error.message, new RegExp(`Keysentry will not rotate ${keyId}`));
    assert.match(error.detail ?? '', /no IAM user|belongs to account/);
    assert.deepEqual(error.items, ['Choose the Signing Profile…', 'Show Log']);
    assert.equal(readFileSync(env.fsPath, 'utf8'), before, 'the tracked file is untouched');
    noSecretIn(shown);
  });

  test('a rotation that stops shows why in the notification itself (which has no detail), with Show Log', async () => {
    const live = await liveKey();
    const dir = path.join(process.env.KEYSENTRY_HOME!, 'rotations');
    mkdirSync(dir, { recursive: true });
    const journal = path.join(dir, `${live.id}.json`);
    writeFileSync(journal, '{ not a journal');
    try {
      const { prompts, shown } = scriptedPrompts({ picks: ['profile'], inputs: ['stopped'] });
      api.rotation.prompts = prompts;
      const r = await api.rotation.rotate(live.id);
      assert.equal(r.status, 'failed', JSON.stringify(r));
      const error = shown.find((s) => s.kind === 'error');
      assert.ok(error, JSON.stringify(shown));
      assert.equal(error.detail, undefined, 'a notification: everything is in the message');
      assert.match(error.message, new RegExp(`the rotation of ${live.id} stopped: .*journal .* is unreadable .*move it away`));
      assert.ok(error.items.includes('Show Log'));
      noSecretIn(shown);
    } finally {
      rmSync(journal, { force: true });
    }
  });

  test('the "Rotate this key" quick fix is never preferred: Auto Fix must not start an AWS operation', async () => {
    const env = vscode.Uri.joinPath(root(), '.env');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(env));
    const d = await waitFor('a key diagnostic', () => keysentry(env)[0]);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', env, d.range);
    const rotate = actions.find((a) => /Rotate this key/.test(a.title));
    assert.ok(rotate, 'the rotate fix is offered');
    assert.notEqual(rotate.isPreferred, true);
    assert.ok(actions.filter((a) => a.isPreferred).every((a) => !a.command || !/rotate|check|deactivate|revoke/i.test(a.command.command)), 'no preferred fix runs an AWS action');
  });

  test('rotating a live key: its diagnostics go at once, the file holds the new key, IAM has one key', async () => {
    const live = await liveKey();
    const dir = path.join(root().fsPath, 'rotation-live');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, '.env');
    writeFileSync(file, `# live\nAWS_ACCESS_KEY_ID=${live.id}\nAWS_SECRET_ACCESS_KEY=${live.secret}\n`);
    const uri = vscode.Uri.file(file);
    try {
      await vscode.workspace.openTextDocument(uri);
      await waitFor('the live key diagnostics', () => keysentry(uri).some((d) => d.message.includes(live.id)));
      const { prompts, shown } = scriptedPrompts({ buttons: [[/^Rotate /, 'Rotate']] });
      api.rotation.prompts = prompts;
      const r = await api.rotation.rotate(live.id);
      assert.equal(r.status, 'done', JSON.stringify(shown));
      // At once: no diagnostic of the old key right after the command returns.
      assert.ok(!keysentry(uri).some((d) => d.message.includes(live.id)), 'the old key diagnostics are gone at once');
      const newId = r.newKeyId!;
      const text = readFileSync(file, 'utf8');
      assert.ok(text.includes(`AWS_ACCESS_KEY_ID=${newId}`));
      secrets.push(/AWS_SECRET_ACCESS_KEY=(\S+)/.exec(text)![1]!);
      await waitFor('the new key diagnostics', () => keysentry(uri).some((d) => d.message.includes(newId)), 15_000);
      assert.deepEqual(await keysOf(live.user), [{ id: newId, status: 'Active' }]);
      assert.ok(shown.some((s) => s.kind === 'info' && new RegExp(`rotated ${live.id} → ${newId}`).test(s.message)));
      noSecretIn(shown);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a key no file holds (an audit\'s old key): the user chooses a profile of ~/.aws/credentials and the new key goes there', async () => {
    const live = await liveKey();
    const { prompts, shown } = scriptedPrompts({ picks: ['profile'], inputs: ['audit-rotated'], buttons: [[/^Rotate /, 'Rotate']] });
    api.rotation.prompts = prompts;
    const r = await api.rotation.rotate(live.id);
    assert.equal(r.status, 'done', JSON.stringify(shown));
    assert.deepEqual(r.destination, { toProfile: 'audit-rotated' });
    const credentials = process.env.AWS_SHARED_CREDENTIALS_FILE!;
    assert.ok(existsSync(credentials));
    const text = readFileSync(credentials, 'utf8');
    const m = new RegExp(`\\[audit-rotated\\]\\naws_access_key_id = (${r.newKeyId})\\naws_secret_access_key = (\\S+)`).exec(text);
    assert.ok(m, 'the profile holds the new pair');
    secrets.push(m[2]!);
    assert.ok(shown.some((s) => s.kind === 'info' && /profile \[audit-rotated\]/.test(s.message)), 'the summary says where the key went');
    assert.deepEqual(await keysOf(live.user), [{ id: r.newKeyId!, status: 'Active' }]);
    noSecretIn(shown);
  });
});

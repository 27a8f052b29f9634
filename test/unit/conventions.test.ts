// VS Code and CLI conventions that a repository, a user or CI relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

test('settings: nothing that spends AWS credentials or weakens a scan can come from an untrusted repository', () => {
  const props: Record<string, { scope?: string }> = pkg.contributes.configuration.properties;
  const restricted: string[] = pkg.capabilities.untrustedWorkspaces.restrictedConfigurations ?? [];
  // Only these may be chosen by any workspace, trusted or not: they change timing, not what is found or who signs.
  const harmless = new Set(['keysentry.scan.debounceMs']);
  for (const key of Object.keys(props)) {
    if (harmless.has(key)) continue;
    assert.ok(restricted.includes(key), `${key} must be in restrictedConfigurations (an untrusted repository must not choose it)`);
  }
  // A repository, even a trusted one, never chooses who signs AWS calls, where they go, or when they start.
  for (const key of ['keysentry.aws.profile', 'keysentry.aws.region', 'keysentry.aws.endpointUrl', 'keysentry.audit.profiles', 'keysentry.audit.onStartup', 'keysentry.audit.refreshIntervalMinutes', 'keysentry.liveCheck.mode', 'keysentry.prePush.failMode']) {
    assert.ok(['machine', 'application'].includes(props[key]?.scope ?? ''), `${key} must have machine scope (got ${props[key]?.scope ?? 'window'})`);
  }
  for (const key of restricted) assert.ok(props[key], `restrictedConfigurations names an unknown setting ${key}`);
});

test('settings: trust granted later runs what trust gates (the resume offer, the startup audit) without a reload', () => {
  const src = (f: string) => readFileSync(path.join(ROOT, 'src', 'vscode', f), 'utf8');
  assert.match(src('rotation.ts'), /onDidGrantWorkspaceTrust\(\(\) => void this\.offerResume\(\)\)/);
  assert.match(src('accountIncidents.ts'), /onDidGrantWorkspaceTrust\([^\n]*onStartup[^\n]*refreshAll\(false\)/);
});

const src = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');
const nls = JSON.parse(src('package.nls.json')) as Record<string, string>;

test('activation: every restorable webview panel has its onWebviewPanel event', () => {
  const restorable = new Set<string>();
  for (const f of ['src/vscode/runbookPanel.ts', 'src/vscode/incidentPanel.ts']) {
    const viewType = /const VIEW_TYPE = '([^']+)'/.exec(src(f))?.[1];
    assert.ok(viewType && /registerWebviewPanelSerializer\(VIEW_TYPE/.test(src(f)), f);
    restorable.add(viewType);
  }
  for (const v of restorable) assert.ok(pkg.activationEvents.includes(`onWebviewPanel:${v}`), `missing onWebviewPanel:${v}`);
});

test('view: empty states are viewsWelcome entries with when clauses; a walkthrough covers scan, hook, profile, audit', () => {
  const welcome: Array<{ view: string; contents: string; when?: string }> = pkg.contributes.viewsWelcome;
  assert.ok(welcome.length >= 4);
  for (const w of welcome) assert.ok(w.when, `viewsWelcome without a when clause: ${w.contents}`);
  assert.ok(welcome.some((w) => /isWorkspaceTrusted/.test(w.when ?? '') && /auditAccount/.test(nls[w.contents.slice(1, -1)] ?? '')));
  assert.ok(welcome.some((w) => w.when === 'workbenchState == empty'));
  const [walk] = pkg.contributes.walkthroughs;
  assert.deepEqual(
    walk.steps.map((s: { id: string }) => s.id),
    ['scan', 'hook', 'profile', 'audit'],
  );
  for (const s of walk.steps) assert.ok(readFileSync(path.join(ROOT, s.media.markdown)).length > 0);
  // Links into the walkthrough name the extension as VS Code does: publisher.name#id.
  assert.match(nls['view.incidents.welcome.notice'] ?? '', new RegExp(`${pkg.publisher}\\.${pkg.name}%23${walk.id}`));
});

test('manifest: every %placeholder% has a string in package.nls.json', () => {
  const missing = [...JSON.stringify(pkg.contributes).matchAll(/"%([^%"]+)%"/g)].map((m) => m[1] as string).filter((k) => !(k in nls));
  assert.deepEqual(missing, []);
});

test('explorer: the notice import is offered for .eml and .txt files', () => {
  const item = pkg.contributes.menus['explorer/context'].find((m: { command: string }) => m.command === 'keysentry.importNotice');
  assert.match(item.when, /\.eml/);
  assert.match(item.when, /\.txt/);
});

test('status bar: one icon, hidden when no folder is open', () => {
  const s = src('src/vscode/statusBar.ts');
  const icons = new Set([...s.matchAll(/\$\((\w[\w-]*)\)/g)].map((m) => m[1]));
  assert.deepEqual([...icons], ['shield']);
  assert.match(s, /workspaceFolders\?\.length\) this\.item\.show\(\);\s*else this\.item\.hide\(\)/);
});

test('startup: the background scan raises no notification (progress in the status bar only)', () => {
  const s = src('src/vscode/scanController.ts');
  assert.match(s, /opts\.notify\s*\?\s*\{ location: vscode\.ProgressLocation\.Notification[^}]*\}\s*:\s*\{ location: vscode\.ProgressLocation\.Window/);
  assert.doesNotMatch(s, /count > 0 \|\| opts\.notify/);
  assert.match(src('src/extension.ts'), /scanWorkspace\(\{ notify: false \}\)/);
});

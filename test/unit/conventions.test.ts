// VS Code and CLI conventions that a repository, a user or CI relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from '../../src/cli/args';
import { main, wantColor, withVersion } from '../../src/cli/main';
import type { Io } from '../../src/cli/io';
import { assertNoSecret, tempDir } from './helpers';
// @ts-expect-error plain ESM fixture helper
import { fakeKeyId, fakeSecret } from '../fixtures/fake-keys.mjs';

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

// ---- The CLI: node:util parseArgs, standard input, colour, usage, version ----

async function cli(args: string[], cwd: string, stdin?: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n'), cwd, color: false, version: '9.9.9', readStdin: stdin === undefined ? undefined : async () => stdin };
  return { code: await main(args, io), out, err };
}

test('cli: `scan -h` prints help and scans nothing, even beside a file named -h; `scan -- -h` scans that file', async (t) => {
  const dir = tempDir(t);
  const id = fakeKeyId();
  const secret = fakeSecret();
  writeFileSync(path.join(dir, '-h'), `aws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n`);
  const help = await cli(['scan', '-h'], dir);
  assert.equal(help.code, 0);
  assert.match(help.out, /^usage: keysentry scan/);
  const file = await cli(['scan', '--format', 'json', '--', '-h'], dir);
  assert.equal(file.code, 1);
  assert.ok(JSON.parse(file.out).findings.some((f: { file: string }) => f.file === '-h'));
  assertNoSecret([help.out, help.err, file.out, file.err], [secret]);
});

test('cli: `scan -` reads standard input; the report names it (stdin) and never shows the secret', async (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'x'));
  const secret = fakeSecret();
  const r = await cli(['scan', '-', '--format', 'json'], path.join(dir, 'x'), `export AWS_ACCESS_KEY_ID=${fakeKeyId()}\nexport AWS_SECRET_ACCESS_KEY=${secret}\n`);
  assert.equal(r.code, 1, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.version, '9.9.9');
  assert.ok(j.findings.length >= 1);
  assert.ok(j.findings.every((f: { file: string }) => f.file === '(stdin)'));
  const clean = await cli(['scan', '-'], dir, 'nothing here\n');
  assert.equal(clean.code, 0);
  assert.equal((await cli(['scan', '-', 'other'], dir, '')).code, 2);
  assertNoSecret([r.out, r.err], [secret]);
});

test('cli: an argument error prints the message, then the usage, on stderr only', async (t) => {
  const dir = tempDir(t);
  for (const args of [['scan', '--nope'], ['scan', '--format'], ['scan', '--format', 'xml'], ['scan', '-x'], ['pre-push', '--bogus']]) {
    const r = await cli(args, dir);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.out, '', args.join(' '));
    assert.match(r.err, /^keysentry: .+\n\nusage: keysentry /, args.join(' '));
  }
});

test('cli: every JSON object printed carries version; SARIF keeps its own', () => {
  assert.equal(JSON.parse(withVersion('{"findings":[]}', '1.2.3')).version, '1.2.3');
  assert.equal(withVersion('{\n  "a": 1\n}', '1.2.3'), '{\n  "version": "1.2.3",\n  "a": 1\n}');
  assert.equal(withVersion('{"$schema":"x","version":"2.1.0"}', '1'), '{"$schema":"x","version":"2.1.0"}');
  assert.equal(withVersion('not json {', '1'), 'not json {');
  assert.equal(withVersion('[1]', '1'), '[1]');
});

test('cli: FORCE_COLOR forces colour, NO_COLOR and FORCE_COLOR=0 turn it off, else a terminal decides', () => {
  assert.equal(wantColor({ FORCE_COLOR: '1' }, false), true);
  assert.equal(wantColor({ FORCE_COLOR: '3', NO_COLOR: '1' }, false), true);
  assert.equal(wantColor({ FORCE_COLOR: '0' }, true), false);
  assert.equal(wantColor({ NO_COLOR: '1' }, true), false);
  assert.equal(wantColor({}, true), true);
  assert.equal(wantColor({}, false), false);
});

test('cli args: same interface on node:util parseArgs (repeatable, last wins, -- ends options, - is positional)', () => {
  const a = parseArgs(['a', '--update', 'x', '--format=json', '--update', 'y', '-', '--', '--not-a-flag'], ['format'], ['help'], ['update']);
  assert.deepEqual(a.positional, ['a', '-', '--not-a-flag']);
  assert.equal(a.flags.get('update'), 'y');
  assert.deepEqual(a.lists.get('update'), ['x', 'y']);
  assert.equal(a.flags.get('format'), 'json');
  assert.throws(() => parseArgs(['--help=1'], [], ['help']), /--help does not take a value/);
  assert.throws(() => parseArgs(['--format', '--help'], ['format'], ['help']), /--format needs a value/);
});

test('l10n: the bundle holds every vscode.l10n.t string of the source (npm run l10n regenerates it), and package.json points at it', (t) => {
  assert.equal(pkg.l10n, './l10n');
  const out = tempDir(t);
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', '@vscode', 'l10n-dev', 'dist', 'cli.js'), 'export', '--outDir', out, path.join(ROOT, 'src')], { stdio: 'ignore' });
  const fresh = JSON.parse(readFileSync(path.join(out, 'bundle.l10n.json'), 'utf8'));
  const shipped = JSON.parse(src('l10n/bundle.l10n.json'));
  assert.deepEqual(Object.keys(shipped).sort(), Object.keys(fresh).sort(), 'l10n/bundle.l10n.json is stale: run npm run l10n');
});

test("l10n: every string of the webview page goes through t() and is translated by the extension's table", () => {
  const page = src('media/webview/runbook.ts');
  const used = new Set([...page.matchAll(/\bt\('((?:[^'\\]|\\.)*)'/g)].map((m) => (m[1] as string).replace(/\\(.)/g, '$1')));
  const table = new Set([...src('src/vscode/webviewStrings.ts').matchAll(/vscode\.l10n\.t\('((?:[^'\\]|\\.)*)'\)/g)].map((m) => (m[1] as string).replace(/\\(.)/g, '$1')));
  for (const s of used) assert.ok(table.has(s), `webview string not in webviewStrings(): ${s}`);
  // No English sentence is put on the page without t(): element text literals are only t(...) or data.
  assert.doesNotMatch(page, /el\('(h1|h2|dt|label|p|span|button)', '[A-Z]/);
  assert.doesNotMatch(page, /button\('[A-Z]/);
  for (const f of ['src/vscode/runbookPanel.ts', 'src/vscode/incidentPanel.ts']) assert.match(src(f), /l10n: webviewStrings\(\)/, f);
});

test('view title: at most two inline buttons besides Collapse All, so the title and counts fit the default sidebar width', () => {
  const inline = pkg.contributes.menus['view/title'].filter((m: { group?: string; when?: string }) => /^navigation/.test(m.group ?? '') && /keysentry\.incidents/.test(m.when ?? ''));
  assert.ok(inline.length <= 2, `${inline.length} inline title buttons: ${inline.map((m: { command: string }) => m.command).join(', ')}`);
});

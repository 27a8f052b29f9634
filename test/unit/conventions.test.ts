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

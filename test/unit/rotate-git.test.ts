// Issue 12, "rotation from the editor, finished": a new secret never goes into a file git tracks
// (or committed and does not ignore) without the user's choice. Against moto through the real SDK,
// with the built CLI as its own process and real git repositories:
// - refused by default, with the reason and both ways on; IAM and the file untouched;
// - --untrack: git rm --cached + .gitignore, then the new key in the file (outside the index);
// - --to-profile NAME: the new key in [NAME] of the shared credentials file, the tracked file left
//   alone; also for a key no file holds (an audit's old key); a rollback takes the profile out again;
// - a profile holding another key is refused; a hostile .gitignore symlink is never written through.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { linkSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { assertNoSecret, tempDir } from './helpers';
import { startMoto, type Moto } from '../aws/moto.mjs';
import { addProfilePair, inspectProfile, removeProfilePair } from '../../src/core/rotation/profile';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = process.env.KEYSENTRY_TEST_CLI ?? path.join(ROOT, 'dist', 'cli.js');
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
let moto: Moto;
let users = 0;
const seen: string[] = [];
const outputs: string[] = [];
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const randomSecret = (): string => Array.from({ length: 40 }, () => B64[Math.floor(Math.random() * B64.length)]).join('');

before(async () => {
  moto = await startMoto();
});
after(() => {
  moto?.stop();
  assertNoSecret(outputs, seen);
});

const creds = { accessKeyId: 'seed', secretAccessKey: 'seed' };
const iam = (): IAMClient => new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: creds });
const keysOf = async (user: string): Promise<Array<{ id: string; status: string }>> =>
  ((await iam().send(new ListAccessKeysCommand({ UserName: user }))).AccessKeyMetadata ?? []).map((k) => ({ id: k.AccessKeyId!, status: k.Status! }));
async function signsAs(id: string, secret: string): Promise<string> {
  const sts = new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: id, secretAccessKey: secret }, maxAttempts: 1 });
  return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? '';
}
const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface World {
  dir: string;
  repo: string;
  env: NodeJS.ProcessEnv;
  credFile: string;
  user: string;
  old: { id: string; secret: string };
  envFile: string;
  envText: string;
}

/** A git repository with a committed .env holding the user's key; the shared credentials file holds another profile. */
async function world(t: { after: (fn: () => void) => void }, opts: { commit?: boolean } = {}): Promise<World> {
  const dir = tempDir(t, 'keysentry-git-');
  const n = ++users;
  const user = `gitdev-${n}`;
  await iam().send(new CreateUserCommand({ UserName: `gitadmin-${n}` }));
  const admin = (await iam().send(new CreateAccessKeyCommand({ UserName: `gitadmin-${n}` }))).AccessKey!;
  await iam().send(new CreateUserCommand({ UserName: user }));
  const k = (await iam().send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!;
  const secret = randomSecret();
  await moto.setSecret(k.AccessKeyId!, secret);
  const newSecrets = [randomSecret(), randomSecret()];
  await moto.nextSecrets(newSecrets);
  const other = randomSecret();
  seen.push(secret, admin.SecretAccessKey!, other, ...newSecrets);
  const repo = path.join(dir, 'repo');
  mkdirSync(repo);
  git(repo, 'init', '-q');
  const envFile = path.join(repo, '.env');
  const envText = `APP_PORT=8080\nAWS_ACCESS_KEY_ID=${k.AccessKeyId}\nAWS_SECRET_ACCESS_KEY=${secret}\n`;
  writeFileSync(envFile, envText);
  writeFileSync(path.join(repo, 'README.md'), '# app\n');
  if (opts.commit !== false) {
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'init');
  }
  mkdirSync(path.join(dir, '.aws'));
  const credFile = path.join(dir, '.aws', 'credentials');
  writeFileSync(credFile, `[default]\naws_access_key_id = AKIAOTHERPROFILE2345\naws_secret_access_key = ${other}\n`, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir,
    KEYSENTRY_HOME: path.join(dir, 'keysentry'),
    AWS_SHARED_CREDENTIALS_FILE: credFile,
    AWS_CONFIG_FILE: path.join(dir, '.aws', 'config'),
    AWS_ACCESS_KEY_ID: admin.AccessKeyId!,
    AWS_SECRET_ACCESS_KEY: admin.SecretAccessKey!,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: moto.endpoint,
    KEYSENTRY_VERIFY_INTERVAL_MS: '100',
    KEYSENTRY_VERIFY_TIMEOUT_MS: '4000',
    NO_COLOR: '1',
  };
  delete env.AWS_PROFILE;
  return { dir, repo, env, credFile, user, old: { id: k.AccessKeyId!, secret }, envFile, envText };
}

function cli(w: World, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: w.repo, env: { ...w.env, ...extraEnv } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      outputs.push(out, err);
      resolve({ code, signal, out, err });
    });
  });
}
const rotate = (w: World, ...extra: string[]): string[] => ['rotate', w.old.id, '--yes', '--format', 'json', '--update', w.envFile, ...extra];

async function oneWorkingKey(w: World, file: string, re: RegExp): Promise<string> {
  const keys = await keysOf(w.user);
  assert.equal(keys.length, 1, JSON.stringify(keys));
  assert.equal(keys[0]!.status, 'Active');
  assert.notEqual(keys[0]!.id, w.old.id);
  const text = readFileSync(file, 'utf8');
  const m = re.exec(text);
  assert.ok(m && m[1] === keys[0]!.id, `${path.basename(file)} holds the new id`);
  seen.push(m[2]!);
  assert.match(await signsAs(m[1]!, m[2]!), new RegExp(`:user/${w.user}$`));
  return m[1]!;
}

test('a tracked file is refused by default: the reason, both choices, nothing changed in IAM or the file', async (t) => {
  const w = await world(t);
  for (const extra of [[], ['--plan']]) {
    const r = await cli(w, rotate(w, ...extra));
    assert.equal(r.code, 1, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.refused, 'tracked-file');
    assert.deepEqual(j.tracked.map((x: { path: string }) => x.path), [w.envFile]);
    assert.match(r.err, /git tracks.*--untrack.*git rm --cached \.env.*--to-profile NAME/s);
  }
  assert.deepEqual(await keysOf(w.user), [{ id: w.old.id, status: 'Active' }]);
  assert.equal(readFileSync(w.envFile, 'utf8'), w.envText);
  assert.match(git(w.repo, 'ls-files'), /^\.env$/m);
});

test('a file committed before and no longer tracked, but not ignored, is refused too; an ignored one is written', async (t) => {
  const w = await world(t);
  git(w.repo, 'rm', '--cached', '-q', '.env');
  git(w.repo, 'commit', '-qm', 'untrack');
  const r = await cli(w, rotate(w));
  assert.equal(r.code, 1, r.err);
  assert.equal(JSON.parse(r.out).refused, 'tracked-file');
  assert.match(r.err, /committed before, not ignored/);
  writeFileSync(path.join(w.repo, '.gitignore'), '.env\n');
  const ok = await cli(w, rotate(w));
  assert.equal(ok.code, 0, ok.err);
  await oneWorkingKey(w, w.envFile, /AWS_ACCESS_KEY_ID=(\S+)\nAWS_SECRET_ACCESS_KEY=(\S+)/);
});

test('--untrack: git rm --cached and .gitignore first, then the new key in the file, and the summary says so', async (t) => {
  const w = await world(t);
  writeFileSync(path.join(w.repo, '.gitignore'), 'node_modules');
  const r = await cli(w, ['rotate', w.old.id, '--yes', '--update', w.envFile, '--untrack']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Untracked \(git rm --cached, added to \.gitignore\), as chosen \(--untrack\): .*\.env\. Commit that change\./);
  assert.match(r.out, /Commit the removal of .*\.env from git/);
  assert.doesNotMatch(git(w.repo, 'ls-files'), /^\.env$/m, 'no longer in the index');
  assert.equal(readFileSync(path.join(w.repo, '.gitignore'), 'utf8'), 'node_modules\n/.env\n');
  const status = git(w.repo, 'status', '--porcelain', '--ignored', '.env');
  assert.match(status, /^D {2}\.env$/m, 'the removal is staged');
  assert.match(status, /^!! \.env$/m, 'the file is ignored');
  await oneWorkingKey(w, w.envFile, /AWS_ACCESS_KEY_ID=(\S+)\nAWS_SECRET_ACCESS_KEY=(\S+)/);
  // The exposed default follows: the key was committed, so it was deactivated as soon as the new one worked.
  assert.ok(readFileSync(w.envFile, 'utf8').startsWith('APP_PORT=8080\n'));
});

test('--to-profile: the new key goes into [ci] of ~/.aws/credentials, the tracked file is left alone, other profiles intact', async (t) => {
  const w = await world(t);
  const credBefore = readFileSync(w.credFile, 'utf8');
  const r = await cli(w, rotate(w, '--to-profile', 'ci'));
  assert.equal(r.code, 0, r.err);
  const o = JSON.parse(r.out);
  assert.deepEqual(o.destination, { toProfile: 'ci' });
  assert.deepEqual(o.filesUpdated, [w.credFile]);
  assert.match(o.filesSkipped[0].reason, /git tracks it: left as it is, the new key goes to profile \[ci\] instead/);
  assert.ok(o.checklist.some((c: string) => /AWS_PROFILE=ci/.test(c)));
  assert.equal(readFileSync(w.envFile, 'utf8'), w.envText, 'the tracked file is not touched');
  const text = readFileSync(w.credFile, 'utf8');
  assert.ok(text.startsWith(credBefore), 'the other profile is as it was');
  await oneWorkingKey(w, w.credFile, /\[ci\]\naws_access_key_id = (\S+)\naws_secret_access_key = (\S+)\n$/);
  assert.equal(statSync(w.credFile).mode & 0o777, 0o600);
});

test('--to-profile with no file at all (a key no file holds): the credentials file is created 0600; a rollback takes the profile out again', async (t) => {
  const w = await world(t, { commit: false });
  writeFileSync(w.envFile, 'APP_PORT=8080\n');
  const fresh = path.join(w.dir, 'fresh', 'credentials');
  const env = { AWS_SHARED_CREDENTIALS_FILE: fresh };
  // A key no file holds: without a destination the CLI says how to give one.
  const none = await cli(w, ['rotate', w.old.id, '--yes', '--format', 'json'], { ...env, HOME: path.join(w.dir, 'empty') });
  assert.notEqual(none.code, 0);
  assert.match(none.err, /--to-profile NAME/);
  const crashed = await cli(w, ['rotate', w.old.id, '--yes', '--format', 'json', '--to-profile', 'rotated'], {
    ...env,
    KEYSENTRY_TEST_CRASH_AFTER: 'verify',
  });
  assert.equal(crashed.signal, 'SIGKILL', crashed.err);
  assert.equal(statSync(fresh).mode & 0o777, 0o600);
  assert.equal(statSync(path.dirname(fresh)).mode & 0o777, 0o700);
  assert.match(readFileSync(fresh, 'utf8'), /^\[rotated\]\naws_access_key_id = AKIA/);
  const back = await cli(w, ['rotate', w.old.id, '--rollback', '--format', 'json'], env);
  assert.equal(back.code, 0, back.err);
  assert.equal(readFileSync(fresh, 'utf8'), '', 'the added profile is taken out');
  assert.deepEqual(await keysOf(w.user), [{ id: w.old.id, status: 'Active' }]);
  // And done to the end.
  const done = await cli(w, ['rotate', w.old.id, '--yes', '--format', 'json', '--to-profile', 'rotated'], env);
  assert.equal(done.code, 0, done.err);
  await oneWorkingKey(w, fresh, /^\[rotated\]\naws_access_key_id = (\S+)\naws_secret_access_key = (\S+)\n$/);
});

test('--to-profile naming a profile that holds another key, or a name that is not one, is refused', async (t) => {
  const w = await world(t);
  for (const [name, re] of [
    ['default', /already holds another key, AKIAOTHERPROFILE2345/],
    ['x]\n[y', /is not a profile name/],
  ] as const) {
    const r = await cli(w, rotate(w, '--to-profile', name));
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, re);
  }
  assert.deepEqual(await keysOf(w.user), [{ id: w.old.id, status: 'Active' }]);
});

test('--untrack never writes through a .gitignore that is a symlink (a hostile repository)', async (t) => {
  const w = await world(t);
  const victim = path.join(w.dir, 'victim');
  writeFileSync(victim, 'keep\n');
  symlinkSync(victim, path.join(w.repo, '.gitignore'));
  const r = await cli(w, rotate(w, '--untrack'));
  assert.notEqual(r.code, 0);
  assert.match(r.err, /is not a regular file.*Add \/\.env to it yourself/s);
  assert.equal(readFileSync(victim, 'utf8'), 'keep\n');
  assert.ok(lstatSync(path.join(w.repo, '.gitignore')).isSymbolicLink());
  assert.deepEqual(await keysOf(w.user), [{ id: w.old.id, status: 'Active' }], 'no AWS call changed anything');
  assert.equal(readFileSync(w.envFile, 'utf8'), w.envText);
});

test('profile edits: added after the header or in a new section, taken out exactly (CRLF too)', () => {
  const id = 'AKIAIOSFODNN7EXAMPLE';
  const s = 'x'.repeat(40);
  for (const text of ['', '[default]\nregion = x\n', '[default]\r\nregion = x\r\n', '[a]\nk = v', '[ci]\nregion = eu-west-1\n[b]\nk = v\n']) {
    const added = addProfilePair(text, 'ci', id, s);
    assert.ok(added.includes(`aws_access_key_id = ${id}`));
    assert.equal(removeProfilePair(added, 'ci', id, s), text.endsWith('\n') || text === '' ? text : `${text}\n`);
  }
});

test('a credentials file that cannot be rewritten as it is (hard-linked, read-only) is refused as a profile destination at plan time', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'credentials');
  writeFileSync(file, '[default]\nregion = x\n', { mode: 0o600 });
  assert.equal(inspectProfile('AKIAIOSFODNN7EXAMPLE', file, 'ci').ok, true);
  linkSync(file, path.join(dir, 'backup'));
  assert.match(inspectProfile('AKIAIOSFODNN7EXAMPLE', file, 'ci').reason ?? '', /2 hard links/);
  const ro = path.join(dir, 'ro');
  writeFileSync(ro, '', { mode: 0o444 });
  assert.match(inspectProfile('AKIAIOSFODNN7EXAMPLE', ro, 'ci').reason ?? '', /read-only/);
});

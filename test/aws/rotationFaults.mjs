// The rotation fault harness: random file layouts and secrets, the CLI killed at random instants
// (also while a call is in flight that AWS has already acted on), concurrent rotations of one key
// and of two keys of one user, then random sequences of --resume / --rollback (killed again
// sometimes) and a clean recovery; after each case it checks the invariants:
//   1. no rotation is left unfinished once recovery ran without faults;
//   2. IAM (moto, through the real SDK) holds exactly one active key for the user;
//   3. every file the rotation touched holds that key's id and its secret, and nothing else in the
//      file changed (other profiles, comments, quoting, CRLF, the symlink, the mode);
//   4. that pair authenticates: sts:GetCallerIdentity signed with it (moto_server.py checks the
//      signature) returns the user;
//   5. no CLI output and no file Keysentry stored (journal, undo, locks) holds a raw secret;
//   6. no temporary file remains (a lock's, of a killed process, may: it holds no secret), and no
//      lock file but a stale one of a killed process.
// Layouts include docker compose `environment:` lists, Kubernetes `env:` name/value items, and an
// application's own 40-character SECRET_KEY beside the pair (which must stay as it was); some cases
// run every CLI process with a clock minutes or an hour off IAM's (test/aws/clockSkew.cjs); some add
// `--to-profile rotated`: the credentials file must then hold the working pair in [rotated] after
// everything it had, or (rolled back) be exactly as it was.
// Used by bench/rotation-faults.mjs (a few hundred cases) and test/unit/rotate-faults.test.ts (a
// fixed-seed sample). Every case is generated from (seed, index) so a failure can be replayed.
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, IAMClient, ListAccessKeysCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { startFaultProxy } from './moto.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// KEYSENTRY_FAULTS_CLI runs the harness against another build (e.g. an older one, to see it fail).
const CLI = process.env.KEYSENTRY_FAULTS_CLI || path.join(ROOT, 'dist', 'cli.js');
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const NO_DIGIT = B64.replace(/[0-9]/g, '');
const seedCreds = { accessKeyId: 'seed', secretAccessKey: 'seed' };

// ---------- generated cases ----------

const secretArb = fc.oneof(
  fc.string({ unit: fc.constantFrom(...B64), minLength: 40, maxLength: 40 }),
  // about 1 in 1,470 real secrets has no digit: the scanner's plausibility filter drops those
  fc.string({ unit: fc.constantFrom(...NO_DIGIT), minLength: 40, maxLength: 40 }),
  fc.tuple(fc.string({ unit: fc.constantFrom(...B64), minLength: 39, maxLength: 39 }), fc.constantFrom('/', '+')).map(([a, b]) => a + b),
);
const fillerArb = fc.constantFrom('# a comment', '', 'region = eu-west-1', 'APP_PORT=8080', 'LOG_LEVEL=debug', '; note', 'output = json');
const layoutArb = fc.record({
  kind: fc.constantFrom('env', 'ini', 'yaml', 'json', 'shell', 'compose', 'k8s'),
  // an application's own secret (Flask's SECRET_KEY) in the same scope as the pair
  appSecret: fc.boolean(),
  distance: fc.integer({ min: 0, max: 12 }),
  secretFirst: fc.boolean(),
  quote: fc.constantFrom('', '"', "'"),
  crlf: fc.boolean(),
  filler: fc.array(fillerArb, { minLength: 0, maxLength: 12 }),
  otherPairs: fc.integer({ min: 0, max: 2 }),
  symlink: fc.boolean(),
  mode: fc.constantFrom(0o600, 0o640, 0o644),
});
const scenarioArb = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('kill'), killAfterMs: fc.integer({ min: 200, max: 2600 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('hang'),
      action: fc.constantFrom('CreateAccessKey', 'UpdateAccessKey', 'DeleteAccessKey', 'ListAccessKeys', 'GetCallerIdentity', 'GetAccessKeyLastUsed'),
      nth: fc.integer({ min: 1, max: 3 }),
      extraMs: fc.integer({ min: 0, max: 80 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('same-key'), offsetMs: fc.integer({ min: 0, max: 400 }), killOne: fc.option(fc.integer({ min: 300, max: 2500 }), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('two-keys'), offsetMs: fc.integer({ min: 0, max: 400 }), killOne: fc.option(fc.integer({ min: 300, max: 2500 }), { nil: undefined }) }) },
);
const recoveryArb = fc.array(fc.record({ op: fc.constantFrom('--resume', '--rollback'), killAfterMs: fc.option(fc.integer({ min: 150, max: 2000 }), { nil: undefined }) }), { minLength: 0, maxLength: 3 });
const caseArb = fc.record({
  oldSecret: secretArb,
  newSecrets: fc.array(secretArb, { minLength: 4, maxLength: 4 }),
  otherSecrets: fc.array(secretArb, { minLength: 2, maxLength: 2 }),
  layouts: fc.array(layoutArb, { minLength: 1, maxLength: 3 }),
  exposed: fc.boolean(),
  scenario: scenarioArb,
  recovery: recoveryArb,
  finalOp: fc.constantFrom('--resume', '--rollback'),
  // this machine's clock against IAM's: the stray-key recognition must not depend on it
  skewMs: fc.constantFrom(0, 0, 0, 150_000, -150_000, 3_600_000),
  // --to-profile rotated: the new key also goes into a credentials profile (an existing file, or none yet)
  toProfile: fc.constantFrom(undefined, undefined, undefined, 'existing', 'absent'),
});

/** The cases of (seed): the same list every time. */
export function generateCases(seed, count) {
  return fc.sample(caseArb, { seed, numRuns: count });
}

// A file as parts: literal text, and the places of the id and the secret.
const ID = { id: true };
const SECRET = { secret: true };

function layoutParts(l, i, others) {
  const nl = l.crlf ? '\r\n' : '\n';
  const q = l.quote;
  const gap = (n) => Array.from({ length: n }, (_, k) => l.filler[k % Math.max(1, l.filler.length)] ?? '# -');
  const parts = [];
  const line = (...p) => parts.push(...p, nl);
  const otherId = (k) => `AKIAOTHER${String(k).padStart(2, '0')}ZZZZZZZZZ`.slice(0, 20);
  if (l.kind === 'env' || l.kind === 'shell') {
    const ex = l.kind === 'shell' ? 'export ' : '';
    line(l.kind === 'shell' ? '#!/bin/sh' : '# service settings');
    for (let k = 0; k < l.otherPairs; k++) line(`${ex}OTHER${k}_AWS_ACCESS_KEY_ID=${otherId(k)}`, nl, `${ex}OTHER${k}_AWS_SECRET_ACCESS_KEY=${q}${others[k % others.length]}${q}`);
    const idLine = [`${ex}AWS_ACCESS_KEY_ID=${q}`, ID, q];
    const secLine = [`${ex}AWS_SECRET_ACCESS_KEY=${q}`, SECRET, `${q}${q ? ' # the secret' : ''}`];
    const [a, b] = l.secretFirst ? [secLine, idLine] : [idLine, secLine];
    line(...a);
    for (const g of gap(l.distance)) line(g.replace(' = ', '='));
    if (l.appSecret) line(`${ex}SECRET_KEY=${q}${others[1 % others.length]}${q}`);
    line(...b);
    line('# end');
  } else if (l.kind === 'ini') {
    for (let k = 0; k < l.otherPairs; k++) line(`[other${k}]`, nl, `aws_access_key_id = ${otherId(k)}`, nl, `aws_secret_access_key = ${others[k % others.length]}`, nl);
    line('; the dev profile');
    line('[dev]');
    const idLine = ['aws_access_key_id = ', ID];
    const secLine = ['aws_secret_access_key=', SECRET];
    const [a, b] = l.secretFirst ? [secLine, idLine] : [idLine, secLine];
    line(...a);
    for (const g of gap(l.distance)) line(g.includes('=') && !g.includes(' = ') ? g.toLowerCase() : g);
    if (l.appSecret) line(`secret_key = ${others[1 % others.length]}`);
    line(...b);
    line('[zzz]', nl, 'aws_secret_access_key = ', others[0]);
  } else if (l.kind === 'yaml') {
    line('app:');
    line('  name: demo');
    for (let k = 0; k < l.otherPairs; k++) line(`  other${k}:`, nl, `    access_key_id: ${otherId(k)}`, nl, `    secret_access_key: ${q}${others[k % others.length]}${q}`);
    line('  aws:');
    const idLine = [`    access_key_id: ${q}`, ID, q];
    const secLine = [`    secret_access_key: ${q}`, SECRET, q];
    const [a, b] = l.secretFirst ? [secLine, idLine] : [idLine, secLine];
    line(...a);
    if (l.appSecret) line(`    secret_key: ${q}${others[1 % others.length]}${q}`);
    line('    nested:');
    for (let k = 0; k < l.distance; k++) line(`      k${k}: v${k}`);
    line(...b);
    line('decoy:', nl, `  secret_access_key: ${others[1 % others.length]}`);
  } else if (l.kind === 'compose') {
    line('services:', nl, '  api:', nl, '    image: app:1', nl, '    environment:');
    const item = (name, value) => [`      - ${q}${name}=`, value, q];
    const [a, b] = l.secretFirst ? [item('AWS_SECRET_ACCESS_KEY', SECRET), item('AWS_ACCESS_KEY_ID', ID)] : [item('AWS_ACCESS_KEY_ID', ID), item('AWS_SECRET_ACCESS_KEY', SECRET)];
    line(...a);
    for (let k = 0; k < l.distance; k++) line(`      - SETTING_${k}=v${k}`);
    if (l.appSecret) line(`      - SECRET_KEY=${others[1 % others.length]}`);
    line(...b);
    line('  worker:', nl, '    environment:', nl, `      - AWS_SECRET_ACCESS_KEY=${others[0]}`);
  } else if (l.kind === 'k8s') {
    line('apiVersion: v1', nl, 'kind: Pod', nl, 'spec:', nl, '  containers:', nl, '    - name: api', nl, '      env:');
    const item = (name, value) => [`        - name: ${name}`, nl, `          value: ${q}`, value, q];
    const [a, b] = l.secretFirst ? [item('AWS_SECRET_ACCESS_KEY', SECRET), item('AWS_ACCESS_KEY_ID', ID)] : [item('AWS_ACCESS_KEY_ID', ID), item('AWS_SECRET_ACCESS_KEY', SECRET)];
    line(...a);
    for (let k = 0; k < l.distance; k++) line(`        - name: SETTING_${k}`, nl, `          value: "v${k}"`);
    if (l.appSecret) line('        - name: SECRET_KEY', nl, `          value: ${others[1 % others.length]}`);
    line(...b);
    line('    - name: sidecar', nl, '      env:', nl, '        - name: AWS_SECRET_ACCESS_KEY', nl, `          value: ${others[0]}`);
  } else {
    const sp = l.crlf ? '' : ' ';
    parts.push('{', nl, `${sp}"other": {"AccessKeyId": "${otherId(0)}", "SecretAccessKey": "${others[0]}"},`, nl, `${sp}"creds": {`, nl);
    const idLine = ['"AccessKeyId": "', ID, '"'];
    const secLine = ['"SecretAccessKey": "', SECRET, '"'];
    const [a, b] = l.secretFirst ? [secLine, idLine] : [idLine, secLine];
    parts.push(...a, ',', nl);
    if (l.appSecret) parts.push(`  "SecretKey": "${others[1 % others.length]}",`, nl);
    for (let k = 0; k < l.distance; k++) parts.push(`  "k${k}": ${k % 2 ? `"v${k}"` : `[${k}, {"x": "y"}]`},`, nl);
    parts.push(...b, nl, '}', nl, '}', nl);
  }
  const names = { env: '.env', ini: 'credentials', yaml: 'config.yaml', json: 'settings.json', shell: 'env.sh', compose: 'docker-compose.yml', k8s: 'pod.yaml' };
  return { name: `f${i}-${names[l.kind]}`, parts };
}

const render = (parts, id, secret) => parts.map((p) => (p === ID ? id : p === SECRET ? secret : p)).join('');
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The secret in `text` if it is `parts` with `id` (and one secret throughout), else undefined. */
function matchParts(parts, text, id) {
  let re = '';
  let seenSecret = false;
  for (const p of parts) {
    if (p === ID) re += escapeRe(id);
    else if (p === SECRET) {
      re += seenSecret ? '\\k<s>' : '(?<s>[A-Za-z0-9/+]{40})';
      seenSecret = true;
    } else re += escapeRe(p);
  }
  return new RegExp(`^${re}$`).exec(text)?.groups?.s;
}

// ---------- running ----------

function runCli(env, cwd, args, outputs, { killAfterMs, killOn } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    const timers = [];
    if (killAfterMs !== undefined) timers.push(setTimeout(() => child.kill('SIGKILL'), killAfterMs));
    timers.push(setTimeout(() => child.kill('SIGKILL'), 90_000));
    const off = killOn?.((delay) => timers.push(setTimeout(() => child.kill('SIGKILL'), delay)));
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      off?.();
      outputs.push(out, err);
      resolve({ code, signal, out, err });
    });
  });
}

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** Runs one case against moto (its own user and proxy); resolves to { violations, summary, outcomes }. */
export async function runCase(moto, c, label, allSecrets = []) {
  const violations = [];
  const outputs = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'keysentry-faults-'));
  const proxy = await startFaultProxy(moto.endpoint);
  const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: seedCreds });
  const user = `dev-${label}`;
  const admin = `admin-${label}`;
  const summary = `${c.scenario.type}${c.scenario.action ? `(${c.scenario.action}#${c.scenario.nth})` : ''} ${c.exposed ? 'exposed' : 'not-exposed'} files=${c.layouts.map((l) => `${l.kind}${l.appSecret ? '+app-secret' : ''}${l.symlink ? '@link' : ''}/d${l.distance}${l.secretFirst ? '/secret-first' : ''}${l.quote ? `/q${l.quote}` : ''}${l.crlf ? '/crlf' : ''}`).join(',')} recovery=${c.recovery.map((r) => `${r.op}${r.killAfterMs !== undefined ? `~kill@${r.killAfterMs}` : ''}`).join(',') || '-'} then ${c.finalOp}${c.skewMs ? ` clock${c.skewMs > 0 ? '+' : ''}${c.skewMs / 1000}s` : ''}${c.toProfile ? ` to-profile(${c.toProfile})` : ''}`;
  try {
    await iam.send(new CreateUserCommand({ UserName: admin }));
    const adminKey = (await iam.send(new CreateAccessKeyCommand({ UserName: admin }))).AccessKey;
    await iam.send(new CreateUserCommand({ UserName: user }));
    const old = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey;
    await moto.setSecret(old.AccessKeyId, c.oldSecret);
    const oldId = old.AccessKeyId;
    const secrets = [c.oldSecret, ...c.newSecrets, ...c.otherSecrets, adminKey.SecretAccessKey, ...allSecrets];
    let second;
    if (c.scenario.type === 'two-keys') {
      second = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey;
      secrets.push(second.SecretAccessKey);
      await iam.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: second.AccessKeyId, Status: 'Inactive' }));
    }
    await moto.nextSecrets(c.newSecrets);

    const project = path.join(dir, 'project');
    const dotfiles = path.join(dir, 'dotfiles');
    mkdirSync(project);
    mkdirSync(dotfiles);
    const files = c.layouts.map((l, i) => {
      const { name, parts } = layoutParts(l, i, c.otherSecrets);
      const listed = path.join(project, name);
      const target = l.symlink ? path.join(dotfiles, name) : listed;
      writeFileSync(target, render(parts, oldId, c.oldSecret), { mode: l.mode });
      if (l.symlink) symlinkSync(target, listed);
      return { listed, target, parts, mode: statSync(target).mode & 0o7777, symlink: l.symlink };
    });
    let secondFile;
    if (second) {
      secondFile = path.join(project, 'second.env');
      writeFileSync(secondFile, `AWS_ACCESS_KEY_ID=${second.AccessKeyId}\nAWS_SECRET_ACCESS_KEY=${second.SecretAccessKey}\n`, { mode: 0o600 });
    }
    const ksHome = path.join(dir, 'keysentry');
    const credFile = path.join(dir, 'aws', 'credentials');
    const credBase = c.toProfile === 'existing' ? `[default]\naws_access_key_id = AKIAOTHER00ZZZZZZZZZ\naws_secret_access_key = ${c.otherSecrets[0]}\n` : '';
    if (c.toProfile === 'existing') {
      mkdirSync(path.dirname(credFile), { recursive: true });
      writeFileSync(credFile, credBase, { mode: 0o600 });
    }
    const env = {
      ...process.env,
      HOME: dir,
      KEYSENTRY_HOME: ksHome,
      AWS_SHARED_CREDENTIALS_FILE: c.toProfile ? credFile : path.join(dir, 'no-credentials'),
      AWS_CONFIG_FILE: path.join(dir, 'no-config'),
      AWS_ACCESS_KEY_ID: adminKey.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: adminKey.SecretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      KEYSENTRY_VERIFY_INTERVAL_MS: '100',
      KEYSENTRY_VERIFY_TIMEOUT_MS: '4000',
      KEYSENTRY_AWS_MAX_ATTEMPTS: '3',
      NO_COLOR: '1',
    };
    delete env.AWS_PROFILE;
    delete env.KEYSENTRY_TEST_CRASH_AFTER;
    if (c.skewMs) {
      env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${path.join(ROOT, 'test', 'aws', 'clockSkew.cjs')}`.trim();
      env.KEYSENTRY_TEST_CLOCK_SKEW_MS = String(c.skewMs);
    }
    const rotateArgs = (id, list, extra = []) => ['rotate', id, '--yes', '--format', 'json', c.exposed ? '--exposed' : '--not-exposed', ...list.flatMap((f) => ['--update', f]), ...(c.toProfile && id === oldId ? ['--to-profile', 'rotated'] : []), ...extra];
    const listed = files.map((f) => f.listed);

    // Phase 1: the fault.
    const s = c.scenario;
    if (s.type === 'kill') {
      await runCli(env, project, rotateArgs(oldId, listed), outputs, { killAfterMs: s.killAfterMs });
    } else if (s.type === 'hang') {
      // Let the first nth-1 calls of the action through, then hang the next one: it reaches moto, the answer never comes back.
      proxy.inject(s.action, 'hang', 1, s.nth - 1);
      const killOn = (kill) => proxy.onAnswered(() => kill(s.extraMs));
      await runCli(env, project, rotateArgs(oldId, listed), outputs, { killOn });
      proxy.clear();
    } else if (s.type === 'same-key') {
      await Promise.all([
        runCli(env, project, rotateArgs(oldId, listed), outputs, { killAfterMs: s.killOne }),
        new Promise((r) => setTimeout(r, s.offsetMs)).then(() => runCli(env, project, rotateArgs(oldId, listed), outputs)),
      ]);
    } else {
      await Promise.all([
        runCli(env, project, rotateArgs(oldId, listed, ['--delete-inactive']), outputs, { killAfterMs: s.killOne }),
        new Promise((r) => setTimeout(r, s.offsetMs)).then(() => runCli(env, project, rotateArgs(second.AccessKeyId, [secondFile], ['--delete-inactive']), outputs)),
      ]);
    }

    const running = () =>
      walk(path.join(ksHome, 'rotations'))
        .filter((f) => f.endsWith('.json'))
        .map((f) => JSON.parse(readFileSync(f, 'utf8')))
        .filter((j) => j.status === 'running');

    // Phase 2: random resume / rollback, sometimes killed again.
    for (const r of c.recovery) {
      for (const j of running()) await runCli(env, project, ['rotate', j.keyId, r.op, '--format', 'json'], outputs, { killAfterMs: r.killAfterMs });
    }
    // Phase 3: a clean recovery (a rollback that stops because a file needs the new key is followed by a resume).
    const last = [];
    for (let round = 0; round < 4 && running().length; round++) {
      for (const j of running()) {
        const r = await runCli(env, project, ['rotate', j.keyId, round === 0 ? c.finalOp : '--resume', '--format', 'json'], outputs);
        last.push(r);
        // A key that appeared around an interrupted CreateAccessKey is named, never deleted on a
        // guess (#13.2). Nobody else creates keys here, so the user's answer is "it is the lost
        // one": run the delete command the refusal gives, as the user would, then recover again.
        for (const m of r.err.matchAll(/aws iam delete-access-key --user-name '([^']+)' --access-key-id (\w+)/g)) {
          if (m[1] !== user) violations.push(`the refusal names user ${m[1]}, not ${user}`);
          else await iam.send(new DeleteAccessKeyCommand({ UserName: user, AccessKeyId: m[2] }));
        }
      }
    }

    // ---------- invariants ----------
    const left = running();
    if (left.length) violations.push(`unfinished after a clean recovery: ${left.map((j) => j.keyId).join(', ')} (${last.map((r) => r.err.trim().split('\n').slice(-3).join(' | ')).join(' // ')})`);
    const keys = (await iam.send(new ListAccessKeysCommand({ UserName: user }))).AccessKeyMetadata ?? [];
    const active = keys.filter((k) => k.Status === 'Active');
    if (active.length !== 1) violations.push(`IAM: ${active.length} active keys for ${user} (${keys.map((k) => `${k.AccessKeyId}:${k.Status}`).join(', ')})`);
    if (!second && keys.length !== 1) violations.push(`IAM: ${keys.length} keys for ${user}, expected exactly one`);
    const activeId = active[0]?.AccessKeyId;
    for (const f of files) {
      const text = readFileSync(f.target, 'utf8');
      const st = statSync(f.target);
      if (f.symlink && !lstatSync(f.listed).isSymbolicLink()) violations.push(`${path.basename(f.listed)}: the symlink was replaced by a file`);
      if ((st.mode & 0o7777) !== f.mode) violations.push(`${path.basename(f.listed)}: mode ${(st.mode & 0o7777).toString(8)}, was ${f.mode.toString(8)}`);
      if (!activeId) continue;
      const secret = matchParts(f.parts, text, activeId);
      if (!secret) {
        const holdsOld = matchParts(f.parts, text, oldId) !== undefined;
        violations.push(`${path.basename(f.listed)}: does not hold the working key ${activeId} exactly where the old pair was (${holdsOld ? `it holds the old key ${oldId}` : 'other content'})`);
        continue;
      }
      secrets.push(secret);
      try {
        // Retried only on the emulator's own hiccups (a 500 under load), never on an authentication error.
        const sts = new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: activeId, secretAccessKey: secret }, maxAttempts: 3 });
        const arn = (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? '';
        if (!arn.endsWith(`:user/${user}`)) violations.push(`${path.basename(f.listed)}: its pair signs as ${arn}`);
      } catch (e) {
        violations.push(`${path.basename(f.listed)}: its pair does not authenticate (${e.name}: ${String(e.message).slice(0, 200)})`);
      }
    }
    if (c.toProfile && activeId) {
      const text = existsSync(credFile) ? readFileSync(credFile, 'utf8') : '';
      if (activeId === oldId) {
        if (text !== credBase) violations.push(`credentials: rolled back, but the file is not as it was (${text.length} bytes, was ${credBase.length})`);
      } else {
        const m = text.startsWith(credBase) ? /^\n?\[rotated\]\naws_access_key_id = (\S+)\naws_secret_access_key = (\S+)\n$/.exec(text.slice(credBase.length)) : null;
        if (!m || m[1] !== activeId) violations.push(`credentials: [rotated] does not hold the working key ${activeId} after the file's own content`);
        else {
          secrets.push(m[2]);
          if ((statSync(credFile).mode & 0o777) !== 0o600) violations.push(`credentials: mode ${(statSync(credFile).mode & 0o777).toString(8)}, not 600`);
          try {
            const sts = new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: m[1], secretAccessKey: m[2] }, maxAttempts: 3 });
            const arn = (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? '';
            if (!arn.endsWith(`:user/${user}`)) violations.push(`credentials: [rotated] signs as ${arn}`);
          } catch (e) {
            violations.push(`credentials: [rotated] does not authenticate (${e.name})`);
          }
        }
      }
    }
    const stored = walk(ksHome);
    for (const p of stored) {
      const name = path.basename(p);
      // A killed process cannot remove its lock: one may remain, but only a stale one (its pid gone), which the next process breaks.
      if (/\.lock$|\.break$/.test(name)) {
        let pid;
        try {
          pid = JSON.parse(readFileSync(p, 'utf8')).pid;
        } catch {
          pid = undefined;
        }
        let alive = false;
        try {
          process.kill(pid, 0);
          alive = true;
        } catch {
          alive = false;
        }
        if (alive || pid === undefined) violations.push(`a lock file of a live (or unknown) owner remains: ${name}`);
      }
      if (/\.undo$/.test(name) && !left.length) violations.push(`the undo file remains after the rotation ended: ${name}`);
    }
    const texts = stored.map((p) => readFileSync(p, 'utf8'));
    for (const sec of secrets) {
      if (outputs.some((o) => o.includes(sec))) violations.push(`a raw secret (${sec.slice(0, 4)}…) in the CLI output`);
      stored.forEach((p, i) => {
        if (texts[i].includes(sec)) violations.push(`a raw secret (${sec.slice(0, 4)}…) in ${path.relative(ksHome, p)}`);
      });
    }
    // A killed process cannot remove its temporary files; the next process on the key or file
    // sweeps them. One may remain only if its process is gone and it holds no secret (a lock's).
    for (const p of [...walk(project), ...walk(dotfiles), ...walk(path.join(dir, 'aws')), ...stored]) {
      const name = path.basename(p);
      if (!/\.tmp$|keysentry-\d+/.test(name)) continue;
      const pid = Number(/(?:keysentry-|\.)(\d+)[.-][0-9a-f]+\.tmp$/.exec(name)?.[1]);
      let alive = !pid;
      try {
        if (pid) process.kill(pid, 0);
        alive = true;
      } catch {
        alive = false;
      }
      const text = readFileSync(p, 'utf8');
      if (alive) violations.push(`a temporary file of a live (or unknown) process remains: ${path.relative(dir, p)}`);
      else if (secrets.some((sec) => text.includes(sec))) violations.push(`a temporary file holding a secret remains: ${path.relative(dir, p)}`);
      else if (!/\.lock(\.break)?\.\d+\.[0-9a-f]+\.tmp$/.test(name)) violations.push(`a temporary file remains: ${path.relative(dir, p)}`);
    }
    return { violations, summary };
  } catch (e) {
    violations.push(`harness error: ${e.stack ?? e}`);
    return { violations, summary };
  } finally {
    await proxy.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `count` cases of `seed`, `parallel` at a time; resolves to { run, held, failures }. */
export async function runCases(moto, { seed, count, parallel = 2, onCase }) {
  const cases = generateCases(seed, count);
  // moto's queue of new secrets is shared by the cases running at once: check each against all.
  const allSecrets = [...new Set(cases.flatMap((c) => c.newSecrets))];
  const failures = [];
  let next = 0;
  let run = 0;
  const worker = async () => {
    while (next < cases.length) {
      const index = next++;
      const r = await runCase(moto, cases[index], `${seed}-${index}`, allSecrets);
      run++;
      if (r.violations.length) failures.push({ seed, index, summary: r.summary, violations: r.violations });
      onCase?.(index, r);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { run, held: run - failures.length, failures };
}

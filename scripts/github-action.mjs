#!/usr/bin/env node
// The entry point of Keysentry's GitHub Action (action.yml). Runs the built CLI the way a runner
// would: inputs in INPUT_* variables, the triggering event in $GITHUB_EVENT_PATH, outputs appended
// to $GITHUB_OUTPUT, the checkout in $GITHUB_WORKSPACE. Plain Node, no dependencies.
//
//   mode=push  the commits this event brings: a push's before..after (everything reachable from
//              `after` for a new branch), a pull request's base..head. The same scan as the
//              pre-push hook (content, names, messages, headers, tags). Needs the history:
//              actions/checkout with fetch-depth: 0.
//   mode=tree  every file git would commit in the checkout (keysentry scan).
//
// The SARIF file is written either way (mode 0600, in $RUNNER_TEMP unless sarif-file says
// otherwise; findings in it are masked) for the upload step. Exit status is the CLI's: 0 clean, 1 findings, 2 the scan failed or (fail-closed)
// something could not be scanned, 3 (tree, fail-on-skip) something was skipped.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const actionPath = process.env.GITHUB_ACTION_PATH || path.resolve(here, '..');
const cli = path.join(actionPath, 'dist', 'cli.js');
const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
// The runner names inputs INPUT_<NAME> with spaces as "_" and hyphens kept; action.yml passes them with "_".
const input = (name, fallback = '') => {
  const key = `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
  return (process.env[key] ?? process.env[key.replace(/-/g, '_')] ?? '').trim() || fallback;
};
// Workflow commands: data escapes %, CR, LF; property values also ":" and ",".
const escapeData = (s) => String(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
const mode = input('mode', 'push');
const failOnSkip = input('fail-on-skip', 'true') === 'true';
// Outside the checkout by default: the SARIF file names key ids (masked secrets), and a later
// scan of the tree would report them.
const sarifFile = input('sarif-file') ? path.resolve(workspace, input('sarif-file')) : path.join(process.env.RUNNER_TEMP || os.tmpdir(), `keysentry-${process.pid}.sarif`);
const ZERO = /^0+$/;

function output(name, value) {
  if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `${name}=${value}\n`);
}
function fail(message, code = 2) {
  // ::error:: makes it an annotation; the message never holds a secret (it is ours).
  process.stderr.write(`::error title=Keysentry::${escapeData(message)}\n`);
  output('findings', '');
  process.exit(code);
}

/** The pre-push ref line for this event: `<local ref> <local sha> <remote ref> <remote sha>`. */
function pushInput(event, eventName) {
  if (eventName === 'pull_request' || eventName === 'pull_request_target' || event.pull_request) {
    const pr = event.pull_request;
    if (!pr?.head?.sha || !pr?.base?.sha) fail('the pull_request event has no head or base commit');
    return `refs/pull/${pr.number ?? 0}/head ${pr.head.sha} refs/heads/${pr.base.ref ?? 'base'} ${pr.base.sha}\n`;
  }
  const after = event.after ?? process.env.GITHUB_SHA;
  if (!after || ZERO.test(after)) return ''; // a deleted branch: nothing pushed
  const ref = event.ref ?? process.env.GITHUB_REF ?? 'refs/heads/unknown';
  const before = event.before && !ZERO.test(event.before) ? event.before : '0'.repeat(after.length);
  return `${ref} ${after} ${ref} ${before}\n`;
}

if (!existsSync(cli)) fail(`the Keysentry CLI is not built at ${cli} (the action's build step did not run)`);
let args;
let stdin = '';
if (mode === 'push') {
  let event = {};
  if (process.env.GITHUB_EVENT_PATH) {
    try {
      event = JSON.parse(readFileSync(process.env.GITHUB_EVENT_PATH, 'utf8'));
    } catch (e) {
      fail(`cannot read the event at $GITHUB_EVENT_PATH: ${e.message}`);
    }
  }
  stdin = pushInput(event, process.env.GITHUB_EVENT_NAME ?? '');
  const before = stdin.split(' ')[3]?.trim();
  if (before && !ZERO.test(before)) {
    const known = spawnSync('git', ['cat-file', '-e', `${before}^{commit}`], { cwd: workspace });
    if (known.status !== 0) fail(`commit ${before.slice(0, 12)} (the start of the pushed range) is not in the checkout: use actions/checkout with fetch-depth: 0`);
  }
  // A remote name with no remote-tracking refs: only the event's own range is excluded (the
  // checkout's refs/remotes/origin/* already point at the pushed commits).
  args = ['pre-push', '--fail-closed', '--no-record', '--ignore-submodule-hooks', '--format', 'sarif', '--', 'keysentry-ci', 'keysentry-ci'];
} else if (mode === 'tree') {
  args = ['scan', '--format', 'sarif', ...(failOnSkip ? ['--fail-on-skip'] : []), workspace];
} else {
  fail(`mode must be "push" or "tree" (got "${mode}")`);
}

const run = spawnSync(process.execPath, [cli, ...args], { cwd: workspace, input: stdin, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
if (run.error) fail(`cannot run the Keysentry CLI: ${run.error.message}`);
if (run.stderr) process.stderr.write(run.stderr);
let sarif;
try {
  sarif = JSON.parse(run.stdout);
} catch {
  fail(`the scan produced no SARIF (exit ${run.status})`, run.status || 2);
}
mkdirSync(path.dirname(sarifFile), { recursive: true });
writeFileSync(sarifFile, JSON.stringify(sarif, null, 2) + '\n', { mode: 0o600 });
const results = sarif.runs?.[0]?.results ?? [];
for (const r of results) {
  const loc = r.locations?.[0]?.physicalLocation;
  const file = loc?.artifactLocation?.uri ? decodeURIComponent(loc.artifactLocation.uri) : '';
  const props = [file && `file=${escapeProperty(file)}`, loc?.region?.startLine && `line=${Number(loc.region.startLine)}`, 'title=Keysentry'].filter(Boolean).join(',');
  // Annotations carry the masked message only.
  process.stdout.write(`::error ${props}::${escapeData(r.message.text)}\n`);
}
process.stdout.write(`Keysentry (${mode}): ${results.length} finding(s); SARIF in ${path.relative(workspace, sarifFile) || sarifFile}\n`);
output('findings', String(results.length));
output('sarif-file', sarifFile);
process.exit(run.status ?? 2);

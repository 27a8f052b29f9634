// Runs the integration suite in a real VS Code (code-server 4.100.3 = VS Code 1.100.3) driven by
// Debian Chromium through playwright-core, then UI checks a person would make (the sidebar, the
// Problems panel, screenshots). Relays results, ends with "N passed, N failed", sets the exit code,
// always cleans up its processes, and fails if any raw fixture secret appears in any output.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDemoWorkspace, secretNeedles } from '../fixtures/fake-keys.mjs';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, ListAccessKeysCommand, ListAttachedUserPoliciesCommand } from '@aws-sdk/client-iam';
import { startMoto } from '../aws/moto.mjs';
import { seedAccount } from '../aws/seedAccount.mjs';
import { addLeakedKeyIncident, seedAttack } from '../aws/seedAttack.mjs';
import { seedKeyPair } from '../aws/seedKeyPair.mjs';
import { queueBill, seedTraffic } from '../aws/seedTraffic.mjs';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { launchChromium, startCodeServer, workbenchUrl } from './code-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const resultsDir = path.join(root, 'test-results');
// Screenshots go to test-results/ (git-ignored), so a test run leaves the work tree as it found it;
// `npm run screenshots` (KEYSENTRY_SCREENSHOTS=docs) refreshes the README's in docs/screenshots.
const screenshotsDir = process.env.KEYSENTRY_SCREENSHOTS === 'docs' ? path.join(root, 'docs', 'screenshots') : path.join(resultsDir, 'screenshots');
mkdirSync(resultsDir, { recursive: true });
mkdirSync(screenshotsDir, { recursive: true });

const results = [];
const record = (title, state, ms, error) => {
  results.push({ title, state, ms, error });
  console.log(`${state === 'passed' ? '  ✓' : '  ✗'} ${title} (${ms} ms)${error ? `\n      ${String(error).split('\n').slice(0, 6).join('\n      ')}` : ''}`);
};

const tmp = mkdtempSync(path.join(tmpdir(), 'keysentry-it-'));
const secrets = [];
let server;
let browser;
let moto;
const serverLog = [];

function* walkFiles(dir) {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walkFiles(p);
    else if (e.isFile() && statSync(p).size < 50 * 1024 * 1024) yield p;
  }
}

// KEYSENTRY_TEST_GREP (a regular expression) runs only the matching tests, in both phases.
const grep = process.env.KEYSENTRY_TEST_GREP ? new RegExp(process.env.KEYSENTRY_TEST_GREP) : undefined;

async function uiTest(page, title, fn) {
  if (grep && !grep.test(title)) return;
  const started = Date.now();
  try {
    await fn();
    record(title, 'passed', Date.now() - started);
  } catch (e) {
    const shot = path.join(resultsDir, `failed-${title.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}.png`);
    await page.screenshot({ path: shot }).catch(() => {});
    record(title, 'failed', Date.now() - started, `${e?.stack ?? e}\n(screenshot: ${path.relative(root, shot)})`);
  }
}

async function main() {
  for (const f of ['dist/extension.js', 'dist/cli.js', 'out/test/integration/index.js']) {
    if (!existsSync(path.join(root, f))) throw new Error(`${f} is missing: run "node esbuild.config.mjs --tests" first`);
  }
  const wsA = makeDemoWorkspace(path.join(tmp, 'suite', 'demo-shop'));
  const wsB = makeDemoWorkspace(path.join(tmp, 'ui', 'demo-shop'));
  // The UI phase takes screenshots for the README: no hook offer toast over them.
  mkdirSync(path.join(wsB.dir, '.vscode'), { recursive: true });
  writeFileSync(path.join(wsB.dir, '.vscode', 'settings.json'), JSON.stringify({ 'keysentry.prePush.offerHook': false }, null, 2));
  secrets.push(...wsA.secrets, ...wsB.secrets);
  const resultsFile = path.join(tmp, 'results.json');

  // moto stands in for AWS: the seeded account of the incident tests (an admin who signs, an old
  // key, a user without MFA, an open SSH rule, instances in two regions), and a developer whose
  // key sits in a .env of wsB.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  moto = await startMoto();
  const seeded = await seedAccount(moto);
  secrets.push(...seeded.secrets);
  // Seed 2 (audit area): the Mumbai instance's night of traffic to Bahrain, and the bill showing it.
  await seedTraffic(moto.endpoint, { relay: seeded.stray.instance, quiet: [{ region: 'us-east-1', instance: seeded.web.instance }], days: 3 });
  for (let i = 0; i < 4; i++) await queueBill(moto.endpoint);
  const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'seed', secretAccessKey: 'seed' } });
  const userKey = async (user) => {
    await iam.send(new CreateUserCommand({ UserName: user }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey;
    secrets.push(k.SecretAccessKey);
    return k;
  };
  const admin = { AccessKeyId: seeded.admin.id, SecretAccessKey: seeded.admin.secret };
  const dev = await userKey('billing-dev');
  const rotateEnv = path.join(wsB.dir, 'services', 'billing', '.env');
  mkdirSync(path.dirname(rotateEnv), { recursive: true });
  const rotateEnvText = `# billing service\nAWS_ACCESS_KEY_ID=${dev.AccessKeyId}\nAWS_SECRET_ACCESS_KEY=${dev.SecretAccessKey}\nQUEUE=billing\n`;
  writeFileSync(rotateEnv, rotateEnvText);
  const awsHome = path.join(tmp, 'aws-home');
  mkdirSync(awsHome, { recursive: true });
  const awsEnv = {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: admin.AccessKeyId,
    AWS_SECRET_ACCESS_KEY: admin.SecretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_SHARED_CREDENTIALS_FILE: path.join(awsHome, 'credentials'),
    AWS_CONFIG_FILE: path.join(awsHome, 'config'),
    KEYSENTRY_HOME: path.join(tmp, 'keysentry-home'),
    KEYSENTRY_VERIFY_INTERVAL_MS: '200',
  };
  // investigate: the billing key's incident, as a notice would open it (its activity window starts at the push).
  addLeakedKeyIncident(path.join(awsEnv.KEYSENTRY_HOME, 'incidents.json'), dev.AccessKeyId, 'billing-dev', 'services/billing/.env', new Date(Date.now() - 2 * 86_400_000 - 5 * 60_000).toISOString());
  // What the suite expects the audit to find (ids only: no secret).
  // containment: the suite workspace's deploy/server.pem is an EC2 key pair with an instance (as in the demo)
  const keyPair = await seedKeyPair(moto, path.join(wsA.dir, 'deploy', 'server.pem'));
  const seedInfo = JSON.stringify({ web: seeded.web, stray: seeded.stray, recent: seeded.recent, oldKeyId: seeded.oldKeyId, keyPair });
  server = await startCodeServer({ env: { KEYSENTRY_TEST_RESULTS: resultsFile, KEYSENTRY_TEST_SEED: seedInfo, ...(process.env.KEYSENTRY_TEST_GREP ? { KEYSENTRY_TEST_GREP: process.env.KEYSENTRY_TEST_GREP } : {}), ...awsEnv }, log: (s) => serverLog.push(s) });
  browser = await launchChromium();

  // Phase 1: the mocha suite inside the extension host.
  const suiteStarted = Date.now();
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  page.on('console', (m) => serverLog.push(`[browser] ${m.text()}\n`));
  await page.goto(workbenchUrl(server.port, wsA.dir, { extensionDevelopmentPath: root, extensionTestsPath: path.join(root, 'out', 'test', 'integration') }));
  const deadline = Date.now() + 10 * 60_000;
  while (!existsSync(resultsFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  if (!existsSync(resultsFile)) {
    await page.screenshot({ path: path.join(resultsDir, 'failed-suite-timeout.png') }).catch(() => {});
    record('integration suite finished', 'failed', Date.now() - suiteStarted, 'no results after 10 minutes (screenshot: test-results/failed-suite-timeout.png)');
  } else {
    const suite = JSON.parse(readFileSync(resultsFile, 'utf8'));
    for (const r of suite.results) record(`[extension host] ${r.title}`, r.state, r.ms, r.error);
  }
  await page.close();

  // Phase 2: what a person sees, in a fresh window on a fresh copy of the demo workspace.
  const ui = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  await ui.goto(workbenchUrl(server.port, wsB.dir, { extensionDevelopmentPath: root }));
  await uiTest(ui, '[ui] the workbench loads with the Keysentry activity bar entry', async () => {
    await ui.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await ui.locator('.activitybar [aria-label^="Keysentry"]').first().waitFor({ timeout: 60_000 });
  });
  // Activation as VS Code measures it (code loading + activate call, the Running Extensions view),
  // not only the time inside activate(): written to test-results/activation.json for the README.
  await uiTest(ui, '[ui] activation time as VS Code reports it (Developer: Show Running Extensions)', async () => {
    await ui.locator('.statusbar-item').filter({ hasText: /\d/ }).first().waitFor({ timeout: 60_000 });
    await ui.keyboard.press('F1');
    await ui.keyboard.type('Developer: Show Running Extensions');
    await ui.waitForTimeout(400);
    await ui.keyboard.press('Enter');
    const row = ui.locator('.runtime-extensions-editor .monaco-list-row').filter({ hasText: 'Keysentry' }).first();
    await row.waitFor({ timeout: 30_000 });
    await ui.waitForTimeout(500);
    const text = await row.innerText();
    const ms = /(\d+)\s*ms/.exec(text)?.[1];
    if (!ms) throw new Error(`no activation time in: ${text}`);
    writeFileSync(path.join(resultsDir, 'activation.json'), JSON.stringify({ activationMs: Number(ms), row: text.replace(/\s+/g, ' ').trim() }, null, 2) + '\n');
    console.log(`Keysentry activation as VS Code reports it: ${ms} ms (${text.replace(/\s+/g, ' ').trim()})`);
    await ui.screenshot({ path: path.join(screenshotsDir, 'running-extensions.png') });
    await ui.keyboard.press('Control+W');
  });
  await uiTest(ui, '[ui] the Keysentry sidebar shows the planted leaks by file', async () => {
    await ui.locator('.activitybar [aria-label^="Keysentry"]').first().click();
    const tree = ui.locator('.sidebar .monaco-list-row');
    for (const name of ['.env', 'id_rsa', 'server.pem', 'upload.py']) {
      await tree.filter({ hasText: name }).first().waitFor({ timeout: 60_000 });
    }
    await tree.filter({ hasText: 'AWS secret access key' }).first().waitFor({ timeout: 10_000 });
    await ui.waitForTimeout(500);
    await ui.screenshot({ path: path.join(screenshotsDir, 'sidebar.png') });
  });
  await uiTest(ui, '[ui] the status bar counts the findings', async () => {
    const item = ui.locator('.statusbar-item').filter({ hasText: /^\s*8\s*$/ });
    await item.first().waitFor({ timeout: 30_000 });
  });
  await uiTest(ui, '[ui] the Problems panel lists masked findings with source Keysentry', async () => {
    await ui.keyboard.press('Control+Shift+M');
    const panel = ui.locator('.markers-panel');
    await panel.waitFor({ timeout: 30_000 });
    await panel.locator('.monaco-list-row').filter({ hasText: /AWS secret access key in (a file git tracks|a file git does not track yet)/ }).first().waitFor({ timeout: 30_000 });
    const text = await panel.innerText();
    if (!/Keysentry/.test(text)) throw new Error('no "Keysentry" source in the Problems panel');
    await ui.screenshot({ path: path.join(screenshotsDir, 'problems.png') });
  });
  await uiTest(ui, '[ui] the runbook webview renders its steps and keeps checkbox state', async () => {
    await ui.keyboard.press('F1');
    await ui.keyboard.type('Keysentry: Open Runbook');
    await ui.waitForTimeout(400);
    await ui.keyboard.press('Enter');
    const frame = ui.frameLocator('iframe.webview[src*="extensionId=keysentry.keysentry"]').frameLocator('#active-frame');
    await frame.locator('h1', { hasText: 'Exposed AWS access key' }).waitFor({ timeout: 30_000 });
    const box = frame.locator('input[type=checkbox]').first();
    await box.check();
    await frame.locator('.progress', { hasText: '1 of' }).waitFor({ timeout: 5_000 });
    await ui.screenshot({ path: path.join(screenshotsDir, 'runbook.png') });
  });
  const closeEditors = async () => {
    await ui.keyboard.press('Escape');
    await ui.keyboard.press('Control+K');
    await ui.keyboard.press('W');
    await ui.waitForTimeout(500);
  };
  /** Opens the quick fixes at the cursor once the diagnostics are there (the scan may still run): the focused first one is Rotate. */
  const openRotateFix = async () => {
    for (let attempt = 0; ; attempt++) {
      await ui.keyboard.press('Control+.');
      try {
        await ui.locator('.action-widget .monaco-list-row.focused').filter({ hasText: 'Rotate this key' }).first().waitFor({ timeout: 4_000 });
        return;
      } catch (e) {
        if (attempt >= 5) throw e;
        await ui.keyboard.press('Escape');
        await ui.waitForTimeout(2_000);
      }
    }
  };
  await uiTest(ui, '[ui] the "Rotate this key" quick fix rotates a key in a .env through IAM (moto)', async () => {
    await ui.keyboard.press('Control+P');
    await ui.keyboard.type('services/billing/.env');
    // Wait for the file result itself (the index may still be loading), then take it.
    await ui.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'billing' }).first().waitFor({ timeout: 20_000 });
    await ui.waitForTimeout(300);
    await ui.keyboard.press('Enter');
    await ui.locator('.monaco-editor .view-lines').filter({ hasText: 'billing service' }).first().waitFor({ timeout: 30_000 });
    await ui.keyboard.press('Control+G');
    await ui.keyboard.type('2:24');
    await ui.keyboard.press('Enter');
    await ui.waitForTimeout(1500); // diagnostics
    // Is it live? Checked with the user's identity (the command on the key under the cursor), then the hover says whose.
    await ui.keyboard.press('F1');
    await ui.keyboard.type('Keysentry: Check Whether This Key Is Live');
    await ui.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'Check Whether This Key Is Live' }).first().waitFor({ timeout: 20_000 });
    await ui.keyboard.press('Enter');
    await ui.waitForTimeout(3000);
    for (const clear of await ui.locator('.notifications-toasts .codicon-notifications-clear').all()) await clear.click().catch(() => {});
    await ui.keyboard.press('Control+K');
    await ui.keyboard.press('Control+I');
    const hover = ui.locator('.monaco-hover').filter({ hasText: 'billing-dev' }).first();
    await hover.waitFor({ timeout: 30_000 });
    const hoverText = await hover.innerText();
    if (!/active/i.test(hoverText)) throw new Error(`the hover does not say the key is active: ${hoverText.slice(0, 300)}`);
    if (secretNeedles(secrets).some((n) => hoverText.includes(n))) throw new Error('a raw secret is in the hover');
    await ui.screenshot({ path: path.join(screenshotsDir, 'live-key-hover.png') });
    await ui.keyboard.press('Escape');
    await ui.keyboard.press('Control+G');
    await ui.keyboard.type('2:24');
    await ui.keyboard.press('Enter');
    // Rotate is the first fix offered, focused (never "preferred": Auto Fix must not start an AWS operation); Enter takes it.
    await openRotateFix();
    await ui.keyboard.press('Enter');
    const dialog = ui.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 30_000 });
    const dialogText = await dialog.innerText();
    if (!/IAM user billing-dev/.test(dialogText) || !/iam:CreateAccessKey/.test(dialogText)) throw new Error(`the plan is not in the dialog: ${dialogText.slice(0, 300)}`);
    await dialog.locator('a.monaco-button, button', { hasText: /^Rotate$/ }).first().click();
    const until = Date.now() + 60_000;
    let text = rotateEnvText;
    while (Date.now() < until && text.includes(dev.AccessKeyId)) {
      await ui.waitForTimeout(250);
      text = readFileSync(rotateEnv, 'utf8');
    }
    const newId = /AWS_ACCESS_KEY_ID=(\S+)/.exec(text)?.[1];
    const newSecret = /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(text)?.[1];
    if (newSecret) secrets.push(newSecret);
    if (!newId || newId === dev.AccessKeyId) throw new Error('the .env still holds the old key');
    if (text !== rotateEnvText.replace(dev.AccessKeyId, newId).replace(dev.SecretAccessKey, newSecret)) throw new Error('the .env changed beyond the key');
    // The file is written mid-way; the old key is deleted at the end: wait for the summary.
    await ui.locator('.notifications-toasts').filter({ hasText: 'rotated' }).first().waitFor({ timeout: 60_000 });
    const keys = (await iam.send(new ListAccessKeysCommand({ UserName: 'billing-dev' }))).AccessKeyMetadata ?? [];
    if (keys.length !== 1 || keys[0].AccessKeyId !== newId || keys[0].Status !== 'Active') throw new Error(`billing-dev keys: ${JSON.stringify(keys.map((k) => [k.AccessKeyId, k.Status]))}`);
    await closeEditors();
    await ui.screenshot({ path: path.join(screenshotsDir, 'rotated.png') });
  });
  await uiTest(ui, '[ui] rotation: a tracked .env is offered untrack or a profile, and a failed rotation shows its reason (moto)', async () => {
    await closeEditors();
    const envFile = path.join(wsB.dir, '.env');
    const before = readFileSync(envFile, 'utf8');
    await ui.keyboard.press('Control+P');
    await ui.keyboard.type('.env');
    await ui.waitForTimeout(800);
    // The workspace's own .env, not services/billing/.env.
    const row = ui.locator('.quick-input-list .monaco-list-row').filter({ hasText: '.env' }).filter({ hasNotText: 'billing' }).first();
    await row.waitFor({ timeout: 20_000 });
    await row.click({ force: true });
    await ui.locator('.monaco-editor .view-lines').filter({ hasText: 'local settings' }).first().waitFor({ timeout: 30_000 });
    await ui.keyboard.press('Control+G');
    await ui.keyboard.type('4:24');
    await ui.keyboard.press('Enter');
    await ui.waitForTimeout(1500);
    await openRotateFix();
    await ui.keyboard.press('Enter');
    const dialog = ui.locator('.monaco-dialog-box');
    await dialog.filter({ hasText: 'tracked by git' }).waitFor({ timeout: 30_000 });
    const text = await dialog.innerText();
    if (!/--untrack/.test(text) || !/--to-profile/.test(text)) throw new Error(`the plan of both choices is not in the dialog: ${text.slice(0, 400)}`);
    await ui.screenshot({ path: path.join(screenshotsDir, 'rotation-tracked.png') });
    await dialog.locator('a.monaco-button, button', { hasText: 'Write to a Profile Instead' }).first().click();
    const input = ui.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await ui.keyboard.press('Enter'); // the suggested name, "rotated"
    // The planted key is not in the demo's AWS account: the refusal and its reason are shown.
    const error = ui.locator('.monaco-dialog-box').filter({ hasText: 'will not rotate' });
    await error.waitFor({ timeout: 60_000 });
    const errorText = await error.innerText();
    if (!/no IAM user|belongs to account/.test(errorText)) throw new Error(`no reason in the error: ${errorText.slice(0, 400)}`);
    await ui.screenshot({ path: path.join(screenshotsDir, 'rotation-error.png') });
    await ui.keyboard.press('Escape');
    if (readFileSync(envFile, 'utf8') !== before) throw new Error('the tracked .env was changed');
  });
  await uiTest(ui, '[ui] Audit AWS Account fills the Account group with the seeded incidents (moto)', async () => {
    await closeEditors();
    const sidebar = ui.locator('.sidebar');
    // The activity bar entry toggles the side bar: click it only when the view is not showing.
    if (!(await sidebar.locator('.monaco-list-row', { hasText: 'Account: default credentials' }).first().isVisible().catch(() => false))) {
      await ui.locator('.activitybar [aria-label^="Keysentry"]').first().click();
    }
    await sidebar.locator('.monaco-list-row', { hasText: 'Account: default credentials' }).first().waitFor({ timeout: 30_000 });
    await sidebar.locator('.monaco-list-row', { hasText: 'Account: default credentials' }).first().hover();
    await sidebar.locator('[aria-label="Audit AWS Account"]').first().click();
    const rows = sidebar.locator('.monaco-list-row');
    // The first run's incidents show before the audit (they persist); wait for this audit to finish.
    await rows.filter({ hasText: /123456789012 · \d+ open · 38 region/ }).first().waitFor({ timeout: 60_000 });
    for (const text of ['running in ap-south-1', 'open to the internet on SSH (22)', 'intern has no MFA device', `Access key ${seeded.oldKeyId}`]) {
      await rows.filter({ hasText: text }).first().waitFor({ timeout: 60_000 });
    }
    // For the screenshot: the Workspace group collapsed, the panel closed, a wider side bar.
    const ws = rows.filter({ hasText: /^Workspace/ }).first();
    if ((await ws.getAttribute('aria-expanded')) === 'true') await ws.click();
    if (await ui.locator('.part.panel').isVisible().catch(() => false)) await ui.keyboard.press('Control+J');
    const box = await sidebar.boundingBox();
    if (box && box.width < 500) {
      await ui.mouse.move(box.x + box.width + 1, box.y + 300);
      await ui.mouse.down();
      await ui.mouse.move(box.x + 560, box.y + 300, { steps: 8 });
      await ui.mouse.up();
    }
    await ui.mouse.move(900, 500);
    await ui.waitForTimeout(500);
    await ui.screenshot({ path: path.join(screenshotsDir, 'incidents.png') });
  });
  await uiTest(ui, '[ui] an incident runbook opens and its Isolate action runs after confirmation (moto)', async () => {
    const sidebar = ui.locator('.sidebar');
    await sidebar.locator('.monaco-list-row', { hasText: 'running in ap-south-1' }).first().click();
    const frame = ui.frameLocator('iframe.webview[src*="extensionId=keysentry.keysentry"]').last().frameLocator('#active-frame');
    await frame.locator('h1', { hasText: 'ap-south-1' }).waitFor({ timeout: 30_000 });
    await frame.locator('h2', { hasText: '1. Contain' }).waitFor({ timeout: 5_000 });
    // The modal with the whole plan is taller than an 850 px window (9 calls, checks, warnings):
    // its Run button would be off-screen. Reported; until the dialog scrolls, a taller window.
    await ui.setViewportSize({ width: 1400, height: 1500 });
    await frame.locator('button', { hasText: `Isolate ${seeded.stray.instance} (ap-south-1)` }).first().click();
    const dialog = ui.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 60_000 });
    const plan = await dialog.innerText();
    for (const call of ['ec2:ModifyInstanceAttribute', 'ec2:CreateSecurityGroup', 'ec2:CreateSnapshots', 'ec2:CreateTags']) if (!plan.includes(call)) throw new Error(`the plan does not show ${call}: ${plan.slice(0, 400)}`);
    // containment (issue 15): both moves of each interface, with why
    for (const step of [/ec2:ModifyNetworkInterfaceAttribute on eni-\w+ \(ap-south-1\): step 1 of 2: .*temporary all-traffic group\. Why: its open connections become untracked/, /step 2 of 2: move eni-\w+ to the isolation group/]) if (!step.test(plan)) throw new Error(`the plan does not show ${step}: ${plan.slice(0, 600)}`);
    await ui.screenshot({ path: path.join(screenshotsDir, 'action-plan.png') });
    await dialog.locator('a.monaco-button, button', { hasText: /^Run \d+ calls?$/ }).first().click();
    await frame.locator('.timeline .entry.action', { hasText: `Isolate instance ${seeded.stray.instance}: done` }).waitFor({ timeout: 60_000 });
    const ec2 = new EC2Client({ region: 'ap-south-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'seed', secretAccessKey: 'seed' } });
    const inst = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [seeded.stray.instance] }))).Reservations?.[0]?.Instances?.[0];
    const groups = (inst?.SecurityGroups ?? []).map((g) => g.GroupName).join(',');
    if (groups !== 'keysentry-isolation') throw new Error(`the instance is in ${groups}, not the isolation group`);
    await frame.locator('input[type=checkbox][data-key="Contain/isolate"]:checked').waitFor({ timeout: 10_000 });
    await ui.setViewportSize({ width: 1400, height: 850 });
    await ui.keyboard.press('Escape');
    await frame.locator('h1').first().scrollIntoViewIfNeeded();
    await ui.waitForTimeout(800);
    await ui.screenshot({ path: path.join(screenshotsDir, 'incident-runbook.png') });
  });
  await uiTest(ui, '[ui] containment: the runbook\'s Release action gives the isolated instance its groups back (moto)', async () => {
    const frame = ui.frameLocator('iframe.webview[src*="extensionId=keysentry.keysentry"]').last().frameLocator('#active-frame');
    await ui.setViewportSize({ width: 1400, height: 1500 });
    const release = frame.locator('button', { hasText: `Release ${seeded.stray.instance} (ap-south-1)` }).first();
    await release.scrollIntoViewIfNeeded();
    await release.click();
    const dialog = ui.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 60_000 });
    const plan = await dialog.innerText();
    if (!/give eni-\w+ back its recorded groups: sg-/.test(plan)) throw new Error(`the release plan does not restore the groups: ${plan.slice(0, 600)}`);
    await ui.screenshot({ path: path.join(screenshotsDir, 'release-plan.png') });
    await dialog.locator('a.monaco-button, button', { hasText: /^Run \d+ calls?$/ }).first().click();
    await frame.locator('.timeline .entry.action', { hasText: `Release instance ${seeded.stray.instance}: done` }).waitFor({ timeout: 60_000 });
    const ec2 = new EC2Client({ region: 'ap-south-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'seed', secretAccessKey: 'seed' } });
    const inst = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [seeded.stray.instance] }))).Reservations?.[0]?.Instances?.[0];
    const groups = (inst?.SecurityGroups ?? []).map((g) => g.GroupName).join(',');
    if (groups !== 'default') throw new Error(`after release the instance is in ${groups}, not its original default group`);
    await ui.keyboard.press('Escape');
    await ui.setViewportSize({ width: 1400, height: 850 });
  });
  // investigate: the leaked billing key's CloudTrail (the seeded attack), what it left behind, one removal.
  await uiTest(ui, '[ui] investigation: the leaked key\'s Investigation section, and one removal after confirmation (moto)', async () => {
    await closeEditors();
    const attack = await seedAttack(moto, { keyId: dev.AccessKeyId, user: 'billing-dev' }, 2);
    secrets.push(attack.backupSecret);
    const sidebar = ui.locator('.sidebar');
    const row = sidebar.locator('.monaco-list-row', { hasText: `Access key ${dev.AccessKeyId} leaked` }).first();
    if (!(await row.isVisible().catch(() => false)) && !(await sidebar.locator('.monaco-list-row', { hasText: 'Account:' }).first().isVisible().catch(() => false))) {
      await ui.locator('.activitybar [aria-label^="Keysentry"]').first().click();
    }
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    const frame = ui.frameLocator('iframe.webview[src*="extensionId=keysentry.keysentry"]').last().frameLocator('#active-frame');
    await frame.locator('h2', { hasText: 'Investigation' }).waitFor({ timeout: 30_000 });
    await frame.locator('button', { hasText: `Investigate ${dev.AccessKeyId} in CloudTrail` }).click();
    const table = frame.locator('.investigation table.resources');
    await table.locator('tr', { hasText: 'backup' }).first().waitFor({ timeout: 120_000 });
    const text = await frame.locator('.investigation').innerText();
    for (const want of ['created user backup with AdministratorAccess', 'launched 2 instances in 1 region', "the start of the notice's activity window", 'reporting', 'yours: made before the exposure', attack.spot, 'm1n3r']) if (!text.includes(want)) throw new Error(`the Investigation section does not show "${want}": ${text.slice(0, 600)}`);
    if (await table.locator('tr', { hasText: 'reporting' }).locator('button').count()) throw new Error("the owner's own user has a removal button");
    // For the screenshot: no toast over it, the side bar hidden, the section at the top.
    for (const clear of await ui.locator('.notifications-toasts .codicon-notifications-clear').all()) await clear.click().catch(() => {});
    await ui.keyboard.press('Control+B');
    await ui.waitForTimeout(800);
    await frame.locator('.investigation .verdict').evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await ui.waitForTimeout(300);
    await ui.screenshot({ path: path.join(screenshotsDir, 'investigation.png') });
    await ui.keyboard.press('Control+B');
    await frame.locator('button', { hasText: 'Detach AdministratorAccess from backup' }).click();
    const dialog = ui.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 60_000 });
    const plan = await dialog.innerText();
    if (!plan.includes('iam:DetachUserPolicy')) throw new Error(`the plan does not show iam:DetachUserPolicy: ${plan.slice(0, 400)}`);
    await dialog.locator('a.monaco-button, button', { hasText: /^Run \d+ calls?$/ }).first().click();
    await frame.locator('button', { hasText: 'Detach AdministratorAccess from backup: done' }).waitFor({ timeout: 60_000 });
    const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'seed', secretAccessKey: 'seed' } });
    const left = (await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'backup' }))).AttachedPolicies ?? [];
    if (left.length) throw new Error(`backup still has ${left.map((p) => p.PolicyName).join(', ')}`);
    await frame.locator('.timeline .entry.action', { hasText: 'Detach arn:aws:iam::aws:policy/AdministratorAccess from backup' }).first().waitFor({ timeout: 10_000 });
    const page = await ui.locator('body').innerText();
    if (secretNeedles(secrets).some((n) => page.includes(n))) throw new Error('a raw secret is visible');
  });
  await uiTest(ui, '[ui] the merged incident of one key (workspace + audit + notice) opens with its facts and key actions', async () => {
    // The extension-host phase put the seeded old key in a file, audited and imported a notice
    // naming it: one incident (incidents.json is shared by both phases).
    await closeEditors();
    const sidebar = ui.locator('.sidebar');
    // The activity bar entry toggles the side bar: click it only when the Incidents view is not showing.
    if (!(await sidebar.locator('.monaco-list-row', { hasText: /^Notices/ }).first().isVisible().catch(() => false))) await ui.locator('.activitybar [aria-label^="Keysentry"]').first().click();
    const row = sidebar.locator('.monaco-list-row', { hasText: `Access key ${seeded.oldKeyId} of ci-deploy: exposed` }).first();
    await row.waitFor({ timeout: 60_000 });
    await row.click();
    const frame = ui.frameLocator('iframe.webview[src*="extensionId=keysentry.keysentry"]').last().frameLocator('#active-frame');
    await frame.locator('h1', { hasText: seeded.oldKeyId }).waitFor({ timeout: 30_000 });
    for (const text of ['Found by', 'ops/legacy.env line 1', 'Exposed at']) await frame.locator('dl', { hasText: text }).first().waitFor({ timeout: 10_000 });
    await frame.locator('button', { hasText: `Deactivate ${seeded.oldKeyId}` }).first().waitFor({ timeout: 10_000 });
    await frame.locator('code', { hasText: `--user-name ci-deploy --access-key-id ${seeded.oldKeyId}` }).first().waitFor({ timeout: 10_000 });
    await ui.waitForTimeout(500);
    await ui.screenshot({ path: path.join(screenshotsDir, 'merged-incident.png') });
  });
  await uiTest(ui, '[ui] no raw fixture secret is visible anywhere in the workbench', async () => {
    // An editor shows a file's secret, as it should; the check is on everything else.
    await closeEditors();
    const text = await ui.locator('body').innerText();
    const leaked = secretNeedles(secrets).filter((s) => text.includes(s));
    if (leaked.length) throw new Error(`${leaked.length} raw secret(s) visible in the workbench`);
  });
  await ui.close();
}

let fatal;
try {
  await main();
} catch (e) {
  fatal = e;
  record('harness', 'failed', 0, e?.stack ?? e);
} finally {
  await browser?.close().catch(() => {});
  moto?.stop();
  // Secrets check over every output of the run: server log, extension host logs (including
  // Keysentry's own log channel), results file.
  if (server) {
    const needles = secretNeedles(secrets);
    const sources = [['code-server output', serverLog.join('')]];
    for (const f of walkFiles(path.join(server.userDataDir, 'logs'))) sources.push([path.relative(server.userDataDir, f), readFileSync(f, 'latin1')]);
    const rf = path.join(tmp, 'results.json');
    if (existsSync(rf)) sources.push(['results.json', readFileSync(rf, 'utf8')]);
    const hits = sources.filter(([, text]) => needles.some((n) => text.includes(n))).map(([name]) => name);
    record('no raw fixture secret in any log or output', hits.length ? 'failed' : 'passed', 0, hits.length ? `found in: ${hits.join(', ')}` : undefined);
    const exthostLog = [...walkFiles(path.join(server.userDataDir, 'logs'))].find((f) => /Keysentry\.log$/.test(f));
    if (exthostLog) console.log(`Keysentry log:\n${readFileSync(exthostLog, 'utf8').split('\n').map((l) => `    ${l}`).join('\n')}`);
    server.stop();
  }
  rmSync(tmp, { recursive: true, force: true });
}
const passed = results.filter((r) => r.state === 'passed').length;
const failed = results.length - passed;
if (fatal || failed) console.log(serverLog.join('').split('\n').filter((l) => /error|exited/i.test(l)).slice(-30).join('\n'));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed || fatal ? 1 : 0);

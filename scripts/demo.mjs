// The demo: the same path a user takes with the .vsix, in code-server instead of desktop VS Code.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDemoWorkspace } from '../test/fixtures/fake-keys.mjs';
import { codeServerBin } from '../test/harness/ensure-code-server.mjs';
import { freePort } from '../test/harness/code-server.mjs';
import { startMoto } from '../test/aws/moto.mjs';
import { seedAccount } from '../test/aws/seedAccount.mjs';
import { addLeakedKeyIncident, seedAttack } from '../test/aws/seedAttack.mjs';
import { seedKeyPair } from '../test/aws/seedKeyPair.mjs';
import { queueBill, seedTraffic } from '../test/aws/seedTraffic.mjs';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(root, '.vscode-test', 'demo');
const port = Number(process.env.PORT ?? (await freePort()));

console.log('demo: packaging the extension (.vsix)...');
execFileSync('npm', ['run', '--silent', 'package'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
const vsix = path.join(root, 'dist', 'keysentry.vsix');

const workspace = path.join(cache, 'demo-shop');
rmSync(workspace, { recursive: true, force: true });
makeDemoWorkspace(workspace);

// A test AWS account for the Incidents view: moto (an AWS emulator) on 127.0.0.1, seeded with an
// open SSH rule, an old key, a user without MFA and an instance in a region the account never
// uses; plus an abuse notice about that instance to import. No real AWS account is touched.
console.log('demo: starting a test AWS account (moto on 127.0.0.1)...');
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const moto = await startMoto();
const seeded = await seedAccount(moto);
mkdirSync(path.join(workspace, 'notices'), { recursive: true });
// Seed 2's story (issue 14): the Mumbai instance sent ~209 GB to Bahrain one night (NetworkOut in
// CloudWatch, APS3-MES1-AWS-Out-Bytes on the bill), while the others had ordinary days; the abuse
// notice below is about the same instance, so it joins the data-transfer incident.
await seedTraffic(moto.endpoint, { relay: seeded.stray.instance, quiet: [{ region: 'us-east-1', instance: seeded.web.instance }, { region: 'us-east-1', instance: seeded.recent }], days: 3 });
for (let i = 0; i < 5; i++) await queueBill(moto.endpoint); // one answer per audit (each Cost Explorer call is paid on AWS)
const notice = readFileSync(path.join(root, 'test', 'fixtures', 'notices', 'dos-ec2.txt'), 'utf8').replaceAll('i-0f3e7a91c2d4b5a68', seeded.stray.instance).replaceAll('731492036518', '123456789012');
writeFileSync(path.join(workspace, 'notices', 'aws-abuse-report.txt'), notice);
// deploy/server.pem is the key pair "deploy-server" of the test account, with an instance launched
// with it: `keysentry check-key-pair deploy/server.pem` opens a "compromised key pair" incident.
const demoKeyPair = await seedKeyPair(moto, path.join(workspace, 'deploy', 'server.pem'));
// One planted key that exists in the test account (so "Check Whether This Key Is Live" says
// active and "Rotate This Key" really rotates it), committed in a second commit; and a local bare
// remote, so the pre-push gate can be tried with a real `git push`.
const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'seed', secretAccessKey: 'seed' } });
await iam.send(new CreateUserCommand({ UserName: 'billing-dev' }));
const live = (await iam.send(new CreateAccessKeyCommand({ UserName: 'billing-dev' }))).AccessKey;
mkdirSync(path.join(workspace, 'services', 'billing'), { recursive: true });
writeFileSync(path.join(workspace, 'services', 'billing', '.env'), `# billing service\nAWS_ACCESS_KEY_ID=${live.AccessKeyId}\nAWS_SECRET_ACCESS_KEY=${live.SecretAccessKey}\nQUEUE=billing\n`);
const remote = path.join(cache, 'demo-shop-remote.git');
rmSync(remote, { recursive: true, force: true });
const git = (...args) => execFileSync('git', ['-c', 'user.name=Demo', '-c', 'user.email=demo@example.invalid', ...args], { cwd: workspace, stdio: 'ignore' });
git('add', '-A');
// investigate: the key was committed (and pushed) two days ago; the attack began two minutes later.
const leakedAt = new Date(Date.now() - 2 * 86_400_000 - 2 * 60_000).toISOString();
execFileSync('git', ['-c', 'user.name=Demo', '-c', 'user.email=demo@example.invalid', 'commit', '-q', '-m', 'Add the billing service configuration'], { cwd: workspace, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_DATE: leakedAt, GIT_COMMITTER_DATE: leakedAt } });
execFileSync('git', ['init', '-q', '--bare', remote], { stdio: 'ignore' });
git('remote', 'add', 'origin', remote);
const home = path.join(cache, 'home');
rmSync(home, { recursive: true, force: true });
mkdirSync(path.join(home, 'aws'), { recursive: true });
// investigate: what an attacker did with the billing key (CloudTrail records, and the user `backup`
// with AdministratorAccess, instances, a key pair and a spot request in ap-south-1 that really exist),
// and the key's incident (until the workspace finding opens it by itself), ready to investigate.
const attack = await seedAttack(moto, { keyId: live.AccessKeyId, user: 'billing-dev' }, 2);
addLeakedKeyIncident(path.join(home, 'keysentry', 'incidents.json'), live.AccessKeyId, 'billing-dev', 'services/billing/.env');
const awsEnv = {
  AWS_ENDPOINT_URL: moto.endpoint,
  AWS_ACCESS_KEY_ID: seeded.admin.id,
  AWS_SECRET_ACCESS_KEY: seeded.admin.secret,
  AWS_REGION: 'us-east-1',
  AWS_PROFILE: '',
  AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'aws', 'credentials'),
  AWS_CONFIG_FILE: path.join(home, 'aws', 'config'),
  KEYSENTRY_HOME: path.join(home, 'keysentry'),
};
const userData = path.join(cache, 'user-data');
const extensions = path.join(cache, 'extensions');
mkdirSync(path.join(userData, 'User'), { recursive: true });
// Live checks ask the test account about every key found, so hovers say which keys are live.
const settingsFile = path.join(userData, 'User', 'settings.json');
let settings = {};
try {
  settings = JSON.parse(readFileSync(settingsFile, 'utf8'));
} catch {
  // first run, or settings edited into something else: start from the demo's own
}
// The demo's audit reads the traffic (3 days: what was seeded) and the bill (free here: moto answers).
writeFileSync(settingsFile, JSON.stringify({ ...settings, 'keysentry.liveCheck.mode': 'automatic', 'keysentry.audit.traffic': true, 'keysentry.audit.trafficDays': 3, 'keysentry.audit.costs': true, 'keysentry.audit.regions': ['us-east-1', 'ap-south-1', 'eu-west-1'] }, null, 2));
const common = ['--user-data-dir', userData, '--extensions-dir', extensions];
execFileSync(process.execPath, [codeServerBin, ...common, '--install-extension', vsix, '--force'], { stdio: ['ignore', 'ignore', 'inherit'] });
if (!existsSync(extensions)) throw new Error('the .vsix did not install');

const child = spawn(process.execPath, [codeServerBin, ...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', workspace], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...awsEnv } });
let shown = false;
const onData = (b) => {
  if (!shown && /HTTP server listening/.test(b.toString())) {
    shown = true;
    console.log(`\nKeysentry demo is running. Open:\n\n    http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}\n\nThe demo workspace (${path.relative(root, workspace)}) holds random, fake leaks: .env, deploy/id_rsa, deploy/server.pem, src/upload.py,\nand services/billing/.env, whose key ${live.AccessKeyId} is LIVE in the test account (IAM user billing-dev): hover it, or "Rotate This Key".\nThe other planted keys are unknown to the test account: their live check says "deleted".\nThe repository has a local remote (origin, empty): install the pre-push hook when offered, then try "git push -u origin main" in the terminal.\nA test AWS account (moto, on ${moto.endpoint}) stands in for yours: run "Keysentry: Audit AWS Account" from the Keysentry view,\nor "Keysentry: Import AWS Abuse Notice" with notices/aws-abuse-report.txt, then act from the incident's runbook.\nThe billing key was used by an attacker (${attack.records} CloudTrail records): open its incident ("Access key ${live.AccessKeyId} leaked…")\nand press "Investigate" to see what it did and remove user backup, its key, the instances, the key pair and the spot request.\ndeploy/server.pem is EC2 key pair ${demoKeyPair.keyName} (${demoKeyPair.region}, instance ${demoKeyPair.instance}): in the terminal, "node ${path.relative(workspace, path.join(root, 'dist', 'cli.js'))} check-key-pair deploy/server.pem" opens its incident.\nThe audit finds ${seeded.stray.instance} in ap-south-1 sending ~209 GB to me-south-1 (Bahrain) one night, and the hardening checks (GuardDuty, CloudTrail, budget, security contact) with their fixes.\nPress Ctrl+C to stop.`);
  }
};
child.stdout.on('data', onData);
child.stderr.on('data', onData);
const stop = () => {
  child.kill('SIGTERM');
  moto.stop();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('exit', (code) => {
  moto.stop();
  process.exit(code ?? 0);
});

// npm run bench (part 2): the pre-push hook on a real history. Builds (once, cached) a repository
// of 500 commits from the reference corpus (each commit adds ~8 corpus files and edits 2 earlier
// ones), installs the hook, and times the installed hook script itself (sh + Node start-up +
// git + scan) for pushes of 1, 50 and all 500 commits. Prints numbers; asserts nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpus = path.join(root, '.cache', 'perf-corpus');
const repo = path.join(root, '.cache', 'prepush-repo');
const cli = path.join(root, 'dist', 'cli.js');
const COMMITS = 500;
const runs = Number(process.env.BENCH_RUNS ?? 9);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
const git = (...args) => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8', maxBuffer: 1 << 30 });

if (!existsSync(corpus)) execFileSync('bash', [path.join(root, 'bench', 'make-perf-corpus.sh'), corpus], { stdio: 'inherit' });

function listFiles(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) listFiles(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function buildRepo() {
  rmSync(repo, { recursive: true, force: true });
  execFileSync('git', ['init', '-q', '-b', 'main', repo], { env });
  const files = listFiles(corpus).sort();
  const per = Math.ceil(files.length / COMMITS);
  const chunks = [];
  const data = (buf) => Buffer.concat([Buffer.from(`data ${buf.length}\n`), buf, Buffer.from('\n')]);
  const added = [];
  for (let c = 0; c < COMMITS; c++) {
    const parts = [Buffer.from(`commit refs/heads/main\ncommitter Bench <bench@example.invalid> ${1700000000 + c * 60} +0000\n`), data(Buffer.from(`Commit ${c + 1}: add ${per} files\n`))];
    for (const f of files.slice(c * per, (c + 1) * per)) {
      const rel = path.relative(corpus, f).split(path.sep).join('/');
      added.push([rel, readFileSync(f)]);
      parts.push(Buffer.from(`M 100644 inline ${rel}\n`), data(readFileSync(f)));
    }
    // Edit two earlier files: a line appended, as in ordinary work.
    for (let k = 0; k < 2 && added.length > 10; k++) {
      const i = (c * 7919 + k * 104729) % (added.length - per);
      const [rel, buf] = added[i];
      const next = Buffer.concat([buf, Buffer.from(`\n// edited in commit ${c + 1}\n`)]);
      added[i] = [rel, next];
      parts.push(Buffer.from(`M 100644 inline ${rel}\n`), data(next));
    }
    chunks.push(Buffer.concat(parts));
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: repo, env, input: Buffer.concat(chunks), maxBuffer: 1 << 30 });
  git('reset', '-q', '--hard', 'main');
}

if (!existsSync(path.join(repo, '.git')) || git('rev-list', '--count', 'main').trim() !== String(COMMITS)) {
  const t = Date.now();
  buildRepo();
  console.log(`built ${COMMITS}-commit repository from the corpus in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}
execFileSync(process.execPath, [cli, 'install-hook', '--cli', cli], { cwd: repo, env, stdio: 'ignore' });
const hook = path.join(repo, '.git', 'hooks', 'pre-push');
const tip = git('rev-parse', 'main').trim();
const zero = '0'.repeat(40);
const size = Number(git('count-objects', '-v').match(/size-pack: (\d+)/)?.[1] ?? 0) + Number(git('count-objects', '-v').match(/^size: (\d+)/m)?.[1] ?? 0);
console.log(`repository: ${COMMITS} commits, ${listFiles(repo).filter((f) => !f.includes(`${path.sep}.git${path.sep}`)).length} files in the tree, ${(size / 1024).toFixed(0)} MB of objects`);

function time(label, base, n = runs) {
  const input = `refs/heads/main ${tip} refs/heads/main ${base}\n`;
  const samples = [];
  let last;
  for (let i = 0; i < n + 1; i++) {
    const started = process.hrtime.bigint();
    last = spawnSync(hook, ['origin', 'https://example.invalid/repo.git'], { cwd: repo, env, input, encoding: 'utf8' });
    if (i > 0) samples.push(Number(process.hrtime.bigint() - started) / 1e6); // first run warms the caches
  }
  const commits = JSON.parse(readFileSync(path.join(repo, '.git', 'keysentry', 'last-push.json'), 'utf8')).result?.commits;
  const findings = (last.stderr.match(/push blocked: (\d+) credential/) ?? [])[1] ?? '0';
  console.log(`pre-push hook, ${label}: median ${median(samples).toFixed(0)} ms over ${n} runs (min ${Math.min(...samples).toFixed(0)}, max ${Math.max(...samples).toFixed(0)}); ${commits} commits scanned, ${findings} findings, exit ${last.status}`);
}

time('push of 1 commit', git('rev-parse', 'main~1').trim());
time('push of 50 commits', git('rev-parse', 'main~50').trim());
time(`first push of the whole history (${COMMITS} commits, new branch)`, zero, 3);
// Node's own start-up, for scale.
const nodeSamples = [];
for (let i = 0; i < runs; i++) {
  const s = process.hrtime.bigint();
  spawnSync(process.execPath, ['-e', '0']);
  nodeSamples.push(Number(process.hrtime.bigint() - s) / 1e6);
}
console.log(`(node -e 0 alone: median ${median(nodeSamples).toFixed(0)} ms; cli.js ${(statSync(cli).size / 1024).toFixed(0)} KB)`);

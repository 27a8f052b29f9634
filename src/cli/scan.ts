import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadBaseline, scanBytes, scanPaths, DEFAULT_MAX_FILE_SIZE, type ParallelOptions } from '../core/detect/scanFiles';
import { toJson, toSarif, toText } from '../core/detect/report';
import { KeysentryError, type Finding, type ScanResult, type SkippedFile } from '../core/types';
import { isKeyIdShape } from '../core/detect/patterns';
import { gitCommittableFiles, gitTopLevel } from '../git/files';
import { formatFlag, parseArgs, UsageError } from './args';
import type { Io } from './io';

export const SCAN_USAGE = `usage: keysentry scan [PATH... | -] [--format text|json|sarif] [--all-files] [--baseline FILE] [--max-file-size BYTES] [--fail-on-skip]
                     [--check-live [--profile P] [--region R] [--endpoint-url URL]]

Scans what git would commit (tracked and not-ignored untracked files) for AWS access keys,
secret keys, session tokens and private keys. Outside a git repository, scans all files
except dependency folders. --all-files scans everything. Binary files are scanned as their
printable strings; UTF-16 and UTF-32 text is decoded. A symlink named as PATH is followed.
Every file or folder that could not be scanned (too large, unreadable, not a regular file) is
listed in the report (stats.skipped in JSON); so is every file .secretlintignore leaves out
(reason "ignored"). --fail-on-skip makes any of them exit 3, for CI.
"-" scans standard input (reported as (stdin)); a file named "-" is ./-, one starting with a
dash goes after --.
Exit status: 0 clean, 1 findings, 2 error, 3 nothing found but something was not scanned
(only with --fail-on-skip).

--check-live  also tells, for each access key id found, whether it is live and whose it is: the
              answer of \`keysentry check\` (the \`live\` object in JSON), asked with YOUR identity,
              never with the key; one lookup per distinct key, run concurrently.`;

/** Exit status of a clean scan that skipped files, with --fail-on-skip. */
export const EXIT_SKIPPED = 3;

export const gitSource = { topLevel: gitTopLevel, committable: gitCommittableFiles };

export async function scanCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, ['format', 'baseline', 'max-file-size', 'profile', 'region', 'endpoint-url'], ['all-files', 'exhaustive', 'progress', 'fail-on-skip', 'check-live', 'help']);
  if (args.flags.has('help')) {
    io.out(SCAN_USAGE);
    return 0;
  }
  const format = formatFlag(args, ['text', 'json', 'sarif'] as const);
  const maxRaw = args.flags.get('max-file-size') as string | undefined;
  const maxFileSize = maxRaw === undefined ? DEFAULT_MAX_FILE_SIZE : Number(maxRaw);
  if (!Number.isInteger(maxFileSize) || maxFileSize <= 0) throw new KeysentryError(`--max-file-size must be a positive number of bytes (got "${maxRaw}")`);
  // `keysentry scan -`: standard input is the one file scanned (a diff, a pasted config, a pipe).
  const result = args.positional.includes('-') ? await scanStdin(args.positional, io, { maxFileSize, baselinePath: args.flags.get('baseline') as string | undefined, exhaustive: args.flags.has('exhaustive') }) : await scanPaths(
    {
      paths: args.positional,
      cwd: io.cwd,
      allFiles: args.flags.has('all-files'),
      maxFileSize,
      baselinePath: args.flags.get('baseline') as string | undefined,
      exhaustive: args.flags.has('exhaustive'),
      // --progress (used by the editor's workspace scan) reports JSON lines on stderr.
      onProgress: args.flags.has('progress') ? progressReporter(io) : undefined,
      parallel: bundledWorker(),
    },
    gitSource,
  );
  if (args.flags.has('check-live')) {
    const opt = (name: string): string | undefined => args.flags.get(name) as string | undefined;
    await addLiveness(result.findings, { profile: opt('profile'), region: opt('region'), endpoint: opt('endpoint-url') });
  }
  if (format === 'json') io.out(toJson(result));
  else if (format === 'sarif') io.out(toSarif(result, io.version));
  else io.out(toText(result, io.color));
  if (result.findings.length > 0) return 1;
  return args.flags.has('fail-on-skip') && result.stats.skipped.length > 0 ? EXIT_SKIPPED : 0;
}

/**
 * Adds `live` (the `keysentry check` answer) to every access-key-id finding: one lookup per
 * distinct id, run concurrently (KeyLookup.checkAll), so an id found in many files is asked about
 * once in the run.
 */
export async function addLiveness(findings: Finding[], where: { profile?: string; region?: string; endpoint?: string }): Promise<void> {
  const ids = [...new Set(findings.filter((f) => f.kind === 'aws-access-key-id').map((f) => f.preview))].filter(isKeyIdShape);
  if (ids.length === 0) return;
  // Loaded only here: the AWS SDK costs the CLI's start-up seconds on a busy machine, and a plain scan never needs it.
  const [{ KeyLookup }, { resolveTarget }] = await Promise.all([import('../aws/keyLookup'), import('../aws/clients')]);
  const lookup = new KeyLookup(resolveTarget(where));
  const answers = await lookup.checkAll(ids);
  const byId = new Map(answers.map((a) => [a.keyId, a]));
  for (const f of findings) if (f.kind === 'aws-access-key-id') f.live = byId.get(f.preview);
}

/**
 * Worker threads for the scan: the bundled worker beside the bundled CLI (dist/scanWorker.js).
 * From source (tests) there is none, and the scan runs in one thread; the result is the same.
 * KEYSENTRY_SCAN_THREADS sets the number of threads (1: no workers).
 */
function bundledWorker(): ParallelOptions | undefined {
  const script = path.join(__dirname, 'scanWorker.js');
  if (!existsSync(script)) return undefined;
  const env = Number(process.env.KEYSENTRY_SCAN_THREADS);
  return { script, threads: Number.isInteger(env) && env > 0 ? env : undefined };
}

async function scanStdin(paths: string[], io: Io, opts: { maxFileSize: number; baselinePath?: string; exhaustive: boolean }): Promise<ScanResult> {
  if (paths.length !== 1) throw new UsageError('"-" (standard input) cannot be combined with other paths');
  if (!io.readStdin) throw new KeysentryError('no standard input to read');
  const started = performance.now();
  const skipped: SkippedFile[] = [];
  const baseline = loadBaseline(opts.baselinePath, io.cwd, io.cwd, skipped);
  const bytes = Buffer.from(await io.readStdin(), 'utf8');
  if (bytes.length > opts.maxFileSize) return { findings: [], stats: { files: 0, bytes: 0, skipped: [{ file: STDIN_NAME, reason: 'too-large', detail: `${bytes.length} bytes` }], ms: 0, baselined: 0 } };
  const result = await scanBytes(bytes, STDIN_NAME, { exhaustive: opts.exhaustive, baseline: undefined, onIncomplete: (why) => skipped.push({ file: STDIN_NAME, reason: 'too-large', detail: `partially scanned: ${why}` }) });
  if (!Array.isArray(result)) return { findings: [], stats: { files: 0, bytes: bytes.length, skipped: [...skipped, result], ms: Math.round(performance.now() - started), baselined: 0 } };
  const findings = result.filter((f) => !baseline.has(f.fingerprint));
  return { findings, stats: { files: 1, bytes: bytes.length, skipped, ms: Math.round(performance.now() - started), baselined: result.length - findings.length } };
}

/** How findings in standard input are named in reports. */
const STDIN_NAME = '(stdin)';

function progressReporter(io: Io): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 100 && done + 1 < total) return;
    last = now;
    io.err(JSON.stringify({ progress: { done, total } }));
  };
}

import { existsSync } from 'node:fs';
import path from 'node:path';
import { scanPaths, DEFAULT_MAX_FILE_SIZE, type ParallelOptions } from '../core/detect/scanFiles';
import { toJson, toSarif, toText } from '../core/detect/report';
import { KeysentryError, type Finding } from '../core/types';
import { isKeyIdShape } from '../core/detect/patterns';
import { gitCommittableFiles, gitTopLevel } from '../git/files';
import { formatFlag, parseArgs } from './args';
import type { Io } from './io';

export const SCAN_USAGE = `usage: keysentry scan [PATH...] [--format text|json|sarif] [--all-files] [--baseline FILE] [--max-file-size BYTES] [--fail-on-skip]
                     [--check-live [--profile P] [--region R] [--endpoint-url URL]]

Scans what git would commit (tracked and not-ignored untracked files) for AWS access keys,
secret keys, session tokens and private keys. Outside a git repository, scans all files
except dependency folders. --all-files scans everything. Binary files are scanned as their
printable strings; UTF-16 and UTF-32 text is decoded. A symlink named as PATH is followed.
Every file or folder that could not be scanned (too large, unreadable, not a regular file) is
listed in the report (stats.skipped in JSON); --fail-on-skip makes that exit 3, for CI.
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
  const result = await scanPaths(
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

function progressReporter(io: Io): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 100 && done + 1 < total) return;
    last = now;
    io.err(JSON.stringify({ progress: { done, total } }));
  };
}

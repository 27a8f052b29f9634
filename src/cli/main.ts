import path from 'node:path';
import { escapeControl, escapeLines } from '../core/escape';
import { redact } from '../core/mask';
import { KeysentryError } from '../core/types';
import type { Io } from './io';
import { allowlistCommand, ALLOWLIST_USAGE, installHookCommand, INSTALL_USAGE, prePushCommand, PREPUSH_USAGE } from './prepush';
import { scanCommand, SCAN_USAGE } from './scan';

import { VERSION as version } from '../core/version';
import { UsageError } from './args';

const USAGE = `keysentry ${version}: find leaked AWS credentials and private keys

usage: keysentry <command> [options]

commands:
  scan [PATH...]   scan files for AWS keys and private keys (keysentry scan --help)
  pre-push         scan what a push adds (run by the git hook; keysentry pre-push --help)
  install-hook     add (or --uninstall) the pre-push hook in this repository
  allowlist        accept the last blocked push's findings (--last-push)
  check KEY_ID...  is a key live, whose is it, when was it last used (keysentry check --help)
  investigate KEY_ID  what a key (or --user) did, from CloudTrail (keysentry investigate --help)
  check-key-pair FILE...  which EC2 key pair is this private key, where, which instances
  contain ACTION TARGET  isolate, release, stop… one resource, plan first (keysentry contain --help)
  rotate KEY_ID    rotate a leaked access key through IAM (keysentry rotate --help)
  audit            check an AWS account for open SSH/RDP, unknown instances, old keys, no MFA…
  notice FILE      read an AWS abuse notice and print what it says (keysentry notice --help)
  help             show this help
  version          print the version

Exit status: 0 clean, 1 findings, 2 error.`;

const HELP: Record<string, string> = { scan: SCAN_USAGE, 'pre-push': PREPUSH_USAGE, 'install-hook': INSTALL_USAGE, allowlist: ALLOWLIST_USAGE };

const MAX_STDIN_BYTES = 16 * 1024 * 1024;

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    if (process.stdin.isTTY) return resolve('');
    const chunks: Buffer[] = [];
    let size = 0;
    process.stdin.on('data', (d: Buffer) => {
      size += d.length;
      // Nothing Keysentry reads from standard input (ref lines, a notice, a secret) comes near this.
      if (size > MAX_STDIN_BYTES) {
        process.stdin.destroy();
        reject(new KeysentryError(`standard input is larger than ${MAX_STDIN_BYTES / 1024 / 1024} MB`));
        return;
      }
      chunks.push(d);
    });
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

/** The code of an MFA device (a profile's `mfa_serial`), asked on the terminal; never echoed to a log. */
async function mfaCodeOnTty(serial: string): Promise<string> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) throw new KeysentryError(`the profile needs a code from the MFA device ${serial} (mfa_serial): run keysentry in a terminal to type it`);
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(`MFA code for ${serial}: `)).trim();
  } finally {
    rl.close();
  }
}

async function confirmOnTty(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

const AWS_COMMANDS = new Set(['check', 'check-key-pair', 'investigate', 'rotate', 'audit']);

/** The usage of `command`, for the line after an argument error. */
async function usageOf(command: string | undefined): Promise<string> {
  switch (command) {
    case 'check-key-pair':
      return (await import('./keyPair')).KEY_PAIR_USAGE;
    case 'investigate':
      return (await import('./investigate')).INVESTIGATE_USAGE;
    case 'check':
      return (await import('./check')).CHECK_USAGE;
    case 'rotate':
      return (await import('./rotate')).ROTATE_USAGE;
    case 'audit':
      return (await import('./audit')).AUDIT_USAGE;
    case 'notice':
      return (await import('./audit')).NOTICE_USAGE;
    default:
      return HELP[command ?? ''] ?? USAGE;
  }
}

/**
 * Every JSON object a command prints carries `version` (the Keysentry that wrote it), first, so
 * CI logs and stored reports say which release produced them. SARIF keeps its own `version`
 * (the SARIF schema's) and names Keysentry's in tool.driver.version.
 */
export function withVersion(text: string, v: string = version): string {
  if (!text.trimStart().startsWith('{')) return text;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value) || 'version' in value || '$schema' in value) return text;
  const indent = /^\{\n( +)"/.exec(text)?.[1]?.length;
  return JSON.stringify({ version: v, ...value }, null, indent);
}

export async function main(argv: string[], outerIo: Io): Promise<number> {
  const [command, ...rest] = argv;
  const io: Io = { ...outerIo, out: (text) => outerIo.out(withVersion(text, outerIo.version)) };
  try {
    // Profiles with mfa_serial ask for the code where the user is: the terminal.
    if (io.mfaCode && AWS_COMMANDS.has(command ?? '')) (await import('../aws/clients')).setMfaCodeProvider(io.mfaCode);
    switch (command) {
      case 'scan':
        return await scanCommand(rest, io);
      case 'pre-push':
        return await prePushCommand(rest, io);
      case 'install-hook':
        return await installHookCommand(rest, io);
      case 'allowlist':
        return await allowlistCommand(rest, io);
      case 'check':
        return await (await import('./check')).checkCommand(rest, io);
      case 'check-key-pair':
        return await (await import('./keyPair')).keyPairCommand(rest, io);
      case 'contain':
        return await (await import('./contain')).containCommand(rest, io);
      case 'investigate':
        return await (await import('./investigate')).investigateCommand(rest, io);
      case 'rotate':
        // Loaded on demand: the AWS SDK is not parsed for scans and pre-push hooks.
        return await (await import('./rotate')).rotateCommand(rest, io);
      case 'audit':
        return await (await import('./audit')).auditCommand(rest, io);
      case 'notice':
        return await (await import('./audit')).noticeCommand(rest, io);
      case 'version':
      case '--version':
        io.out(rest.includes('--format=json') || (rest[0] === '--format' && rest[1] === 'json') ? JSON.stringify({ version: io.version }) : io.version);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        if (rest[0] === 'contain') {
          io.out((await import('./contain')).CONTAIN_USAGE);
          return 0;
        }
        if (rest[0] === 'check-key-pair') {
          io.out((await import('./keyPair')).KEY_PAIR_USAGE);
          return 0;
        }
        if (rest[0] === 'investigate') {
          io.out((await import('./investigate')).INVESTIGATE_USAGE);
          return 0;
        }
        if (rest[0] === 'check') {
          io.out((await import('./check')).CHECK_USAGE);
          return 0;
        }
        if (rest[0] === 'rotate') {
          io.out((await import('./rotate')).ROTATE_USAGE);
          return 0;
        }
        if (rest[0] === 'audit' || rest[0] === 'notice') {
          const m = await import('./audit');
          io.out(rest[0] === 'audit' ? m.AUDIT_USAGE : m.NOTICE_USAGE);
          return 0;
        }
        io.out(command === undefined ? USAGE : (HELP[rest[0] ?? ''] ?? USAGE));
        return command === undefined ? 2 : 0;
      default:
        io.err(`keysentry: unknown command "${escapeControl(command)}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    // Errors never carry a secret: redact anyway, in case one came from an SDK or a file.
    const message = e instanceof KeysentryError ? e.message : `unexpected error: ${(e as Error)?.stack ?? String(e)}`;
    io.err(`keysentry: ${escapeLines(redact(message))}`);
    // A mistake in the command line: say how to write it, on stderr (stdout may be a report file).
    if (e instanceof UsageError) io.err(`\n${await usageOf(command)}`);
    return 2;
  }
}

/** FORCE_COLOR (not 0/false) forces colour (CI logs that render it), NO_COLOR turns it off, else only on a terminal. */
export function wantColor(env: NodeJS.ProcessEnv, isTty: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return !['0', 'false'].includes(force.toLowerCase());
  if (env.NO_COLOR) return false;
  return isTty;
}

if (require.main === module) {
  // The pinned SDK runs on Node 20; its notice about future releases needing Node 22 is not for
  // our users. Set here, in the CLI's own process only, before the SDK is loaded on demand.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const io: Io = {
    out: (t) => process.stdout.write(t + '\n'),
    err: (t) => process.stderr.write(t + '\n'),
    cwd: process.cwd(),
    color: wantColor(process.env, !!process.stdout.isTTY),
    version,
    readStdin,
    confirm: process.stdin.isTTY && process.stderr.isTTY ? confirmOnTty : undefined,
    mfaCode: mfaCodeOnTty,
    onInterrupt: (handler) => {
      process.once('SIGINT', handler);
      process.once('SIGTERM', handler);
    },
    scriptPath: path.resolve(process.argv[1] ?? __filename),
    progress: process.stderr.isTTY ? (text) => process.stderr.write(`\r\x1b[K${text}`) : undefined,
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`keysentry: ${escapeLines(redact(String(e)))}\n`);
      process.exitCode = 2;
    },
  );
}

import { redact } from '../core/mask';
import { KeysentryError } from '../core/types';
import type { Io } from './io';
import { scanCommand, SCAN_USAGE } from './scan';

declare const KEYSENTRY_VERSION: string;
const version = typeof KEYSENTRY_VERSION === 'string' ? KEYSENTRY_VERSION : '0.0.0-dev';

const USAGE = `keysentry ${version}: find leaked AWS credentials and private keys

usage: keysentry <command> [options]

commands:
  scan [PATH...]   scan files for AWS keys and private keys (keysentry scan --help)
  help             show this help
  version          print the version

Exit status: 0 clean, 1 findings, 2 error.`;

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'scan':
        return await scanCommand(rest, io);
      case 'version':
      case '--version':
        io.out(version);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(command === undefined ? USAGE : rest[0] === 'scan' ? SCAN_USAGE : USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.err(`keysentry: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    // Errors never carry a secret: redact anyway, in case one came from an SDK or a file.
    const message = e instanceof KeysentryError ? e.message : `unexpected error: ${(e as Error)?.stack ?? String(e)}`;
    io.err(`keysentry: ${redact(message)}`);
    return 2;
  }
}

if (require.main === module) {
  const io: Io = {
    out: (t) => process.stdout.write(t + '\n'),
    err: (t) => process.stderr.write(t + '\n'),
    cwd: process.cwd(),
    color: !!process.stdout.isTTY && !process.env.NO_COLOR,
    version,
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`keysentry: ${redact(String(e))}\n`);
      process.exitCode = 2;
    },
  );
}

import { KeysentryError } from '../core/types';

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
  /** Values of repeatable flags, in order. */
  lists: Map<string, string[]>;
}

/**
 * Parses `--flag`, `--flag value`, `--flag=value`. `valued` lists the flags that take a value;
 * unknown flags are an error, so a typo never silently changes what is scanned.
 */
export function parseArgs(argv: string[], valued: string[], booleans: string[], repeatable: string[] = []): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (valued.includes(name) || repeatable.includes(name)) {
      const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new KeysentryError(`--${name} needs a value`);
      flags.set(name, value);
      if (repeatable.includes(name)) lists.set(name, [...(lists.get(name) ?? []), value]);
    } else if (booleans.includes(name) && eq === -1) {
      flags.set(name, true);
    } else {
      throw new KeysentryError(`unknown option --${name}`);
    }
  }
  return { positional, flags, lists };
}

/** The value of `--format` (default `text`), one of `allowed`; anything else is a clear error. */
export function formatFlag<T extends string>(args: ParsedArgs, allowed: readonly T[]): T {
  const format = (args.flags.get('format') as string | undefined) ?? 'text';
  if (!allowed.includes(format as T)) throw new KeysentryError(`--format must be ${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]} (got "${format}")`);
  return format as T;
}

import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';
import { KeysentryError } from '../core/types';

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
  /** Values of repeatable flags, in order. */
  lists: Map<string, string[]>;
}

/** A mistake in the command line (unknown option, missing value): the command's usage follows it on stderr. */
export class UsageError extends KeysentryError {}

/**
 * Parses `--flag`, `--flag value`, `--flag=value` with node:util's parseArgs (strict: unknown
 * flags are an error, so a typo never silently changes what is scanned). `valued` lists the flags
 * that take a value, `repeatable` those that may be given more than once. `-h` is `--help` where
 * the command has one; `-` alone is a positional (standard input), `--` ends the options, and a
 * value that starts with a dash must be written `--flag=-value`.
 */
export function parseArgs(argv: string[], valued: string[], booleans: string[], repeatable: string[] = []): ParsedArgs {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const name of valued) options[name] = { type: 'string' };
  for (const name of repeatable) options[name] = { type: 'string', multiple: true };
  for (const name of booleans) options[name] = { type: 'boolean', ...(name === 'help' ? { short: 'h' } : {}) };
  let parsed;
  try {
    parsed = nodeParseArgs({ args: argv, options, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    throw new UsageError(explain(e as Error & { code?: string }, argv));
  }
  const flags = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  // In command-line order, so the last of a repeated flag wins as before.
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') continue;
    if (t.value === undefined) flags.set(t.name, true);
    else {
      flags.set(t.name, t.value);
      if (repeatable.includes(t.name)) lists.set(t.name, [...(lists.get(t.name) ?? []), t.value]);
    }
  }
  return { positional: parsed.positionals, flags, lists };
}

/** node:util's messages name internals ("Option '--x <value>' argument missing"); ours say what to do. */
function explain(e: Error & { code?: string }, argv: string[]): string {
  const option = /--[\w-]+/.exec(e.message)?.[0] ?? /'(-[^' ,]+)/.exec(e.message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? ''}`.trim() + (option && !option.startsWith('--') ? ' (to name a file that starts with "-", write -- before it)' : '');
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing/.test(e.message)) return `${option ?? 'an option'} needs a value`;
      if (/ambiguous/.test(e.message)) return `${option ?? 'an option'} needs a value (to give one that starts with "-", write ${option ?? '--option'}=VALUE)`;
      return `${option ?? 'an option'} does not take a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${JSON.stringify(argv.find((a) => !a.startsWith('-')) ?? '')}`;
    default:
      return e.message;
  }
}

/** The value of `--format` (default `text`), one of `allowed`; anything else is a clear error. */
export function formatFlag<T extends string>(args: ParsedArgs, allowed: readonly T[]): T {
  const format = (args.flags.get('format') as string | undefined) ?? 'text';
  if (!allowed.includes(format as T)) throw new UsageError(`--format must be ${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]} (got "${format}")`);
  return format as T;
}

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main';
import type { Io } from '../../src/cli/io';

export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'keysentry-unit-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function runCli(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n'), cwd, color: false, version: 'test' };
  const code = await main(args, io);
  return { code, out, err };
}

/** Asserts no raw secret (or a long piece of one) appears in any of the outputs. */
export function assertNoSecret(outputs: string[], secrets: string[]): void {
  for (const s of secrets) {
    const needles = s.includes('PRIVATE KEY') ? s.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----')) : [s];
    for (const o of outputs) for (const n of needles) if (o.includes(n)) throw new Error(`raw secret leaked into output: ${n.slice(0, 4)}…`);
  }
}

/**
 * Runs the built CLI (dist/cli.js) as its own process with exactly `env` (plus PATH), optional
 * standard input, and collects its output; `outputs`, when given, receives stdout and stderr for
 * the end-of-file secret grep.
 */
export function runBuiltCli(args: string[], env: Record<string, string>, opts: { stdin?: string; cwd?: string; outputs?: string[] } = {}): Promise<{ code: number | null; out: string; err: string }> {
  const cli = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: opts.cwd, env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      opts.outputs?.push(out, err);
      resolve({ code, out, err });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

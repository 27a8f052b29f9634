import { chmodSync, renameSync, writeFileSync } from 'node:fs';

/**
 * Writes through a temporary file in the same folder and a rename: a crash leaves the old
 * content or the new, never half. `mode`, when given, is set on the new file.
 */
export function writeFileAtomic(file: string, content: string | Buffer, mode?: number): void {
  const tmp = `${file}.keysentry-${process.pid}.tmp`;
  writeFileSync(tmp, content, mode === undefined ? undefined : { mode });
  if (mode !== undefined) chmodSync(tmp, mode);
  renameSync(tmp, file);
}

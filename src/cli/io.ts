/** What a CLI command may touch: injected so tests can run commands in-process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  color: boolean;
  version: string;
}

/** What a CLI command may touch: injected so tests can run commands in-process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  color: boolean;
  version: string;
  /** All of standard input (git's pre-push ref lines). */
  readStdin?: () => Promise<string>;
  /** Absolute path of the running CLI script, recorded in the hooks it installs. */
  scriptPath?: string;
}

/** What a CLI command may touch: injected so tests can run commands in-process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  color: boolean;
  version: string;
  /** All of standard input (git's pre-push ref lines). */
  readStdin?: () => Promise<string>;
  /** Asks a yes/no question on the terminal; absent when there is none to ask. */
  confirm?: (question: string) => Promise<boolean>;
  /** Asks for the code of an MFA device (a profile's mfa_serial); absent in tests and without a terminal. */
  mfaCode?: (serial: string) => Promise<string>;
  /** Registers a handler for Ctrl-C / SIGTERM (a running rotation stops at the next step and rolls back). */
  onInterrupt?: (handler: () => void) => void;
  /** Shows transient progress (a terminal's status line); absent when stderr is not a terminal. */
  progress?: (text: string) => void;
  /** Absolute path of the running CLI script, recorded in the hooks it installs. */
  scriptPath?: string;
}

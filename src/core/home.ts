import { homedir } from 'node:os';
import path from 'node:path';

/** Keysentry's own state (rotation journals, incidents): `$KEYSENTRY_HOME`, default `~/.keysentry`. */
export const keysentryHome = (): string => process.env.KEYSENTRY_HOME || path.join(homedir(), '.keysentry');

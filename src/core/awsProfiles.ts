import { loadSharedConfigFiles } from '@smithy/core/config';
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * AWS's shared files, as the CLI and SDKs find them: `~/.aws/config` and `~/.aws/credentials`,
 * relocatable with AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE. Their contents are read by
 * the SDK's own loader, never parsed here, so Keysentry agrees with every other AWS tool.
 */
export const configFile = (): string => process.env.AWS_CONFIG_FILE || path.join(homedir(), '.aws', 'config');
export const credentialsFile = (): string => process.env.AWS_SHARED_CREDENTIALS_FILE || path.join(homedir(), '.aws', 'credentials');

const MAX_SHARED_FILE = 16 * 1024 * 1024;
const problemOf = (f: string, st: { isFile(): boolean; size: number }): string | undefined =>
  !st.isFile()
    ? `${f} is not a regular file (a FIFO, a device or a folder): the AWS SDK reads it and would wait on it forever. Point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at a regular file.`
    : st.size > MAX_SHARED_FILE
      ? `${f} is ${st.size} bytes: too large to be an AWS configuration file`
      : undefined;

/**
 * The AWS SDK reads ~/.aws/config and ~/.aws/credentials (through symlinks) for every client; a
 * FIFO or a device there would make it wait forever (or read without end). What is wrong, if anything.
 */
export function sharedFilesProblem(): string | undefined {
  for (const f of [configFile(), credentialsFile()]) {
    let st;
    try {
      st = statSync(f);
    } catch {
      continue; // missing: fine
    }
    const p = problemOf(f, st);
    if (p) return p;
  }
  return undefined;
}

/** The same check without blocking the thread (the extension host). */
export async function sharedFilesProblemAsync(): Promise<string | undefined> {
  for (const f of [configFile(), credentialsFile()]) {
    const st = await stat(f).catch(() => undefined);
    const p = st && problemOf(f, st);
    if (p) return p;
  }
  return undefined;
}

/** Section prefixes of the config file that are not profiles (the SDK keys them `prefix.name`). */
const NOT_PROFILES = ['sso-session.', 'services.'];

/**
 * Profile names from both files as the SDK reads them (`[profile x]` and `[default]` in config,
 * `[x]` in credentials), `default` first; none when a file is not a regular one.
 */
export async function listProfiles(): Promise<string[]> {
  if (await sharedFilesProblemAsync()) return [];
  const { configFile: config, credentialsFile: credentials } = await loadSharedConfigFiles({ ignoreCache: true });
  const names = new Set<string>();
  for (const name of Object.keys(config)) if (!NOT_PROFILES.some((p) => name.startsWith(p))) names.add(name);
  for (const name of Object.keys(credentials)) names.add(name);
  return [...names].sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
}

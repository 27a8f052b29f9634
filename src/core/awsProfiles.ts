import { realpathSync } from 'node:fs';
import { readConfigFile } from './detect/configFiles';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * AWS's shared files, as the CLI and SDKs read them: `~/.aws/config` (`[profile NAME]`,
 * `[default]`, `[sso-session X]`) and `~/.aws/credentials` (`[NAME]`), relocatable with
 * AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE.
 */
export const configFile = (): string => process.env.AWS_CONFIG_FILE || path.join(homedir(), '.aws', 'config');
export const credentialsFile = (): string => process.env.AWS_SHARED_CREDENTIALS_FILE || path.join(homedir(), '.aws', 'credentials');

/** Sections of an INI file: name → key → value (comments and blank lines skipped). */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1] as string, current);
      continue;
    }
    const kv = /^([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (kv && current) current.set((kv[1] as string).toLowerCase(), (kv[2] as string).trim());
  }
  return sections;
}

/** A shared AWS file, through its symlink, only when it is a regular file of at most 1 MB (a FIFO there must not hang anything). */
const read = (f: string): string => {
  let target: string;
  try {
    target = realpathSync(f);
  } catch {
    return '';
  }
  const r = readConfigFile(target);
  return r.status === 'ok' ? r.text : '';
};

/** Profile names from both files, `default` first. */
export function listProfiles(): string[] {
  const names = new Set<string>();
  for (const name of parseIni(read(configFile())).keys()) {
    if (name === 'default') names.add('default');
    else if (name.startsWith('profile ')) names.add(name.slice(8).trim());
  }
  for (const name of parseIni(read(credentialsFile())).keys()) names.add(name);
  return [...names].sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
}

/** The `region` of a profile in the config file, if set. */
export function profileRegion(profile: string): string | undefined {
  const ini = parseIni(read(configFile()));
  return ini.get(profile === 'default' ? 'default' : `profile ${profile}`)?.get('region');
}

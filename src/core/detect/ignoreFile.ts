/**
 * gitignore-style patterns, as `.secretlintignore` uses them: `#` comments, `!` negation,
 * a leading or inner `/` anchors to the folder of the ignore file, a trailing `/` matches
 * folders only, `*`, `?`, `**` and `[...]`.
 */
interface Rule {
  negate: boolean;
  dirOnly: boolean;
  regex: RegExp;
}

function globToRegex(glob: string, anchored: boolean): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        re += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close === -1) re += '\\[';
      else {
        re += '[' + glob.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else if (ch === '\\' && i + 1 < glob.length) {
      re += glob[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${anchored ? '' : '(?:.*/)?'}${re}$`);
}

export class IgnoreMatcher {
  private readonly rules: Rule[] = [];

  constructor(text = '') {
    for (let line of text.split(/\r?\n/)) {
      if (!line.trim() || line.startsWith('#')) continue;
      line = line.replace(/(?<!\\)\s+$/, '');
      const negate = line.startsWith('!');
      if (negate) line = line.slice(1);
      const dirOnly = line.endsWith('/');
      if (dirOnly) line = line.slice(0, -1);
      const anchored = line.includes('/');
      if (line.startsWith('/')) line = line.slice(1);
      if (!line) continue;
      this.rules.push({ negate, dirOnly, regex: globToRegex(line, anchored) });
    }
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** `relPath` uses `/` and is relative to the ignore file's folder. */
  ignores(relPath: string): boolean {
    if (this.rules.length === 0) return false;
    const parts = relPath.split('/');
    // A file is ignored when it, or any folder above it, is ignored (git's rule: a negation cannot re-include inside an ignored folder).
    for (let depth = 1; depth <= parts.length; depth++) {
      const candidate = parts.slice(0, depth).join('/');
      const isDir = depth < parts.length;
      let ignored = false;
      for (const rule of this.rules) {
        if (rule.dirOnly && !isDir) continue;
        if (rule.regex.test(candidate)) ignored = !rule.negate;
      }
      if (ignored) return true;
    }
    return false;
  }
}

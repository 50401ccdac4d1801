import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const MAGIC = /[*?[]/;

/**
 * The paths a relative glob pattern names under `dir`, sorted: POSIX glob(3) pathname matching, as
 * the CWL specification asks for `outputBinding.glob`. `*` and `?` match within one path component,
 * `[...]` (`[!...]` negated) one character of a set, `\` quotes the next character; a name starting
 * with `.` is matched only by a pattern component that starts with `.` itself. Symbolic links are
 * followed, so a staged Directory (a link to it) is matched like any directory. `**` is `*`, and
 * braces are literal, as with the reference runner (Python's non-recursive `glob`).
 */
export function globRelative(dir: string, pattern: string): string[] {
  let found = [''];
  const components = pattern.split('/').filter((c) => c !== '');
  for (const [i, component] of components.entries()) {
    const last = i === components.length - 1;
    const next: string[] = [];
    for (const base of found) {
      for (const name of matchComponent(path.join(dir, base), component)) {
        const relative = base === '' ? name : `${base}/${name}`;
        if (last ? existsSync(path.join(dir, relative)) : isDirectory(path.join(dir, relative))) next.push(relative);
      }
    }
    found = next;
    if (!found.length) break;
  }
  return [...new Set(found)].sort();
}

function matchComponent(dir: string, component: string): string[] {
  if (!MAGIC.test(component)) return [component.replace(/\\(.)/g, '$1')];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const regex = componentRegex(component);
  const hidden = component.startsWith('.');
  return names.filter((name) => (hidden || !name.startsWith('.')) && regex.test(name));
}

/** One pattern component as an anchored regular expression. */
export function componentRegex(component: string): RegExp {
  let source = '';
  for (let i = 0; i < component.length; i++) {
    const ch = component[i]!;
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else if (ch === '\\' && i + 1 < component.length) source += escape(component[++i]!);
    else if (ch === '[') {
      // A set runs to the first `]` after its first member; without one, `[` is itself.
      let j = i + 1;
      if (component[j] === '!') j++;
      if (component[j] === ']') j++;
      while (j < component.length && component[j] !== ']') j++;
      if (j >= component.length) {
        source += '\\[';
        continue;
      }
      let members = component.slice(i + 1, j);
      const negated = members.startsWith('!');
      if (negated) members = members.slice(1);
      source += `[${negated ? '^' : ''}${members.replace(/[\\\]^]/g, (c) => `\\${c}`)}]`;
      i = j;
    } else source += escape(ch);
  }
  return new RegExp(`^${source}$`, 's');
}

const escape = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function isDirectory(full: string): boolean {
  try {
    return statSync(full).isDirectory();
  } catch {
    return false;
  }
}

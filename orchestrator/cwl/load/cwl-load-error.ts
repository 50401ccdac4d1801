import { InvalidInputError, type InputIssue } from '../../../core/index.ts';

/** A CWL document that cannot be loaded: names the file, and where known the line and field. */
export class CwlLoadError extends InvalidInputError {
  constructor(file: string, message: string, issues: Omit<InputIssue, 'file'>[] = [], options: { cause?: unknown } = {}) {
    const first = issues[0];
    const where = first?.line ? `${file}:${first.line}${first.column ? `:${first.column}` : ''}` : file;
    super(`${where}: ${message}`, issues.map((i) => ({ ...i, file })), options);
  }
}

/** The 1-based line where a path of keys appears in YAML/JSON text, following the keys down. */
export function lineOfPath(text: string, path: readonly (string | number)[]): number | undefined {
  const lines = text.split('\n');
  let from = 0;
  let found: number | undefined;
  for (const key of path) {
    if (typeof key === 'number') continue;
    const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`(^|[\\s{,-])["']?${escaped}["']?\\s*:`);
    const index = lines.findIndex((line, i) => i >= from && pattern.test(line));
    if (index < 0) return found;
    found = index + 1;
    from = index + 1;
  }
  return found;
}

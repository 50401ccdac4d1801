import { load, YAMLException } from 'js-yaml';

/** Why a YAML or JSON text could not be read, and where (1-based line and column, when known). */
export class YamlProblem extends Error {
  /** What is wrong, for messages: "not valid YAML: ..." for a syntax error. */
  readonly summary: string;
  readonly reason: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(reason: string, syntax: boolean, line?: number, column?: number, options: ErrorOptions = {}) {
    super(`${line ? `line ${line}${column ? `, column ${column}` : ''}: ` : ''}${reason}`, options);
    this.summary = syntax ? `not valid YAML: ${reason}` : reason;
    this.reason = reason;
    this.line = line;
    this.column = column;
  }

  /** `file:line:column` (as much of it as is known), for messages. */
  at(file: string): string {
    return `${file}${this.line ? `:${this.line}${this.column ? `:${this.column}` : ''}` : ''}`;
  }

  /** The problem as an input issue about `path`. */
  issue(path: string): { path: string; message: string; line?: number; column?: number } {
    return { path, message: this.reason, ...(this.line ? { line: this.line } : {}), ...(this.column ? { column: this.column } : {}) };
  }
}

export interface ParseYamlOptions {
  /** Named in js-yaml's own messages. */
  file?: string;
  /**
   * Values (scalars, sequences, mappings) the document may hold once its aliases are expanded. An alias
   * bomb (`&a [*a, *a, ...]` nested) is a few hundred bytes that expand to billions of values: whatever
   * walks the result (validation, JSON, a copy) would grow without bound. Default: 4 per character of
   * text, at least 10,000 — a document without aliases holds fewer values than half its characters.
   */
  maxValues?: number;
}

/**
 * One YAML (or JSON) document, parsed; `YamlProblem` names the line and column of a syntax error, or
 * says the document expands past its bound. The only YAML parser of documents and jobs users give.
 */
export function parseYaml(text: string, options: ParseYamlOptions = {}): unknown {
  let value: unknown;
  try {
    value = load(text, options.file ? { filename: options.file } : {});
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const mark = error.mark as { line?: number; column?: number } | undefined;
    const line = typeof mark?.line === 'number' ? mark.line + 1 : undefined;
    const column = typeof mark?.column === 'number' ? mark.column + 1 : undefined;
    throw new YamlProblem(error.reason || 'cannot be parsed', true, line, column, { cause: error });
  }
  const max = options.maxValues ?? Math.max(10_000, 4 * text.length);
  if (countValues(value, max) > max) {
    throw new YamlProblem(`the document expands to more than ${max} values once its aliases (*name) are resolved: an alias bomb, or aliases nested too deep`, false);
  }
  return value ?? null;
}

/** Values in `root`, counting shared (aliased) ones each time they appear; stops past `max`. */
function countValues(root: unknown, max: number): number {
  let count = 0;
  const pending: unknown[] = [root];
  while (pending.length) {
    const value = pending.pop();
    if (++count > max) return count;
    if (value === null || typeof value !== 'object') continue;
    for (const item of Array.isArray(value) ? value : Object.values(value)) pending.push(item);
  }
  return count;
}

import { InvalidInputError, type InputIssue } from '../../../core/index.ts';
import { parsePath, positionOf } from './yaml-positions.ts';

/** A CWL document that cannot be loaded: names the file, and where known the line and field. */
export class CwlLoadError extends InvalidInputError {
  constructor(file: string, message: string, issues: Omit<InputIssue, 'file'>[] = [], options: { cause?: unknown } = {}) {
    const first = issues[0];
    const where = first?.line ? `${file}:${first.line}${first.column ? `:${first.column}` : ''}` : file;
    super(`${where}: ${message}`, issues.map((i) => ({ ...i, file })), options);
  }
}

/**
 * An issue about `field` (`steps[0].run.inputs.x`), at the line and column of its value in `text` (of its
 * key with `what: 'key'`) when the text holds it.
 */
export function issueAt(text: string | undefined, field: string, message: string, what: 'key' | 'value' = 'value'): Omit<InputIssue, 'file'> {
  const position = text === undefined ? undefined : positionOf(text, parsePath(field), what);
  return { path: field, message, ...(position ? { line: position.line, column: position.column } : {}) };
}

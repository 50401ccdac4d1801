import { describeError, InvalidInputError, isArchipelError } from '../core/index.ts';

/**
 * A failure as the CLI prints it: `archipel: <message>`, then each problem on its own line with its
 * file and line when there are several. Never a stack trace (ARCHIPEL_DEBUG=1 adds one for bugs).
 */
export function formatFailure(error: unknown): string {
  if (!isArchipelError(error)) return `archipel: unexpected error: ${describeError(error)}\n`;
  let text = `archipel: ${error.message}\n`;
  if (error instanceof InvalidInputError && error.issues.length > 1) {
    for (const issue of error.issues) {
      const where = issue.file ? `${issue.file}${issue.line ? `:${issue.line}` : ''}: ` : '';
      text += `  - ${where}${issue.path}: ${issue.message}\n`;
    }
  }
  return text;
}

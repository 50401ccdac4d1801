import { InvalidInputError, type ErrorOptions } from '../../../core/index.ts';

/** Why an expression could not be evaluated. */
export type ExpressionFailure =
  | 'syntax' // unterminated `$(`/`${`, or JavaScript that does not parse
  | 'reference' // a parameter reference names something that is not there
  | 'requirement' // JavaScript used without InlineJavascriptRequirement
  | 'exception' // the JavaScript threw
  | 'timeout'
  | 'memory'
  | 'promise' // the value is a Promise: CWL expressions are synchronous
  | 'engine'; // the code broke the engine itself (native stack exhausted, WASM trap)

/** A CWL expression failed: the document's fault, so an invalid-input error (a `permanentFailure`). */
export class ExpressionError extends InvalidInputError {
  readonly reason: ExpressionFailure;
  /** The expression as written, shortened for messages. */
  readonly expression: string;

  constructor(reason: ExpressionFailure, message: string, expression: string, options: ErrorOptions = {}) {
    const shown = previewExpression(expression, 200);
    super(message, [], { ...options, details: { ...options.details, reason, expression: shown } });
    this.reason = reason;
    this.expression = shown;
  }

  /**
   * The same failure with where it happened in front of its message, innermost first: the field
   * (`outputs.out.outputBinding.glob`), then the document, then the step (`step s1`).
   */
  within(where: string): ExpressionError {
    return new ExpressionError(this.reason, `${where}: ${this.message}`, this.expression, { cause: this.cause, details: this.details });
  }
}

/** The start of an expression on one line, for error messages. */
export function previewExpression(code: string, max = 80): string {
  const line = code.trim().replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** What the runtime needs from the expression engine (see `../expressions`). */
export interface Evaluator {
  /**
   * `stripWhitespace: false` keeps whitespace around a lone expression (InitialWorkDir entries);
   * `field` is where the text is in the document (`arguments[0].valueFrom`), for errors.
   */
  evaluate(text: unknown, context: EvalContext, options?: { stripWhitespace?: boolean; field?: string }): unknown;
}

export interface EvalContext {
  inputs: Record<string, unknown>;
  self: unknown;
  runtime: Record<string, unknown>;
}

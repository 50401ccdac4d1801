/** What the runtime needs from the expression engine (see `../expressions`). */
export interface Evaluator {
  /** `stripWhitespace: false` keeps whitespace around a lone expression (InitialWorkDir entries). */
  evaluate(text: unknown, context: EvalContext, options?: { stripWhitespace?: boolean }): unknown;
}

export interface EvalContext {
  inputs: Record<string, unknown>;
  self: unknown;
  runtime: Record<string, unknown>;
}

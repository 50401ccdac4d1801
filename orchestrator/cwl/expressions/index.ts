export {
  createExpressionEvaluator,
  type EvaluateOptions,
  type ExpressionContext,
  type ExpressionEvaluator,
  type ExpressionEvaluatorOptions,
} from './expression-evaluator.ts';
export { containsExpression, scanExpressions, type ExpressionPart, type LiteralPart, type TemplatePart } from './scan-expressions.ts';
export { ExpressionError, type ExpressionFailure } from './expression-error.ts';
export { toCwlJsonText } from './cwl-json.ts';
export {
  createJsSandbox,
  DEFAULT_MAX_STACK_BYTES,
  DEFAULT_MEMORY_LIMIT_BYTES,
  DEFAULT_TIMEOUT_MS,
  type JsCodeKind,
  type JsContext,
  type JsSandbox,
  type JsSandboxOptions,
} from './js-sandbox.ts';

import { ConflictError } from '../../../core/index.ts';
import { toCwlJsonText } from './cwl-json.ts';
import { ExpressionError, previewExpression } from './expression-error.ts';
import { createJsSandbox, type JsSandbox } from './js-sandbox.ts';
import {
  parseParameterReference,
  resolveParameterReference,
  type ParameterContext,
  type ParameterReference,
} from './parameter-reference.ts';
import { scanExpressions, type ExpressionPart, type TemplatePart } from './scan-expressions.ts';

/** The parameter context: `inputs`, `self` (null where a field defines none) and `runtime`. */
export type ExpressionContext = ParameterContext;

export interface EvaluateOptions {
  /**
   * Trim leading and trailing whitespace before evaluating (default true), as cwltool does: a YAML
   * block scalar (`valueFrom: |`) ends with a newline, and `${...}\n` must still give the typed value
   * (CWL: no *non-whitespace* characters around → the value itself). Pass false where whitespace is
   * content — InitialWorkDir `entry` — where cwltool keeps it and a trailing newline makes a string.
   */
  stripWhitespace?: boolean;
  /** Where the text is in the document (`arguments[0].valueFrom`): errors name it. */
  field?: string;
}

export interface ExpressionEvaluator {
  /** True when InlineJavascriptRequirement is in force. */
  readonly javascript: boolean;
  /**
   * The value of a field that may hold expressions (CWL v1.2 "Expressions"): anything but a string
   * is returned as it is, and so is a string with no `$(` or `${`. A string that is one expression
   * gives that expression's value, of any JSON type; otherwise each expression's value is written
   * into the text — strings as they are, anything else as JSON (see `toCwlJsonText`). Objects and
   * arrays returned are copies. Throws `ExpressionError`, naming the field and the document.
   */
  evaluate(text: unknown, context: ExpressionContext, options?: EvaluateOptions): unknown;
  /** `console.*` lines written by expressions since the last call. */
  drainConsole(): string[];
  close(): void;
}

export interface ExpressionEvaluatorOptions {
  /** InlineJavascriptRequirement is present: `$(...)` may be any JavaScript and `${...}` is code. */
  javascript: boolean;
  expressionLib?: readonly string[];
  /** The document the expressions come from (its path): errors name it. */
  document?: string;
  timeoutMs?: number;
  memoryLimitBytes?: number;
  maxStackBytes?: number;
}

const MAX_CACHED = 4096;

/**
 * The expression engine of one process (one tool run): parameter references are resolved in
 * TypeScript, JavaScript runs in a QuickJS sandbox created here only when `javascript` is set.
 */
export async function createExpressionEvaluator(options: ExpressionEvaluatorOptions): Promise<ExpressionEvaluator> {
  let sandbox: JsSandbox | undefined;
  try {
    sandbox = options.javascript
      ? await createJsSandbox({
          expressionLib: options.expressionLib,
          timeoutMs: options.timeoutMs,
          memoryLimitBytes: options.memoryLimitBytes,
          maxStackBytes: options.maxStackBytes,
        })
      : undefined;
  } catch (error) {
    // An expressionLib that fails: its message already names `expressionLib[i]`.
    if (error instanceof ExpressionError && options.document !== undefined) throw error.within(options.document);
    throw error;
  }
  return new TemplateEvaluator(sandbox, options.document);
}

class TemplateEvaluator implements ExpressionEvaluator {
  readonly javascript: boolean;
  private readonly templates = new Map<string, TemplatePart[]>();
  private readonly references = new Map<string, ParameterReference | null>();
  private closed = false;

  constructor(
    private readonly sandbox: JsSandbox | undefined,
    private readonly document: string | undefined,
  ) {
    this.javascript = sandbox !== undefined;
  }

  evaluate(text: unknown, context: ExpressionContext, options: EvaluateOptions = {}): unknown {
    if (this.closed) throw new ConflictError('the expression evaluator is closed');
    // cwltool's rule: only text with `$(` or `${` is scanned, so escapes elsewhere stay as written.
    if (typeof text !== 'string' || (!text.includes('$(') && !text.includes('${'))) return text;
    try {
      return this.evaluateText(text, context, options);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      const inField = options.field !== undefined ? error.within(options.field) : error;
      throw this.document !== undefined ? inField.within(this.document) : inField;
    }
  }

  private evaluateText(text: string, context: ExpressionContext, options: EvaluateOptions): unknown {
    const source = options.stripWhitespace === false ? text : text.trim();
    const parts = this.scan(source);
    const [first] = parts;
    if (parts.length === 1 && first && first.kind !== 'literal') return this.evaluatePart(first, context, true);
    let result = '';
    for (const part of parts) {
      if (part.kind === 'literal') result += part.text;
      else {
        const value = this.evaluatePart(part, context, false);
        result += typeof value === 'string' ? value : toCwlJsonText(value);
      }
    }
    return result;
  }

  drainConsole(): string[] {
    return this.sandbox?.drainConsole() ?? [];
  }

  close(): void {
    this.closed = true;
    this.sandbox?.close();
  }

  private scan(text: string): TemplatePart[] {
    let parts = this.templates.get(text);
    if (!parts) {
      parts = scanExpressions(text, { javascript: this.javascript });
      remember(this.templates, text, parts);
    }
    return parts;
  }

  /** The value of one expression; a `whole` value is handed out, so it must not be part of the context. */
  private evaluatePart(part: ExpressionPart, context: ExpressionContext, whole: boolean): unknown {
    if (part.kind === 'body') return this.runJs(part, context);
    const reference = this.reference(part.code);
    if (reference) {
      try {
        const value = resolveParameterReference(reference, context, part.source);
        return whole && typeof value === 'object' && value !== null ? structuredClone(value) : value;
      } catch (error) {
        // With JavaScript the reference is just an expression: `inputs.missing` is undefined, not an error.
        if (!this.sandbox) throw error;
      }
    }
    if (!this.sandbox) {
      throw new ExpressionError(
        'requirement',
        `not a parameter reference, and JavaScript expressions need InlineJavascriptRequirement: ${previewExpression(part.source)}`,
        part.source,
      );
    }
    return this.runJs(part, context);
  }

  private runJs(part: ExpressionPart, context: ExpressionContext): unknown {
    if (!this.sandbox) throw new ExpressionError('requirement', `\${...} needs InlineJavascriptRequirement`, part.source);
    return this.sandbox.evaluate(part.code, part.kind, context);
  }

  private reference(code: string): ParameterReference | undefined {
    let reference = this.references.get(code);
    if (reference === undefined) {
      reference = parseParameterReference(code) ?? null;
      remember(this.references, code, reference);
    }
    return reference ?? undefined;
  }
}

/** Bounded memo: a tool has a fixed set of expression texts, so clearing when full is enough. */
function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, value);
}

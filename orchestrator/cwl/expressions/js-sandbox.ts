import { ConflictError, InvalidInputError, UnavailableError, describeError, type InputIssue } from '../../../core/index.ts';
import { ExpressionError, previewExpression, type ExpressionFailure } from './expression-error.ts';
import { openEngine, type EngineError, type JsCodeKind, type QuickJsEngine } from './quickjs-engine.ts';
import { instantiateQuickJs, type QuickJsInstance } from './quickjs-module.ts';

export type { JsCodeKind } from './quickjs-engine.ts';

/** The parameter context of a CWL expression. Values must be JSON data. */
export interface JsContext {
  inputs: unknown;
  self: unknown;
  runtime: unknown;
}

export interface JsSandboxOptions {
  /** InlineJavascriptRequirement.expressionLib: run once, in global scope, before any expression. */
  expressionLib?: readonly string[];
  /** Wall-clock limit of one evaluation. Default 20 s, cwltool's historical default. */
  timeoutMs?: number;
  /** Cap on the sandbox's whole WebAssembly memory (at least 16 MiB). Default 256 MiB. */
  memoryLimitBytes?: number;
  /** QuickJS stack limit, at most 4 MiB. Default 64 KiB: see DEFAULT_MAX_STACK_BYTES. */
  maxStackBytes?: number;
}

export interface JsSandbox {
  /**
   * Evaluates `$(code)` (`expression`) or `${code}` (`body`, a function body whose `return` is the
   * result) and returns its JSON value; `undefined` and non-JSON results become null, a Promise is
   * refused (expressions are synchronous: nothing would ever settle it). `inputs` is
   * sent to QuickJS only when it is not the very object of the previous call, so never change it in
   * place: pass a new object. `runtime` and `self` are compared by their JSON text. Throws
   * `ExpressionError`; `UnavailableError` (retryable) in the moment after an engine fault when no
   * replacement instance is ready yet.
   */
  evaluate(code: string, kind: JsCodeKind, context: JsContext): unknown;
  /** `console.*` lines written by expressions since the last call (at most 100 are kept). */
  drainConsole(): string[];
  close(): void;
}

export const DEFAULT_TIMEOUT_MS = 20_000;
export const DEFAULT_MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;
/**
 * QuickJS must report a stack overflow before V8's own native stack (about 1 MB, shared with the
 * WebAssembly frames) overflows. Measured in Node 20: at 64 KiB QuickJS stops plain recursion at
 * ~340 frames and JSON nesting at ~4,000 levels, well before V8 would (2,300 and 5,000–9,000).
 * Deeply nested source text (hundreds of parentheses) can still exhaust V8 first; that is an
 * engine fault, recovered by replacing the instance.
 */
export const DEFAULT_MAX_STACK_BYTES = 64 * 1024;
/** The release build's C stack is 5 MiB; a larger QuickJS limit wraps below it and every call overflows. */
const MAX_STACK_BYTES = 4 * 1024 * 1024;
const MAX_COMPILED = 2048;

interface Settings {
  readonly expressionLib: readonly string[];
  readonly timeoutMs: number;
  readonly memoryLimitBytes: number;
  readonly maxStackBytes: number;
}

/** A QuickJS sandbox on its own WebAssembly instance and memory. */
export async function createJsSandbox(options: JsSandboxOptions = {}): Promise<JsSandbox> {
  const settings = resolveSettings(options);
  // A second instance waits, so that an engine fault is recovered without waiting (evaluate is synchronous).
  const [instance, spare] = await Promise.all([
    instantiateQuickJs(settings.memoryLimitBytes),
    instantiateQuickJs(settings.memoryLimitBytes),
  ]);
  return new QuickJsSandbox(settings, instance, spare);
}

const NOT_SENT: unique symbol = Symbol('not sent');
/** What QuickJS holds: `inputs` by identity (it can be large), `runtime` and `self` by JSON text (small). */
type Sent = { inputs: unknown; runtime: string | undefined; self: string | undefined };
const nothingSent = (): Sent => ({ inputs: NOT_SENT, runtime: undefined, self: undefined });

class QuickJsSandbox implements JsSandbox {
  private engine: QuickJsEngine | undefined;
  private instance: QuickJsInstance;
  private spare: QuickJsInstance | undefined;
  private refilling = false;
  private sent: Sent = nothingSent();
  private deadline = 0;
  private closed = false;

  constructor(
    private readonly settings: Settings,
    instance: QuickJsInstance,
    spare: QuickJsInstance,
  ) {
    this.instance = instance;
    this.spare = spare;
    this.engine = this.open(instance);
  }

  evaluate(code: string, kind: JsCodeKind, context: JsContext): unknown {
    const engine = this.current();
    const source = kind === 'expression' ? `$(${code})` : `\${${code}}`;
    const runtime = JSON.stringify(context.runtime) ?? 'null';
    const self = JSON.stringify(context.self) ?? 'null';
    const texts = {
      inputs: this.sent.inputs === context.inputs ? undefined : (JSON.stringify(context.inputs) ?? 'null'),
      runtime: this.sent.runtime === runtime ? undefined : runtime,
      self: this.sent.self === self ? undefined : self,
    };
    this.deadline = Date.now() + this.settings.timeoutMs; // one deadline for compiling and running
    try {
      const fn = engine.compile(code, kind);
      if ('error' in fn) throw this.recover(this.classify(fn.error, source, 'syntax'));
      const outcome = engine.call(fn, texts);
      if (outcome.type === 'aborted') {
        this.sent = nothingSent(); // stopped part way: what QuickJS holds is unknown
        throw this.recover(this.classify(outcome.error, source, 'exception'));
      }
      this.sent = { inputs: context.inputs, runtime, self };
      if (outcome.type === 'thrown') throw this.recover(this.classifyThrown(outcome.description, source));
      if (outcome.type === 'thrown-null') {
        // QuickJS throws null when it cannot even allocate its "out of memory" error.
        throw this.recover(this.instance.memoryFull() ? this.classify(null, source, 'exception') : this.classifyThrown('uncaught null', source));
      }
      if (outcome.type === 'promise') {
        throw new ExpressionError('promise', `expression returned a Promise; CWL expressions must be synchronous: ${previewExpression(source)}`, source);
      }
      return outcome.json === undefined ? null : JSON.parse(outcome.json);
    } catch (error) {
      if (error instanceof ExpressionError) throw error;
      throw this.fault(error, source);
    } finally {
      this.deadline = 0;
    }
  }

  drainConsole(): string[] {
    const engine = this.current();
    try {
      return this.limited(() => engine.drainConsole());
    } catch (error) {
      throw this.fault(error, 'console');
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const engine = this.engine;
    this.engine = undefined;
    this.spare = undefined;
    try {
      engine?.dispose();
    } catch {
      // The instance is dropped either way; its memory goes with it.
    }
  }

  private current(): QuickJsEngine {
    if (this.closed) throw new ConflictError('the JavaScript sandbox is closed');
    if (!this.engine) throw new UnavailableError('the JavaScript sandbox is restarting after an engine fault');
    return this.engine;
  }

  private limited<T>(work: () => T): T {
    this.deadline = Date.now() + this.settings.timeoutMs;
    try {
      return work();
    } finally {
      this.deadline = 0;
    }
  }

  private open(instance: QuickJsInstance): QuickJsEngine {
    const engine = this.limited(() =>
      openEngine(instance.module, {
        maxStackBytes: this.settings.maxStackBytes,
        shouldInterrupt: () => Date.now() > this.deadline,
        maxCompiled: MAX_COMPILED,
      }),
    );
    for (const [index, code] of this.settings.expressionLib.entries()) {
      const source = `expressionLib[${index}]`;
      const result = this.limited(() => engine.runScript(code, `${source}.js`));
      if (result !== 'ok') {
        engine.dispose();
        const failure = this.classify(result, code, 'syntax');
        throw new ExpressionError(failure.reason, `${source}: ${failure.message}`, code, { cause: failure });
      }
    }
    this.sent = nothingSent();
    return engine;
  }

  /** The error for what QuickJS threw. */
  private classify(error: EngineError, source: string, otherwise: ExpressionFailure): ExpressionError {
    const preview = previewExpression(source);
    if (error?.message === 'interrupted') {
      return new ExpressionError('timeout', `expression timed out after ${this.settings.timeoutMs} ms: ${preview}`, source);
    }
    if (error === null || error.message === 'out of memory') {
      const limit = Math.round(this.settings.memoryLimitBytes / 2 ** 20);
      return new ExpressionError('memory', `expression ran out of memory (limit ${limit} MiB): ${preview}`, source);
    }
    const reason = otherwise === 'syntax' && error.name !== 'SyntaxError' ? 'exception' : otherwise;
    return new ExpressionError(reason, `expression failed: ${error.name}: ${error.message}: ${preview}`, source);
  }

  /** An exception the prelude caught, as `Name: message`. */
  private classifyThrown(description: string, source: string): ExpressionError {
    if (description.endsWith('out of memory')) return this.classify(null, source, 'exception');
    return new ExpressionError('exception', `expression failed: ${description}: ${previewExpression(source)}`, source);
  }

  /**
   * After running out of memory, drops whatever the heap still holds (a global may keep it full): the
   * spare instance takes over when one is ready, giving back the memory that grew to the cap (so that
   * `memoryFull` tells again); else a fresh runtime on the same instance.
   */
  private recover(failure: ExpressionError): ExpressionError {
    if (failure.reason !== 'memory') return failure;
    const engine = this.engine;
    this.engine = undefined;
    engine?.dispose();
    const spare = this.spare;
    this.spare = undefined;
    if (spare) this.adopt(spare);
    if (this.engine) this.refillSpare();
    else this.engine = this.open(this.instance);
    return failure;
  }

  /**
   * A host error escaped QuickJS: V8 ran out of native stack inside the WebAssembly code, or the
   * instance trapped. Its state can no longer be trusted (the C stack pointer was not restored), so
   * the instance is abandoned to the garbage collector and the spare takes over.
   */
  private fault(error: unknown, source: string): ExpressionError {
    this.engine = undefined;
    this.sent = nothingSent();
    const spare = this.spare;
    this.spare = undefined;
    if (spare) this.adopt(spare);
    this.refillSpare();
    const what = error instanceof RangeError ? 'exhausted the native stack' : `broke the JavaScript engine (${describeError(error)})`;
    return new ExpressionError('engine', `expression ${what}: ${previewExpression(source)}`, source, { cause: error });
  }

  private adopt(instance: QuickJsInstance): void {
    try {
      this.engine = this.open(instance);
      this.instance = instance;
    } catch {
      // Left without an engine: evaluate answers "unavailable" until a new instance is ready.
    }
  }

  private refillSpare(): void {
    if (this.closed || this.refilling) return;
    this.refilling = true;
    instantiateQuickJs(this.settings.memoryLimitBytes).then(
      (instance) => {
        this.refilling = false;
        if (this.closed) return;
        if (this.engine) this.spare = instance;
        else {
          this.adopt(instance);
          if (this.engine) this.refillSpare();
        }
      },
      () => {
        this.refilling = false; // the next fault tries again
      },
    );
  }
}

function resolveSettings(options: JsSandboxOptions): Settings {
  const issues: InputIssue[] = [];
  const positive = (name: keyof JsSandboxOptions, value: number | undefined, fallback: number, max = Infinity) => {
    if (value === undefined) return fallback;
    if (!(value > 0 && value <= max)) {
      issues.push({ path: name, message: max === Infinity ? 'must be a positive number' : `must be a positive number up to ${max}` });
    }
    return value;
  };
  const settings: Settings = {
    expressionLib: [...(options.expressionLib ?? [])],
    timeoutMs: positive('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS),
    memoryLimitBytes: positive('memoryLimitBytes', options.memoryLimitBytes, DEFAULT_MEMORY_LIMIT_BYTES),
    maxStackBytes: positive('maxStackBytes', options.maxStackBytes, DEFAULT_MAX_STACK_BYTES, MAX_STACK_BYTES),
  };
  if (issues.length) {
    const listed = issues.map((issue) => `${issue.path} ${issue.message}`).join('; ');
    throw new InvalidInputError(`invalid JavaScript sandbox options: ${listed}`, issues);
  }
  return Object.freeze(settings);
}

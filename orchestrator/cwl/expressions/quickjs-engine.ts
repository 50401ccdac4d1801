import type { QuickJSContext, QuickJSHandle, QuickJSWASMModule } from 'quickjs-emscripten';
import { SANDBOX_PRELUDE } from './sandbox-prelude.ts';

export type JsCodeKind = 'expression' | 'body';

/** A QuickJS error object as the host sees it; null when what was thrown is not an Error. */
export type EngineError = { name: string; message: string } | null;

export type CallOutcome =
  | { type: 'value'; json: string | undefined }
  | { type: 'promise' }
  | { type: 'thrown'; description: string }
  /** `null` was thrown: by the code, or by QuickJS when it could not allocate its out-of-memory error. */
  | { type: 'thrown-null' }
  | { type: 'aborted'; error: EngineError };

export interface EngineOptions {
  maxStackBytes: number;
  /** Polled by QuickJS while it runs bytecode; true stops the run with an uncatchable error. */
  shouldInterrupt: () => boolean;
  /** How many compiled expressions to keep. */
  maxCompiled: number;
}

/** JSON texts for the prelude's `run`; undefined leaves the previous value in place. */
export interface ContextTexts {
  inputs: string | undefined;
  runtime: string | undefined;
  self: string | undefined;
}

/**
 * One QuickJS runtime and context with the prelude loaded: the mechanics of talking to QuickJS and
 * freeing every handle. Policies (deadlines, error messages, recovery) belong to the sandbox.
 * Methods may throw host errors (RangeError, WebAssembly.RuntimeError) if the instance faults.
 */
export interface QuickJsEngine {
  /** Runs a script in global scope, in strict mode like every CWL expression. */
  runScript(code: string, filename: string): EngineError | 'ok';
  /** The function for `$(code)` or `${code}`, compiled once and kept. */
  compile(code: string, kind: JsCodeKind): QuickJSHandle | { error: EngineError };
  call(fn: QuickJSHandle, texts: ContextTexts): CallOutcome;
  drainConsole(): string[];
  dispose(): void;
}

export function openEngine(module: QuickJSWASMModule, options: EngineOptions): QuickJsEngine {
  const runtime = module.newRuntime();
  runtime.setMaxStackSize(options.maxStackBytes);
  runtime.setInterruptHandler(options.shouldInterrupt);
  const context = runtime.newContext();
  const compiled = new Map<string, QuickJSHandle>();
  let run: QuickJSHandle | undefined;
  let drain: QuickJSHandle | undefined;

  const dispose = () => {
    for (const handle of compiled.values()) handle.dispose();
    compiled.clear();
    run?.dispose();
    drain?.dispose();
    context.dispose();
    runtime.dispose();
  };

  try {
    const api = context.evalCode(SANDBOX_PRELUDE, 'archipel-prelude.js').unwrap();
    run = context.getProp(api, 'run');
    drain = context.getProp(api, 'drain');
    api.dispose();
  } catch (error) {
    dispose();
    throw error;
  }
  const runFn = run;
  const drainFn = drain;

  return {
    runScript(code, filename) {
      const result = context.evalCode(code, filename, { strict: true });
      if (result.error) return takeError(context, result.error);
      result.value.dispose();
      return 'ok';
    },

    compile(code, kind) {
      const key = kind === 'expression' ? `$${code}` : `{${code}`;
      const cached = compiled.get(key);
      if (cached) {
        compiled.delete(key); // re-insert: the map's order is least recently used first
        compiled.set(key, cached);
        return cached;
      }
      // The code starts on line 1 so QuickJS's line numbers are the author's; `\n` ends a `//` comment.
      const wrapped =
        kind === 'expression'
          ? `(function(){"use strict";return (${code}\n);})`
          : `(function(){"use strict";${code}\n})`;
      const result = context.evalCode(wrapped, kind === 'expression' ? 'expression.js' : 'body.js');
      if (result.error) return { error: takeError(context, result.error) };
      if (compiled.size >= options.maxCompiled) {
        const [oldestKey, oldest] = compiled.entries().next().value ?? [];
        oldest?.dispose();
        if (oldestKey !== undefined) compiled.delete(oldestKey);
      }
      compiled.set(key, result.value);
      return result.value;
    },

    call(fn, texts) {
      const created: QuickJSHandle[] = [];
      const text = (value: string | undefined) => {
        if (value === undefined) return context.undefined;
        const handle = context.newString(value);
        created.push(handle);
        return handle;
      };
      try {
        const result = context.callFunction(runFn, context.undefined, fn, text(texts.inputs), text(texts.runtime), text(texts.self));
        if (result.error) return { type: 'aborted', error: takeError(context, result.error) };
        const answer = context.getString(result.value);
        result.value.dispose();
        if (answer.startsWith('r')) return { type: 'value', json: answer.slice(1) };
        if (answer.startsWith('e')) return { type: 'thrown', description: answer.slice(1) };
        if (answer === 'p') return { type: 'promise' };
        if (answer === '0') return { type: 'thrown-null' };
        return { type: 'value', json: undefined };
      } finally {
        for (const handle of created) handle.dispose();
      }
    },

    drainConsole() {
      const result = context.callFunction(drainFn, context.undefined);
      if (result.error) {
        result.error.dispose();
        return [];
      }
      const lines: unknown = JSON.parse(context.getString(result.value));
      result.value.dispose();
      return Array.isArray(lines) ? lines.map(String) : [];
    },

    dispose,
  };
}

/**
 * Reads the name and message of a QuickJS exception and frees it. It calls no `toString`; a getter on
 * a thrown object still runs, under the sandbox's deadline like any other code of the expression.
 */
function takeError(context: QuickJSContext, handle: QuickJSHandle): EngineError {
  try {
    if (context.typeof(handle) !== 'object') return null;
    const field = (name: string) => {
      const value = context.getProp(handle, name);
      const text = context.typeof(value) === 'string' ? context.getString(value) : undefined;
      value.dispose();
      return text;
    };
    const message = field('message');
    return message === undefined ? null : { name: field('name') ?? 'Error', message };
  } finally {
    handle.dispose();
  }
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError } from '../../../core/index.ts';
import { ExpressionError } from './expression-error.ts';
import { createJsSandbox, type JsContext, type JsSandbox } from './js-sandbox.ts';

const context: JsContext = {
  inputs: { n: 3, arr: [3, 1, 2], file: { class: 'File', basename: 'a.txt', nameext: '.txt' } },
  self: { basename: 'b.bam' },
  runtime: { cores: 4, outdir: '/out' },
};

function failure(run: () => unknown): ExpressionError {
  try {
    run();
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
  throw new Error('expected the evaluation to fail');
}

describe('createJsSandbox', () => {
  let sandbox: JsSandbox;
  beforeAll(async () => {
    sandbox = await createJsSandbox({
      expressionLib: ['function double(x) { return x * 2; }', 'var SUFFIX = ".out";'],
      timeoutMs: 200,
      memoryLimitBytes: 32 * 2 ** 20,
    });
  });
  afterAll(() => sandbox.close());

  it('evaluates $(...) as an expression and ${...} as a function body', () => {
    expect(sandbox.evaluate('inputs.n + 1', 'expression', context)).toBe(4);
    expect(sandbox.evaluate(' var x = inputs.arr.map(function (v) { return v * 2; }); return x; ', 'body', context)).toEqual([6, 2, 4]);
    expect(sandbox.evaluate('self.basename + SUFFIX', 'expression', context)).toBe('b.bam.out');
    expect(sandbox.evaluate('runtime.cores', 'expression', context)).toBe(4);
    expect(sandbox.evaluate('({a: [1, {b: null}]})', 'expression', context)).toEqual({ a: [1, { b: null }] });
  });

  it('makes expressionLib functions visible', () => {
    expect(sandbox.evaluate('return double(inputs.n)', 'body', context)).toBe(6);
  });

  it('returns null for undefined and for values JSON cannot carry', () => {
    expect(sandbox.evaluate('var y = 1;', 'body', context)).toBeNull();
    expect(sandbox.evaluate('inputs.missing', 'expression', context)).toBeNull();
    expect(sandbox.evaluate('function () {}', 'expression', context)).toBeNull();
  });

  it('sees a new context value when the object changes, and self on every call', () => {
    const inputs = { n: 1 };
    expect(sandbox.evaluate('inputs.n', 'expression', { ...context, inputs })).toBe(1);
    expect(sandbox.evaluate('inputs.n', 'expression', { ...context, inputs: { n: 2 } })).toBe(2);
    for (let i = 0; i < 5; i++) expect(sandbox.evaluate('self * 10', 'expression', { ...context, self: i })).toBe(i * 10);
    // runtime and self are compared by content, so filling them in place is seen too.
    const runtime: Record<string, unknown> = { outdir: '/o' };
    expect(sandbox.evaluate('runtime.cores', 'expression', { ...context, runtime })).toBeNull();
    runtime.cores = 8;
    expect(sandbox.evaluate('runtime.cores', 'expression', { ...context, runtime })).toBe(8);
  });

  it('lets an expression change its inputs and self without the next evaluation seeing it', () => {
    sandbox.drainConsole();
    const sorted = ' console.log("sorting"); inputs.arr.sort(); inputs.n = 99; inputs.file.extra = 1; return [inputs.n, inputs.arr]; ';
    expect(sandbox.evaluate(sorted, 'body', context)).toEqual([99, [1, 2, 3]]);
    expect(sandbox.drainConsole()).toEqual(['log: sorting']);
    expect(sandbox.evaluate('[inputs.n, inputs.arr, inputs.file.extra]', 'expression', context)).toEqual([3, [3, 1, 2], null]);
    expect(sandbox.evaluate(' self.basename = "c.bam"; return self; ', 'body', context)).toEqual({ basename: 'c.bam' });
    expect(sandbox.evaluate('self.basename', 'expression', context)).toBe('b.bam');
    expect(sandbox.evaluate(' inputs = {n: 5}; return inputs.n; ', 'body', context)).toBe(5);
    expect(sandbox.evaluate('inputs.n', 'expression', context)).toBe(3);
  });

  it('runs in strict mode, like cwltool', () => {
    expect(failure(() => sandbox.evaluate('leaked = 1; return leaked;', 'body', context)).message).toMatch(/ReferenceError/);
    expect(sandbox.evaluate('return this === undefined;', 'body', context)).toBe(true);
  });

  it('reaches nothing of Node: no process, require, module or file system', () => {
    expect(
      sandbox.evaluate(
        '[typeof process, typeof require, typeof module, typeof Buffer, typeof fetch, typeof std, typeof os]',
        'expression',
        context,
      ),
    ).toEqual(Array(7).fill('undefined'));
    expect(failure(() => sandbox.evaluate('process.env', 'expression', context)).message).toMatch(/'process' is not defined/);
    expect(sandbox.evaluate('Object.keys(globalThis).sort()', 'expression', context)).toEqual([
      'SUFFIX',
      'console',
      'double',
      'inputs',
      'runtime',
      'self',
    ]);
  });

  it('reports a syntax error with the expression', () => {
    const error = failure(() => sandbox.evaluate('inputs.n +', 'expression', context));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.reason).toBe('syntax');
    expect(error.message).toMatch(/SyntaxError: .*: \$\(inputs\.n \+\)$/);
  });

  it('reports a JavaScript exception with its message and the expression', () => {
    const error = failure(() => sandbox.evaluate(' throw new TypeError("no way"); ', 'body', context));
    expect(error.reason).toBe('exception');
    expect(error.message).toBe('expression failed: TypeError: no way: ${ throw new TypeError("no way"); }');
    expect(failure(() => sandbox.evaluate('inputs.none.x', 'expression', context)).message).toMatch(
      /TypeError: .*\$\(inputs\.none\.x\)/,
    );
    expect(failure(() => sandbox.evaluate('throw "plain"', 'body', context)).message).toMatch(/uncaught plain/);
  });

  it('stops an infinite loop at the timeout, even one inside try/catch, and stays usable', () => {
    for (const code of [' while (true) {} ', ' for (;;) { try { while (true) {} } catch (e) {} } ']) {
      const started = Date.now();
      const error = failure(() => sandbox.evaluate(code, 'body', context));
      expect(error.reason).toBe('timeout');
      expect(error.message).toMatch(/^expression timed out after 200 ms: \$\{ (while|for)/);
      expect(Date.now() - started).toBeLessThan(2_000);
    }
    expect(sandbox.evaluate('inputs.n * 2', 'expression', context)).toBe(6);
  });

  it('stops catastrophic regular-expression backtracking at the timeout', () => {
    expect(failure(() => sandbox.evaluate('/(a+)+$/.test("a".repeat(40) + "b")', 'expression', context)).reason).toBe('timeout');
  });

  it('fails a memory bomb cleanly and stays usable, expressionLib included', () => {
    const bomb = ' var a = []; while (true) a.push(new Array(1e6).fill(1)); ';
    const error = failure(() => sandbox.evaluate(bomb, 'body', context));
    expect(error.reason).toBe('memory');
    expect(error.message).toMatch(/^expression ran out of memory \(limit 32 MiB\): \$\{ var a = \[\];/);
    expect(sandbox.evaluate('return double(inputs.n)', 'body', context)).toBe(6);
  });

  it('refuses a Promise, alone or inside the value, instead of passing it on as {}', () => {
    for (const [code, kind] of [
      [' return Promise.resolve(1) ', 'body'],
      ['(async function () { return 1; })()', 'expression'],
      ['({files: [1, new Promise(function () {})]})', 'expression'],
    ] as const) {
      const error = failure(() => sandbox.evaluate(code, kind, context));
      expect(error.reason).toBe('promise');
      expect(error.message).toMatch(/^expression returned a Promise; CWL expressions must be synchronous: \$/);
    }
    // An empty object is still an empty object.
    expect(sandbox.evaluate('({a: {}, b: []})', 'expression', context)).toEqual({ a: {}, b: [] });
  });

  it('recovers when an expression keeps its garbage in a global', () => {
    const hoard = ' globalThis.keep = []; while (true) keep.push(new Array(1e5).fill(1)); ';
    expect(failure(() => sandbox.evaluate(hoard, 'body', context)).reason).toBe('memory');
    expect(sandbox.evaluate('typeof keep', 'expression', context)).toBe('undefined');
    expect(sandbox.evaluate('inputs.arr.length', 'expression', context)).toBe(3);
  });

  it('turns runaway recursion into an exception', () => {
    const error = failure(() => sandbox.evaluate(' function f(n) { return f(n + 1) + 1; } return f(0); ', 'body', context));
    expect(error.reason).toBe('exception');
    expect(error.message).toMatch(/stack overflow/);
  });

  it('keeps console lines for the caller', () => {
    sandbox.drainConsole();
    sandbox.evaluate(' console.log("size", inputs.n, {a: 1}); console.error("bad"); return 1; ', 'body', context);
    expect(sandbox.drainConsole()).toEqual(['log: size 3 {"a":1}', 'error: bad']);
    expect(sandbox.drainConsole()).toEqual([]);
  });
});

describe('createJsSandbox faults and options', () => {
  it('replaces its WebAssembly instance when V8 runs out of native stack inside QuickJS', async () => {
    // A large QuickJS stack limit lets deeply nested source exhaust V8's stack first.
    const sandbox = await createJsSandbox({ expressionLib: ['var LIB = 7;'], maxStackBytes: 4 * 2 ** 20 });
    try {
      const nested = `${'('.repeat(100_000)}1${')'.repeat(100_000)}`;
      const error = failure(() => sandbox.evaluate(nested, 'expression', context));
      expect(error.reason).toBe('engine');
      expect(error.message).toMatch(/exhausted the native stack/);
      expect(sandbox.evaluate('LIB + inputs.n', 'expression', context)).toBe(10);
    } finally {
      sandbox.close();
    }
  });

  it('fails creation when the expressionLib throws', async () => {
    await expect(createJsSandbox({ expressionLib: ['throw new Error("lib broken")'] })).rejects.toThrow(
      /expressionLib\[0\]: expression failed: Error: lib broken/,
    );
    await expect(createJsSandbox({ expressionLib: ['function ('] })).rejects.toMatchObject({ reason: 'syntax' });
  });

  it('names running out of memory when QuickJS cannot even allocate its error (it throws null), and a null the code throws as such', async () => {
    const sandbox = await createJsSandbox({ memoryLimitBytes: 32 * 2 ** 20, timeoutMs: 10_000 });
    try {
      expect(failure(() => sandbox.evaluate(' throw null; ', 'body', context)).message).toBe('expression failed: uncaught null: ${ throw null; }');
      // Many small objects fill the heap to the last byte: the "out of memory" error itself fails.
      const error = failure(() => sandbox.evaluate(' var s = []; for (var i = 0; ; i++) s.push({a: i, b: [i]}); ', 'body', context));
      expect(error.reason).toBe('memory');
      expect(error.message).toMatch(/^expression ran out of memory \(limit 32 MiB\): \$\{ var s = \[\];/);
      expect(sandbox.evaluate('inputs.n', 'expression', context)).toBe(3);
    } finally {
      sandbox.close();
    }
  });

  it('rejects invalid limits and use after close', async () => {
    await expect(createJsSandbox({ timeoutMs: 0 })).rejects.toThrow(InvalidInputError);
    await expect(createJsSandbox({ maxStackBytes: 8 * 2 ** 20 })).rejects.toThrow(/maxStackBytes/);
    const sandbox = await createJsSandbox();
    sandbox.close();
    expect(() => sandbox.evaluate('1', 'expression', context)).toThrow(ConflictError);
  });
});

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../core/index.ts';
import { toCwlJsonText } from './cwl-json.ts';
import { ExpressionError } from './expression-error.ts';
import { createExpressionEvaluator, type ExpressionContext, type ExpressionEvaluator } from './expression-evaluator.ts';

const bar = { baz: 'zab1', 'b az': 2, "b'az": true, 'b"az': null, buz: ['a', 'b', 'c'] };
const context: ExpressionContext = {
  inputs: { bar, n: 3, word: 'hello', file: { class: 'File', basename: 'reads.fq', path: '/data/reads.fq' }, length: 1 },
  self: null,
  runtime: { outdir: '/out', tmpdir: '/tmp', cores: 2 },
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

const sha1 = (text: string) => `sha1$${createHash('sha1').update(text).digest('hex')}`;

// The outputs of the conformance tests params.cwl (no JavaScript) and params2.cwl (with it).
const PARAMS: [string, unknown][] = [
  ['$(inputs.bar)', bar],
  ["$(inputs['bar'])", bar],
  ['$(inputs["bar"])', bar],
  ['$(inputs.bar.baz)', 'zab1'],
  ["$(inputs['bar'].baz)", 'zab1'],
  ['$(inputs[\'bar\']["baz"])', 'zab1'],
  ["$(inputs.bar['b az'])", 2],
  ["$(inputs.bar['b\\'az'])", true],
  ['$(inputs.bar["b\'az"])', true],
  ["$(inputs.bar['b\"az'])", null],
  ['-$(inputs.bar.baz)', '-zab1'],
  ["-$(inputs['bar'].baz)", '-zab1'],
  ['$(inputs.bar.baz) $(inputs.bar.baz)', 'zab1 zab1'],
  ["$(inputs.bar['b az']) $(inputs.bar['b az'])", '2 2'],
  ["$(inputs.bar['b\\'az']) $(inputs.bar['b\\'az'])", 'true true'],
  ["$(inputs.bar['b\"az']) $(inputs.bar['b\"az'])", 'null null'],
  ['$(inputs.bar.buz[1])', 'b'],
  ['$(inputs.bar.buz[1]) $(inputs.bar.buz[1])', 'b b'],
  ['$(null)', null],
  ['$(inputs.bar.buz.length)', 3],
  ['$(inputs.length)', 1],
];

describe.each([
  { javascript: false, name: 'without InlineJavascriptRequirement' },
  { javascript: true, name: 'with InlineJavascriptRequirement' },
])('createExpressionEvaluator $name', ({ javascript }) => {
  let evaluator: ExpressionEvaluator;
  beforeAll(async () => {
    evaluator = await createExpressionEvaluator({ javascript });
  });
  afterAll(() => evaluator.close());

  it('resolves the parameter references of the conformance tests', () => {
    for (const [text, expected] of PARAMS) expect(evaluator.evaluate(text, context), text).toEqual(expected);
  });

  it('returns non-strings and text without expressions as they are', () => {
    const object = { a: '$(inputs.n)' };
    expect(evaluator.evaluate(object, context)).toBe(object);
    expect(evaluator.evaluate(42, context)).toBe(42);
    expect(evaluator.evaluate(null, context)).toBeNull();
    expect(evaluator.evaluate('  plain \\\\ text  ', context)).toBe('  plain \\\\ text  ');
  });

  it('keeps the type of a value that is one expression, and interpolates otherwise', () => {
    expect(evaluator.evaluate('$(inputs.n)', context)).toBe(3);
    expect(evaluator.evaluate('n=$(inputs.n)', context)).toBe('n=3');
    expect(evaluator.evaluate('$(inputs.n)$(inputs.n)', context)).toBe('33');
    expect(evaluator.evaluate('$(inputs.file.basename).bai', context)).toBe('reads.fq.bai');
    expect(evaluator.evaluate('$(runtime.outdir)/out.txt', context)).toBe('/out/out.txt');
    expect(evaluator.evaluate('f: $(inputs.file)', context)).toBe(
      'f: {"basename": "reads.fq", "class": "File", "path": "/data/reads.fq"}',
    );
    expect(evaluator.evaluate('$(inputs.bar.buz) $(null) $(inputs.bar["b\'az"])', context)).toBe('["a", "b", "c"] null true');
  });

  it('ignores whitespace around a lone expression unless told to keep it', () => {
    expect(evaluator.evaluate('  $(inputs.n)\n', context)).toBe(3);
    expect(evaluator.evaluate(' x $(inputs.n) ', context)).toBe('x 3');
    expect(evaluator.evaluate('CONFIGVAR=$(inputs.word)\n', context, { stripWhitespace: false })).toBe('CONFIGVAR=hello\n');
    expect(evaluator.evaluate('$(inputs.n)\n', context, { stripWhitespace: false })).toBe('3\n');
  });

  it('applies escapes only to text that holds $( or ${', () => {
    expect(evaluator.evaluate('\\$(inputs.n) is $(inputs.n)', context)).toBe('$(inputs.n) is 3');
    expect(evaluator.evaluate('\\\\$(inputs.n)', context)).toBe('\\3');
    expect(evaluator.evaluate('a\\\\b', context)).toBe('a\\\\b');
  });

  it('hands out copies, so callers cannot change the inputs', () => {
    const result = evaluator.evaluate('$(inputs.bar)', context) as { buz: string[] };
    result.buz.push('d');
    expect(bar.buz).toEqual(['a', 'b', 'c']);
  });

  it('fails on an unterminated expression', () => {
    expect(failure(() => evaluator.evaluate('$(inputs.n', context)).reason).toBe('syntax');
  });

  it('uses self and runtime', () => {
    expect(evaluator.evaluate('$(self[0].basename)', { ...context, self: [{ basename: 'x.bam' }] })).toBe('x.bam');
    expect(evaluator.evaluate('$(runtime.cores)', context)).toBe(2);
  });
});

describe('createExpressionEvaluator without InlineJavascriptRequirement', () => {
  let evaluator: ExpressionEvaluator;
  beforeAll(async () => {
    evaluator = await createExpressionEvaluator({ javascript: false });
  });
  afterAll(() => evaluator.close());

  it('refuses JavaScript', () => {
    const error = failure(() => evaluator.evaluate('$(inputs.n + 1)', context));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.reason).toBe('requirement');
    expect(error.message).toMatch(/JavaScript expressions need InlineJavascriptRequirement: \$\(inputs\.n \+ 1\)/);
    expect(evaluator.javascript).toBe(false);
  });

  it('leaves ${...} as text', () => {
    expect(evaluator.evaluate('echo ${HOME} $(inputs.n)', context)).toBe('echo ${HOME} 3');
    expect(evaluator.evaluate('${ return 1 }', context)).toBe('${ return 1 }');
  });

  it('fails references to what is not there (params_broken_*, length_for_non_array)', () => {
    expect(failure(() => evaluator.evaluate('$(inputs.missing)', context)).reason).toBe('reference');
    expect(failure(() => evaluator.evaluate('$(null.something)', context)).reason).toBe('reference');
    expect(failure(() => evaluator.evaluate('$(inputs.n.length)', context)).reason).toBe('reference');
  });
});

describe('createExpressionEvaluator with InlineJavascriptRequirement', () => {
  let evaluator: ExpressionEvaluator;
  beforeAll(async () => {
    evaluator = await createExpressionEvaluator({
      javascript: true,
      expressionLib: ['function stem(file) { return file.basename.replace(/\\.[^.]*$/, ""); }'],
      timeoutMs: 200,
      memoryLimitBytes: 32 * 2 ** 20,
    });
  });
  afterAll(() => evaluator.close());

  it('evaluates JavaScript expressions and function bodies', () => {
    expect(evaluator.evaluate('$(inputs.n * 2)', context)).toBe(6);
    expect(evaluator.evaluate('${ return inputs.bar.buz.map(function (x) { return x.toUpperCase(); }); }', context)).toEqual([
      'A',
      'B',
      'C',
    ]);
    expect(evaluator.evaluate('${\n  return {"my_int": inputs.n};\n}\n', context)).toEqual({ my_int: 3 });
    expect(evaluator.evaluate('$(stem(inputs.file)).bam', context)).toBe('reads.bam');
    expect(evaluator.evaluate('$(self.length)', { ...context, self: 'four' })).toBe(4);
    expect(evaluator.javascript).toBe(true);
  });

  it('treats a failing parameter reference as JavaScript: undefined is null', () => {
    expect(evaluator.evaluate('$(inputs.missing)', context)).toBeNull();
    expect(evaluator.evaluate('$(inputs.word.length)', context)).toBe(5);
    expect(evaluator.evaluate('n=$(inputs.missing)', context)).toBe('n=null');
  });

  it('reports syntax errors, exceptions and undefined names with the expression', () => {
    expect(failure(() => evaluator.evaluate('$(inputs.n +)', context))).toMatchObject({ reason: 'syntax' });
    const thrown = failure(() => evaluator.evaluate('x ${ throw new Error("nope") } y', context));
    expect(thrown.message).toBe('expression failed: Error: nope: ${ throw new Error("nope") }');
    expect(failure(() => evaluator.evaluate('$(nothing.here)', context)).message).toMatch(
      /ReferenceError: 'nothing' is not defined: \$\(nothing\.here\)/,
    );
  });

  it('times out an infinite loop and keeps working', () => {
    const started = Date.now();
    expect(failure(() => evaluator.evaluate('${ while(true){} }', context)).reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(evaluator.evaluate('$(inputs.n + 1)', context)).toBe(4);
  });

  it('fails a memory bomb cleanly and keeps working', () => {
    const error = failure(() => evaluator.evaluate('${ var a=[]; while(true) a.push(new Array(1e6).fill(1)); }', context));
    expect(error.reason).toBe('memory');
    expect(evaluator.evaluate('$(stem(inputs.file))', context)).toBe('reads');
  });

  it('names the field and the document of a failing expression', async () => {
    const named = await createExpressionEvaluator({ javascript: true, document: '/work/tool.cwl', timeoutMs: 200, memoryLimitBytes: 32 * 2 ** 20 });
    try {
      const timeout = failure(() => named.evaluate('${ while (true) {} }', context, { field: 'outputs.out.outputBinding.outputEval' }));
      expect(timeout.reason).toBe('timeout');
      expect(timeout.message).toBe('/work/tool.cwl: outputs.out.outputBinding.outputEval: expression timed out after 200 ms: ${ while (true) {} }');
      const promise = failure(() => named.evaluate('$(Promise.resolve(inputs.n))', context, { field: 'arguments[0].valueFrom' }));
      expect(promise.message).toBe('/work/tool.cwl: arguments[0].valueFrom: expression returned a Promise; CWL expressions must be synchronous: $(Promise.resolve(inputs.n))');
      expect(failure(() => named.evaluate('$(inputs.n +)', context)).message).toMatch(/^\/work\/tool\.cwl: expression failed: SyntaxError/);
    } finally {
      named.close();
    }
  });

  it('cannot reach Node', () => {
    expect(evaluator.evaluate('$([typeof process, typeof require, typeof globalThis.process])', context)).toEqual([
      'undefined',
      'undefined',
      'undefined',
    ]);
    expect(failure(() => evaluator.evaluate('${ return require("fs").readFileSync("/etc/passwd", "utf8"); }', context)).message).toMatch(
      /'require' is not defined/,
    );
  });

  it('writes InitialWorkDir JSON like the reference runner (iwd-jsondump1/2/3 and their -nl variants)', () => {
    const list = '${\n  var ls = [];\n  for (var i = 1; i < 10000; i++) {\n    ls.push("example_input_file"+i+".txt");\n  }\n  return ls;\n}';
    const object = list.replace('return ls;', 'return {"filelist": ls};');
    const number = '${\n  return 44.4;\n}';
    const entries: [string, string, string][] = [
      [list, 'sha1$5bbeb2a75327927cb97d7e9716c8299682001b36', 'sha1$7307f027449371b3642c1f7c32124218af0e41b5'],
      [object, 'sha1$a0e2225d47c9ed2f07e7633d00dd19d1cbf65c9f', 'sha1$750c95cb45561cd1d863506f82a1a75fffd53a54'],
      [number, 'sha1$356b190d3274c960b34c2c9538023dda438d67d4', 'sha1$0b02e6b07d199025bfdcfc6b9830d550a0a6bde9'],
    ];
    for (const [entry, whole, withNewline] of entries) {
      expect(sha1(toCwlJsonText(evaluator.evaluate(entry, context, { stripWhitespace: false })))).toBe(whole);
      expect(sha1(evaluator.evaluate(`${entry}\n`, context, { stripWhitespace: false }) as string)).toBe(withNewline);
    }
  });

  it('quotes backslashes as in bash-dollar-quote.cwl', () => {
    const entry = [
      'echo \\$(echo \\',
      `echo '$(inputs.word)'`,
      `echo '\\$(inputs.word)'`,
      `echo '\\\\$(inputs.word)'`,
      `echo '\\\\\\$(inputs.word)'`,
      `echo '\\'  '\\\\'  '\\$'  '\\\\$'  '$$'`,
      '',
    ].join('\n');
    expect(evaluator.evaluate(entry, context, { stripWhitespace: false })).toBe(
      [
        'echo $(echo \\',
        `echo 'hello'`,
        `echo '$(inputs.word)'`,
        `echo '\\hello'`,
        `echo '\\$(inputs.word)'`,
        `echo '\\'  '\\'  '\\$'  '\\$'  '$$'`,
        '',
      ].join('\n'),
    );
  });

  it('keeps console output for the caller', () => {
    evaluator.drainConsole();
    evaluator.evaluate('${ console.log("n is", inputs.n); return null; }', context);
    expect(evaluator.drainConsole()).toEqual(['log: n is 3']);
  });
});

const underscore = fileURLToPath(new URL('../../../../shared/conformance/cwl-v1.2/tests/underscore.js', import.meta.url));

describe.runIf(existsSync(underscore))('expressionLib from the conformance tests (template-tool.cwl)', () => {
  it('loads underscore.js and renders a template with it', async () => {
    const evaluator = await createExpressionEvaluator({
      javascript: true,
      expressionLib: [
        readFileSync(underscore, 'utf8'),
        "var t = function(s) { return _.template(s, {variable: 'data'})({'inputs': inputs}); };",
      ],
    });
    try {
      const entry = `$(t("The file is <%= data.inputs.file1.path.split('/').slice(-1)[0] %>\\n"))`;
      const inputs = { file1: { class: 'File', path: '/tmp/whale.txt' } };
      expect(evaluator.evaluate(entry, { inputs, self: null, runtime: {} })).toBe('The file is whale.txt\n');
    } finally {
      evaluator.close();
    }
  });
});

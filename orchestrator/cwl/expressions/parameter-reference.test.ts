import { describe, expect, it } from 'vitest';
import { ExpressionError } from './expression-error.ts';
import { parseParameterReference, resolveParameterReference, type ParameterContext } from './parameter-reference.ts';

// The input object of the conformance tests params.cwl / params_inc.yml.
const context: ParameterContext = {
  inputs: {
    bar: { baz: 'zab1', 'b az': 2, "b'az": true, 'b"az': null, buz: ['a', 'b', 'c'] },
    file: { class: 'File', basename: 'reads.fq', size: 12 },
    record: { length: 7 },
    word: 'hello',
  },
  self: [{ basename: 'first' }],
  runtime: { outdir: '/out', cores: 2 },
};

function resolve(code: string): unknown {
  const reference = parseParameterReference(code);
  if (!reference) throw new Error(`not a reference: ${code}`);
  return resolveParameterReference(reference, context, `$(${code})`);
}

describe('parseParameterReference', () => {
  it('parses symbols, quoted keys and indexes', () => {
    expect(parseParameterReference("inputs.bar['b az'][0]")).toEqual({ root: 'inputs', segments: ['bar', 'b az', 0] });
    expect(parseParameterReference(`inputs["b\\"az"]['b\\'az']`)).toEqual({ root: 'inputs', segments: ['b"az', "b'az"] });
    expect(parseParameterReference('inputs.my_file.basename')).toEqual({ root: 'inputs', segments: ['my_file', 'basename'] });
    expect(parseParameterReference('null')).toEqual({ root: 'null', segments: [] });
  });

  it('returns undefined for anything outside the grammar (JavaScript)', () => {
    for (const code of ['inputs.x + 1', 'inputs.x()', ' inputs.x', 'inputs[x]', 'inputs.', "inputs['a'", 'inputs[01]', 'inputs["\\n"]', '']) {
      expect(parseParameterReference(code), code).toBeUndefined();
    }
  });
});

describe('resolveParameterReference', () => {
  it('follows fields, quoted keys and indexes (params.cwl)', () => {
    expect(resolve('inputs.bar.baz')).toBe('zab1');
    expect(resolve("inputs['bar'].baz")).toBe('zab1');
    expect(resolve('inputs["bar"]["baz"]')).toBe('zab1');
    expect(resolve("inputs.bar['b az']")).toBe(2);
    expect(resolve("inputs.bar['b\\'az']")).toBe(true);
    expect(resolve('inputs.bar["b\'az"]')).toBe(true);
    expect(resolve(`inputs.bar['b"az']`)).toBeNull();
    expect(resolve('inputs.bar.buz[1]')).toBe('b');
    expect(resolve('inputs.file.basename')).toBe('reads.fq');
    expect(resolve('self[0].basename')).toBe('first');
    expect(resolve('runtime.cores')).toBe(2);
    expect(resolve('inputs')).toBe(context.inputs);
  });

  it('gives the length of an array only as the last segment; a field named length otherwise', () => {
    expect(resolve('inputs.bar.buz.length')).toBe(3);
    expect(resolve('inputs.record.length')).toBe(7);
    expect(() => resolve('inputs.word.length')).toThrow(ExpressionError);
    expect(() => resolve('inputs.bar.buz.length.x')).toThrow(/has no field 'length'|is an array/);
  });

  it('indexes strings, as the spec allows', () => {
    expect(resolve('inputs.word[1]')).toBe('e');
  });

  it('is null for null and fails for null followed by anything', () => {
    expect(resolve('null')).toBeNull();
    expect(() => resolve('null.something')).toThrow(/only symbol/);
  });

  it('fails for what is not there, naming the path', () => {
    const failure = (code: string) => {
      try {
        resolve(code);
      } catch (error) {
        return error as ExpressionError;
      }
      throw new Error(`${code} resolved`);
    };
    expect(failure('inputs.missing')).toMatchObject({ reason: 'reference', message: "$(inputs.missing): inputs has no field 'missing'" });
    expect(failure('inputs.bar.buz[3]').message).toMatch(/inputs\.bar\.buz has no index 3/);
    expect(failure('inputs.bar.baz.x').message).toMatch(/inputs\.bar\.baz is a string/);
    expect(failure("inputs.bar['b\"az'].x").message).toMatch(/is null/);
    expect(failure('inputs.file[0]').message).toMatch(/not an array/);
    expect(failure('outputs.x').message).toMatch(/'outputs' is not defined/);
    expect(failure('inputs.toString').message).toMatch(/has no field 'toString'/);
  });
});

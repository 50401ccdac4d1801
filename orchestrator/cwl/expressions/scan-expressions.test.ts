import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../core/index.ts';
import { ExpressionError } from './expression-error.ts';
import { containsExpression, scanExpressions } from './scan-expressions.ts';

const js = { javascript: true };
const noJs = { javascript: false };

describe('scanExpressions', () => {
  it('splits literal text and parameter references', () => {
    expect(scanExpressions('a $(inputs.x) b', noJs)).toEqual([
      { kind: 'literal', text: 'a ' },
      { kind: 'expression', code: 'inputs.x', source: '$(inputs.x)' },
      { kind: 'literal', text: ' b' },
    ]);
  });

  it('yields exactly one part for a value that is one expression', () => {
    expect(scanExpressions('$(inputs.x)', noJs)).toEqual([{ kind: 'expression', code: 'inputs.x', source: '$(inputs.x)' }]);
    expect(scanExpressions('${ return 1 }', js)).toEqual([{ kind: 'body', code: ' return 1 ', source: '${ return 1 }' }]);
  });

  it('balances nested parentheses and braces', () => {
    expect(scanExpressions('$(f((1 + 2) * (3)))!', js)[0]).toMatchObject({ code: 'f((1 + 2) * (3))' });
    expect(scanExpressions('${ if (x) { return {a: 1}; } }.', js)[0]).toMatchObject({ code: ' if (x) { return {a: 1}; } ' });
  });

  it('skips delimiters inside quoted strings, escapes included', () => {
    expect(scanExpressions(`$(inputs[')'] + ")(" + 'it\\'s )')`, js)).toHaveLength(1);
    expect(scanExpressions('${ return "}\\"}" }', js)).toEqual([
      { kind: 'body', code: ' return "}\\"}" ', source: '${ return "}\\"}" }' },
    ]);
    // Braces do not count inside $( ) and parentheses do not count inside ${ }, as in cwltool.
    expect(scanExpressions('$({a: "x"}.a)', js)[0]).toMatchObject({ code: '{a: "x"}.a' });
    expect(scanExpressions('${ return ")" + (1) }', js)[0]).toMatchObject({ kind: 'body' });
  });

  it('applies the CWL escapes: \\$( and \\${ are text, \\\\ is one backslash, other backslashes stay', () => {
    expect(scanExpressions('\\$(inputs.x)', js)).toEqual([{ kind: 'literal', text: '$(inputs.x)' }]);
    expect(scanExpressions('\\${x}', js)).toEqual([{ kind: 'literal', text: '${x}' }]);
    expect(scanExpressions('\\\\$(inputs.x)', js)).toEqual([
      { kind: 'literal', text: '\\' },
      { kind: 'expression', code: 'inputs.x', source: '$(inputs.x)' },
    ]);
    expect(scanExpressions('\\\\\\$(inputs.x)', js)).toEqual([{ kind: 'literal', text: '\\$(inputs.x)' }]);
    expect(scanExpressions('a\\nb \\$x \\ $ $$ \\', js)).toEqual([{ kind: 'literal', text: 'a\\nb \\$x \\ $ $$ \\' }]);
  });

  it('treats ${ as text without InlineJavascriptRequirement', () => {
    expect(scanExpressions('echo ${HOME} $(inputs.x)', noJs)).toEqual([
      { kind: 'literal', text: 'echo ${HOME} ' },
      { kind: 'expression', code: 'inputs.x', source: '$(inputs.x)' },
    ]);
    expect(scanExpressions('${unterminated', noJs)).toEqual([{ kind: 'literal', text: '${unterminated' }]);
  });

  it('reports an unterminated expression as invalid input naming it', () => {
    const scan = () => scanExpressions('x $(inputs.a', js);
    expect(scan).toThrow(ExpressionError);
    expect(scan).toThrow(InvalidInputError);
    expect(scan).toThrow(/unterminated expression at position 2: \$\(inputs\.a/);
    expect(() => scanExpressions('${ return "}" ', js)).toThrow(/unterminated/);
    expect(() => scanExpressions('$(")")', js)).not.toThrow();
    expect(() => scanExpressions('$(")', js)).toThrow(/unterminated/);
  });
});

describe('containsExpression', () => {
  it('finds expressions and ignores escaped or absent ones', () => {
    expect(containsExpression('plain text', true)).toBe(false);
    expect(containsExpression('$(inputs.x).txt', false)).toBe(true);
    expect(containsExpression('\\$(inputs.x)', true)).toBe(false);
    expect(containsExpression('${ return 1 }', true)).toBe(true);
    expect(containsExpression('${HOME}', false)).toBe(false);
    expect(containsExpression('$(unterminated', false)).toBe(true);
  });
});

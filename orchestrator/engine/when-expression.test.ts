import { describe, expect, it } from 'vitest';
import { evaluateWhen } from './when-expression.ts';

describe('evaluateWhen (govaluate semantics after substitution)', () => {
  it.each([
    ['true == true', true],
    ['false == true', false],
    ['true != false', true],
    ['foo != bar', true],
    ['foo == foo', true],
    ["'a b' == \"a b\"", true],
    ['true == "true"', false],
    ['1 == 1.0', true],
    ['2 > 10', false],
    ['b > a', true],
    ['true == true && foo != foo', false],
    ['false || 3 >= 3', true],
    ['!(a == b) && (c == c || x == y)', true],
    ['hello =~ "^he"', true],
    ['-1 < 0', true],
  ])('%s → %s', (when, expected) => {
    expect(evaluateWhen(when)).toBe(expected);
  });

  it.each([
    ['foo', 'expected a boolean'],
    ['a == ', 'unexpected end'],
    ['1 + 1 == 2', "unsupported token '+'"],
    ['true && foo', "cannot be used with '&&'"],
    ['true > false', 'cannot compare'],
    ["'open == x", 'unclosed quote'],
  ])('refuses %s', (when, message) => {
    expect(() => evaluateWhen(when)).toThrow(message);
    expect(() => evaluateWhen(when)).toThrow(`Invalid 'when' expression '${when}'`);
  });
});

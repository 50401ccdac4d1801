import { describe, expect, it } from 'vitest';
import { toCwlJsonText } from './cwl-json.ts';

describe('toCwlJsonText', () => {
  it('writes JSON the way the reference runner does: sorted keys, Python separators', () => {
    expect(toCwlJsonText({ b: [1, 'x', null], a: { d: true, c: false } })).toBe(
      '{"a": {"c": false, "d": true}, "b": [1, "x", null]}',
    );
    expect(toCwlJsonText([])).toBe('[]');
    expect(toCwlJsonText({})).toBe('{}');
    expect(toCwlJsonText(null)).toBe('null');
    expect(toCwlJsonText(undefined)).toBe('null');
    expect(toCwlJsonText({ a: undefined, b: 1 })).toBe('{"b": 1}');
  });

  it('escapes non-ASCII text like Python json.dumps', () => {
    expect(toCwlJsonText('café ☃ 😀')).toBe('"caf\\u00e9 \\u2603 \\ud83d\\ude00"');
    expect(toCwlJsonText('tab\there "q" \\ \u007f')).toBe('"tab\\there \\"q\\" \\\\ \\u007f"');
  });

  it('prints floats as Python repr does', () => {
    expect(toCwlJsonText(3)).toBe('3');
    expect(toCwlJsonText(44.4)).toBe('44.4');
    expect(toCwlJsonText(0.0001)).toBe('0.0001');
    expect(toCwlJsonText(0.00001)).toBe('1e-05');
    expect(toCwlJsonText(1.5e-7)).toBe('1.5e-07');
    expect(toCwlJsonText(1e21)).toBe('1e+21');
    expect(toCwlJsonText(-2.5)).toBe('-2.5');
  });
});

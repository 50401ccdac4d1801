import { describe, expect, it } from 'vitest';
import { aliasBomb } from '../../../tests/support/alias-bomb.ts';
import { parseYaml, YamlProblem } from './parse-yaml.ts';

const problem = (text: string, options = {}) => {
  try {
    parseYaml(text, options);
  } catch (error) {
    if (error instanceof YamlProblem) return error;
    throw error;
  }
  throw new Error('parsed');
};

describe('parseYaml', () => {
  it('parses YAML and JSON, with aliases used as documents use them', () => {
    expect(parseYaml('a: 1\nb: [x, y]\n')).toEqual({ a: 1, b: ['x', 'y'] });
    expect(parseYaml('{"a": [1, 2]}')).toEqual({ a: [1, 2] });
    const shared = parseYaml('base: &base {cores: 2, ram: 1024}\nsteps:\n  one: *base\n  two: *base\n') as { steps: { two: unknown } };
    expect(shared.steps.two).toEqual({ cores: 2, ram: 1024 });
    // A big document without aliases is never near its bound.
    const big = `items:\n${Array.from({ length: 50_000 }, (_, i) => `  - ${i}`).join('\n')}\n`;
    expect((parseYaml(big) as { items: number[] }).items).toHaveLength(50_000);
  });

  it('names the line and column of a syntax error', () => {
    const error = problem('cwlVersion: v1.2\ninputs:\n  x: string\n   y: int\n');
    expect(error.line).toBe(4);
    expect(error.column).toBeGreaterThan(1);
    expect(error.summary).toMatch(/^not valid YAML: /);
    expect(error.at('tool.cwl')).toBe(`tool.cwl:4:${error.column}`);
    expect(error.issue('cwl')).toMatchObject({ path: 'cwl', line: 4, column: error.column });
  });

  it('refuses an alias bomb at once, before anything expands it', () => {
    const bomb = aliasBomb();
    expect(bomb.length).toBeLessThan(600);
    const started = process.hrtime.bigint();
    const error = problem(bomb);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2_000);
    expect(error.summary).toMatch(/expands to more than 10000 values once its aliases \(\*name\) are resolved/);
    expect(error.line).toBeUndefined();
    expect(problem('a: &a [1, 2]\nb: [*a, *a, *a]\n', { maxValues: 8 }).summary).toMatch(/more than 8 values/);
  });
});

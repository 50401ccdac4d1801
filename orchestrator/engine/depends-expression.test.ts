import { describe, expect, it } from 'vitest';
import { dependenciesExpression, dependsTasks, evaluateDepends, handledFailures, parseDepends, type TaskOutcome } from './depends-expression.ts';

const outcomes: Record<string, TaskOutcome> = {
  ok: { phase: 'Succeeded' },
  skipped: { phase: 'Skipped' },
  bad: { phase: 'Failed' },
  'bad-but-continue': { phase: 'Failed', continueOn: { failed: true } },
  group: { phase: 'Failed', itemPhases: ['Succeeded', 'Failed'] },
};
const evaluate = (text: string) => evaluateDepends(parseDepends(text), (task) => outcomes[task]!);

describe('depends logic', () => {
  it('reads a bare task as Succeeded, Skipped or Daemoned, widened by continueOn', () => {
    expect(evaluate('ok && skipped')).toBe(true);
    expect(evaluate('bad')).toBe(false);
    expect(evaluate('bad-but-continue')).toBe(true);
    expect(evaluate('bad.Failed && !ok.Failed')).toBe(true);
    expect(evaluate('(bad || ok) && group.AnySucceeded && !group.AllFailed')).toBe(true);
    expect(evaluateDepends(dependenciesExpression(['ok', 'bad'])!, (t) => outcomes[t]!)).toBe(false);
  });

  it('lists the tasks it reads and the failures it handles', () => {
    const e = parseDepends('a && (b.Failed || c-d.Succeeded)');
    expect(dependsTasks(e)).toEqual(['a', 'b', 'c-d']);
    expect(handledFailures(e)).toEqual(['b']);
  });

  it('refuses malformed expressions', () => {
    expect(() => parseDepends('a &&')).toThrow('unexpected end');
    expect(() => parseDepends('a.Finished')).toThrow("unknown task result 'Finished'");
    expect(() => parseDepends('(a || b')).toThrow("missing ')'");
  });
});

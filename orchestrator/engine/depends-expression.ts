import type { NodePhase } from '../../core/index.ts';

/**
 * Argo's DAG `depends` logic: task names, optionally with a result (`A.Succeeded`, `B.Failed`, ...),
 * combined with `&&`, `||`, `!` and parentheses. A bare `A` means `A.Succeeded || A.Skipped ||
 * A.Daemoned`, widened by A's `continueOn`; plain `dependencies: [A, B]` is `A && B`.
 */
export const TASK_RESULTS = ['Succeeded', 'Failed', 'Errored', 'Skipped', 'Omitted', 'Daemoned', 'AnySucceeded', 'AllFailed'] as const;
export type TaskResult = (typeof TASK_RESULTS)[number];

export type DependsExpression =
  | { kind: 'task'; task: string; result?: TaskResult }
  | { kind: 'not'; operand: DependsExpression }
  | { kind: 'and' | 'or'; left: DependsExpression; right: DependsExpression };

/** What a finished dependency did, as `depends` sees it. */
export interface TaskOutcome {
  phase: NodePhase;
  /** Phases of the items of an expanded (withParam/withItems) task. */
  itemPhases?: NodePhase[];
  continueOn?: { failed?: boolean; error?: boolean };
}

export function parseDepends(text: string): DependsExpression {
  const tokens = text.match(/&&|\|\||[!()]|[A-Za-z0-9_-]+(?:\.[A-Za-z]+)?|\S/g) ?? [];
  let at = 0;
  const fail = (why: string): never => {
    throw new Error(`invalid depends '${text}': ${why}`);
  };
  const or = (): DependsExpression => {
    let left = and();
    while (tokens[at] === '||') {
      at++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): DependsExpression => {
    let left = unary();
    while (tokens[at] === '&&') {
      at++;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): DependsExpression => {
    const token = tokens[at++];
    if (token === undefined) return fail('unexpected end');
    if (token === '!') return { kind: 'not', operand: unary() };
    if (token === '(') {
      const inner = or();
      if (tokens[at++] !== ')') fail("missing ')'");
      return inner;
    }
    const match = /^([A-Za-z0-9_-]+)(?:\.([A-Za-z]+))?$/.exec(token);
    if (!match) return fail(`unexpected '${token}'`);
    const result = match[2];
    if (result !== undefined && !(TASK_RESULTS as readonly string[]).includes(result)) {
      return fail(`unknown task result '${result}' (expected one of ${TASK_RESULTS.join(', ')})`);
    }
    return { kind: 'task', task: match[1]!, ...(result !== undefined ? { result: result as TaskResult } : {}) };
  };
  const expression = or();
  if (at < tokens.length) fail(`unexpected '${tokens[at]}'`);
  return expression;
}

/** `dependencies: [A, B]` as the `depends` expression Argo converts it to. */
export function dependenciesExpression(names: string[]): DependsExpression | undefined {
  return names
    .map((task): DependsExpression => ({ kind: 'task', task }))
    .reduce<DependsExpression | undefined>((left, right) => (left ? { kind: 'and', left, right } : right), undefined);
}

export function dependsTasks(expression: DependsExpression | undefined): string[] {
  const names = new Set<string>();
  const walk = (e: DependsExpression): void => {
    if (e.kind === 'task') names.add(e.task);
    else if (e.kind === 'not') walk(e.operand);
    else {
      walk(e.left);
      walk(e.right);
    }
  };
  if (expression) walk(expression);
  return [...names];
}

/** Tasks whose failure the expression explicitly handles (`A.Failed`, `A.Errored`, `A.AllFailed`). */
export function handledFailures(expression: DependsExpression | undefined): string[] {
  const names = new Set<string>();
  const walk = (e: DependsExpression): void => {
    if (e.kind === 'task') {
      if (e.result === 'Failed' || e.result === 'Errored' || e.result === 'AllFailed') names.add(e.task);
    } else if (e.kind === 'not') walk(e.operand);
    else {
      walk(e.left);
      walk(e.right);
    }
  };
  if (expression) walk(expression);
  return [...names];
}

function hasResult(outcome: TaskOutcome, result: TaskResult): boolean {
  const items = outcome.itemPhases ?? [];
  switch (result) {
    case 'Succeeded':
      return outcome.phase === 'Succeeded';
    case 'Failed':
      return outcome.phase === 'Failed';
    case 'Errored':
      return outcome.phase === 'Error';
    case 'Skipped':
      return outcome.phase === 'Skipped';
    case 'Omitted':
      return outcome.phase === 'Omitted';
    case 'Daemoned':
      return false; // daemon templates are not supported
    case 'AnySucceeded':
      return items.some((phase) => phase === 'Succeeded');
    case 'AllFailed':
      return items.length > 0 && items.every((phase) => phase === 'Failed');
  }
}

/** Whether a task whose dependencies have all finished should run. */
export function evaluateDepends(expression: DependsExpression, outcome: (task: string) => TaskOutcome): boolean {
  switch (expression.kind) {
    case 'not':
      return !evaluateDepends(expression.operand, outcome);
    case 'and':
      return evaluateDepends(expression.left, outcome) && evaluateDepends(expression.right, outcome);
    case 'or':
      return evaluateDepends(expression.left, outcome) || evaluateDepends(expression.right, outcome);
    case 'task': {
      const o = outcome(expression.task);
      if (expression.result) return hasResult(o, expression.result);
      return (
        hasResult(o, 'Succeeded') ||
        hasResult(o, 'Skipped') ||
        (o.continueOn?.failed === true && hasResult(o, 'Failed')) ||
        (o.continueOn?.error === true && hasResult(o, 'Errored'))
      );
    }
  }
}

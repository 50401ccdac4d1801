import { InvalidInputError } from '../../core/index.ts';

export type ScatterMethod = 'dotproduct' | 'nested_crossproduct' | 'flat_crossproduct';

/** The jobs of a scattered step, and the shape their outputs are gathered back into. */
export interface ScatterPlan {
  jobs: Record<string, unknown>[];
  /** Lengths of the nested output arrays: one entry unless nested_crossproduct. */
  shape: number[];
}

/**
 * Expands a step's inputs over its `scatter` parameters (CWL "WorkflowStep" scatter): dotproduct pairs
 * the i-th elements (the arrays must be equally long); the crossproducts take every combination, in
 * row-major order, nested or flat in the gathered output.
 */
export function planScatter(inputs: Record<string, unknown>, scatter: string[], method: string | undefined, step: string): ScatterPlan {
  if (!scatter.length) return { jobs: [inputs], shape: [] };
  for (const name of scatter) {
    if (!Array.isArray(inputs[name])) throw new InvalidInputError(`step ${step}: scatter input "${name}" is not an array`);
  }
  const lists = scatter.map((name) => inputs[name] as unknown[]);
  const chosen = (method ?? 'dotproduct') as ScatterMethod;
  if (scatter.length === 1 || chosen === 'dotproduct') {
    const length = lists[0]!.length;
    if (lists.some((l) => l.length !== length)) {
      throw new InvalidInputError(`step ${step}: dotproduct scatter needs arrays of one length, got ${lists.map((l) => l.length).join(', ')}`);
    }
    return { jobs: Array.from({ length }, (_, i) => withValues(inputs, scatter, lists.map((l) => l[i]))), shape: [length] };
  }
  if (chosen !== 'nested_crossproduct' && chosen !== 'flat_crossproduct') throw new InvalidInputError(`step ${step}: unknown scatterMethod "${String(method)}"`);
  const jobs: Record<string, unknown>[] = [];
  const walk = (depth: number, picked: unknown[]) => {
    if (depth === lists.length) return void jobs.push(withValues(inputs, scatter, picked));
    for (const item of lists[depth]!) walk(depth + 1, [...picked, item]);
  };
  walk(0, []);
  return { jobs, shape: chosen === 'nested_crossproduct' ? lists.map((l) => l.length) : [jobs.length] };
}

function withValues(inputs: Record<string, unknown>, names: string[], values: unknown[]) {
  const job = { ...inputs };
  names.forEach((name, i) => (job[name] = values[i]));
  return job;
}

/** Puts a flat, row-major list of per-job values back into the nested shape of the scatter. */
export function reshape(values: unknown[], shape: number[]): unknown {
  if (shape.length <= 1) return values;
  const [first, ...rest] = shape;
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: first! }, (_, i) => reshape(values.slice(i * size, (i + 1) * size), rest));
}

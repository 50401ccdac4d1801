import type { Workflow } from './model.ts';

/** Where a source points: a workflow input, or an output of a step. */
export type SourceRef = { kind: 'input'; name: string } | { kind: 'step'; step: string; output: string };

/** Parses `input`, `step/output`, `#main/step/output` or `#wf/input` relative to a workflow. */
export function parseSource(source: string, workflow: Pick<Workflow, 'id'>): SourceRef {
  const absolute = source.includes('#');
  let ref = absolute ? source.slice(source.indexOf('#') + 1) : source;
  // `#wf/step/out` names the workflow; a relative `show/out` is step `show`'s output even in a workflow
  // whose id is `show` too (a tool run as a one-step workflow named after it).
  if (ref.startsWith(`${workflow.id}/`) && (absolute || ref.split('/').length > 2)) ref = ref.slice(workflow.id.length + 1);
  const parts = ref.split('/');
  if (parts.length === 1) return { kind: 'input', name: parts[0]! };
  return { kind: 'step', step: parts[parts.length - 2]!, output: parts[parts.length - 1]! };
}

/** The step a source reads from (undefined: a workflow input). */
export const sourceStep = (source: string, workflow: Pick<Workflow, 'id'>): string | undefined => {
  const ref = parseSource(source, workflow);
  return ref.kind === 'step' ? ref.step : undefined;
};

/** One step input waiting for another step's output. */
export interface StepLink {
  step: string;
  input: string;
  source: string;
  /** The step whose output it waits for. */
  from: string;
}

/**
 * A cycle among a workflow's steps (each waits for an output of the next, the last for the first's),
 * as the links that close it, in order; undefined when the steps can run in some order. Sources
 * naming no step of the workflow are left to the caller.
 */
export function findStepCycle(workflow: Pick<Workflow, 'id' | 'steps'>): StepLink[] | undefined {
  const ids = new Set(workflow.steps.map((s) => s.id));
  const links = new Map<string, StepLink[]>();
  for (const step of workflow.steps) {
    const own: StepLink[] = [];
    for (const input of step.in) {
      for (const source of input.source) {
        const from = sourceStep(source, workflow);
        if (from !== undefined && ids.has(from) && !own.some((l) => l.from === from)) own.push({ step: step.id, input: input.id, source, from });
      }
    }
    links.set(step.id, own);
  }
  // Depth-first, without recursion (a workflow may have thousands of steps).
  const done = new Set<string>();
  for (const start of ids) {
    if (done.has(start)) continue;
    const path: StepLink[] = [];
    const onPath = new Set<string>([start]);
    const stack: { step: string; next: number }[] = [{ step: start, next: 0 }];
    while (stack.length) {
      const top = stack.at(-1)!;
      const link = links.get(top.step)![top.next++];
      if (!link) {
        stack.pop();
        onPath.delete(top.step);
        done.add(top.step);
        path.pop();
        continue;
      }
      if (onPath.has(link.from)) {
        const cycle = [...path, link];
        return cycle.slice(cycle.findIndex((l) => l.step === link.from));
      }
      if (done.has(link.from)) continue;
      path.push(link);
      onPath.add(link.from);
      stack.push({ step: link.from, next: 0 });
    }
  }
  return undefined;
}

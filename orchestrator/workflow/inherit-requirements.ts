import type { Process, Requirement, WorkflowStep } from '../cwl/model.ts';

/** Requirements in force for a step's process: the most specific level wins, and requirements override hints. */
export function inheritRequirements(parent: { requirements: Requirement[]; hints: Requirement[] }, step: WorkflowStep): Pick<Process, 'requirements' | 'hints'> {
  const byClass = (...lists: Requirement[][]) => {
    const map = new Map<string, Requirement>();
    for (const list of lists) for (const r of list) map.set(r.class, r);
    return map;
  };
  const requirements = byClass(parent.requirements, step.requirements, step.run.requirements);
  const hints = byClass(parent.hints, step.hints, step.run.hints);
  for (const cls of requirements.keys()) hints.delete(cls);
  return { requirements: [...requirements.values()], hints: [...hints.values()] };
}

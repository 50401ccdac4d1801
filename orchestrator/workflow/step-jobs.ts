import path from 'node:path';
import { InvalidInputError } from '../../core/index.ts';
import type { Workflow, WorkflowStep } from '../cwl/model.ts';
import { isFsObject, readContents } from '../cwl/runtime/file-objects.ts';
import { linkValues, parseSource, type SourceRef } from './link-values.ts';
import { planScatter, reshape } from './scatter.ts';

/** What step semantics need from the expression engine (`$(...)`/`${...}` with inputs and self). */
export interface StepEvaluator {
  /** `field`: where the text is in the workflow (`steps.s1.when`), for errors. */
  evaluate(text: unknown, context: { inputs: Record<string, unknown>; self: unknown; runtime: Record<string, unknown> }, options?: { field?: string }): unknown;
}

export interface StepJob {
  inputs: Record<string, unknown>;
  /** False when the step's `when` is false for this job: it is skipped, its outputs are null. */
  run: boolean;
}

export interface StepJobs {
  jobs: StepJob[];
  /** Shape of the gathered outputs: [] for an unscattered step. */
  shape: number[];
}

/** Relative File/Directory locations in a step default are relative to the workflow's own file. */
function anchorDefault(value: unknown, dir: string): unknown {
  if (Array.isArray(value)) return value.map((v) => anchorDefault(v, dir));
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const out = Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, anchorDefault(v, dir)]));
    if ((obj.class === 'File' || obj.class === 'Directory') && typeof obj.location === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(obj.location)) {
      out.location = path.resolve(dir, obj.location);
    }
    return out;
  }
  return value;
}

/**
 * The jobs of one workflow step (CWL v1.2 WorkflowStep semantics): each input from its sources
 * (linkMerge, pickValue, then `default` when null), expanded over `scatter`, then each job's `valueFrom`
 * expressions (self: the input's value, inputs: the job before valueFrom) and its `when` condition.
 */
export function planStepJobs(workflow: Workflow, step: WorkflowStep, resolve: (ref: SourceRef) => unknown, evaluator: StepEvaluator): StepJobs {
  const base: Record<string, unknown> = {};
  for (const input of step.in) {
    const values = input.source.map((s) => resolve(parseSource(s, workflow)));
    let value = input.source.length
      ? linkValues(values, {
          sink: `${step.id}/${input.id}`,
          ...(input.linkMerge ? { linkMerge: input.linkMerge } : {}),
          ...(input.pickValue ? { pickValue: input.pickValue } : {}),
        })
      : null;
    if ((value === null || value === undefined) && input.default !== undefined) value = anchorDefault(input.default, path.dirname(workflow.sourceFile));
    if (input.loadContents && isFsObject(value) && value.class === 'File' && typeof value.path === 'string') {
      value = { ...value, contents: readContents(value.path, `${step.id}/${input.id}`) };
    }
    base[input.id] = value ?? null;
  }
  const { jobs, shape } = planScatter(base, step.scatter, step.scatterMethod, step.id);
  return {
    shape,
    jobs: jobs.map((job) => {
      const inputs = { ...job };
      for (const input of step.in) {
        if (input.valueFrom !== undefined) {
          inputs[input.id] = evaluator.evaluate(input.valueFrom, { inputs: job, self: job[input.id] ?? null, runtime: {} }, { field: `steps.${step.id}.in.${input.id}.valueFrom` });
        }
      }
      let run = true;
      if (step.when !== undefined) {
        const decision = evaluator.evaluate(step.when, { inputs, self: null, runtime: {} }, { field: `steps.${step.id}.when` });
        if (typeof decision !== 'boolean') throw new InvalidInputError(`step ${step.id}: "when" must evaluate to true or false, got ${JSON.stringify(decision)}`);
        run = decision;
      }
      return { inputs, run };
    }),
  };
}

/** A step's outputs from its jobs' outputs (null for skipped jobs), shaped like its scatter. */
export function gatherStepOutputs(step: WorkflowStep, shape: number[], jobOutputs: (Record<string, unknown> | null)[]): Record<string, unknown> {
  return Object.fromEntries(
    step.out.map((name) => {
      const values = jobOutputs.map((o) => o?.[name] ?? null);
      return [name, step.scatter.length ? reshape(values, shape) : (values[0] ?? null)];
    }),
  );
}

/** A workflow's output object from its outputs' sources. */
export function workflowOutputs(workflow: Workflow, resolve: (ref: SourceRef) => unknown): Record<string, unknown> {
  return Object.fromEntries(
    workflow.outputs.map((output) => {
      const sources = output.outputSource ?? [];
      const values = sources.map((s) => resolve(parseSource(s, workflow)));
      const value = sources.length
        ? linkValues(values, {
            sink: output.id,
            ...(output.linkMerge ? { linkMerge: output.linkMerge } : {}),
            ...(output.pickValue ? { pickValue: output.pickValue } : {}),
          })
        : null;
      return [output.id, value ?? null];
    }),
  );
}

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger, type Logger } from '../../core/index.ts';
import { createExpressionEvaluator } from '../cwl/expressions/index.ts';
import type { Process, Requirement, Workflow, WorkflowStep } from '../cwl/model.ts';
import { ProcessFailedError } from '../cwl/runtime/cwl-errors.ts';
import { prepareInputs } from '../cwl/runtime/prepare-inputs.ts';
import { relocateOutputs } from '../cwl/runtime/relocate-outputs.ts';
import { expressionOptions, runProcess, type RunOptions } from '../cwl/runtime/run-process.ts';
import { checkOutputs } from '../cwl/runtime/collect-outputs.ts';
import type { SourceRef } from './link-values.ts';
import { parseSource } from './link-values.ts';
import { gatherStepOutputs, planStepJobs, workflowOutputs } from './step-jobs.ts';

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

interface Scope {
  workdir: string;
  logger: Logger;
  options: RunOptions;
}

/**
 * Runs a workflow in this process, one step after another in dependency order, each tool through the
 * tool runtime. This is the interim path of `archipel run workflow.cwl` until workflows go through
 * the Argo translation and the local engine (which will call the same step semantics from control
 * steps); outputs are relocated to `outdir` like a tool's.
 */
export async function runWorkflow(workflow: Workflow, job: Record<string, unknown>, options: RunOptions): Promise<Record<string, unknown>> {
  const prefix = options.tmpdirPrefix ?? path.join(tmpdir(), 'archipel-');
  mkdirSync(path.dirname(prefix), { recursive: true });
  const workdir = mkdtempSync(prefix);
  try {
    const scope: Scope = { workdir, logger: options.logger ?? silentLogger, options };
    const outputs = await runNested(workflow, job, options.jobDir, scope, 'wf');
    checkOutputs(workflow, outputs);
    return await relocateOutputs(outputs, [workdir], options.outdir);
  } finally {
    if (!options.keepTemp) rmSync(workdir, { recursive: true, force: true });
  }
}

async function runNested(workflow: Workflow, job: Record<string, unknown>, jobDir: string, scope: Scope, label: string): Promise<Record<string, unknown>> {
  const evaluator = await createExpressionEvaluator(expressionOptions(workflow, scope.options.expressionTimeoutMs));
  try {
    const literalDir = path.join(scope.workdir, label, 'literals');
    mkdirSync(literalDir, { recursive: true });
    const inputs = prepareInputs(workflow, job, evaluator, { jobDir, literalDir });
    const results = new Map<string, Record<string, unknown>>();
    const resolve = (ref: SourceRef): unknown => {
      if (ref.kind === 'input') return inputs[ref.name] ?? null;
      const stepOutputs = results.get(ref.step);
      if (!stepOutputs) throw new ProcessFailedError(`step output ${ref.step}/${ref.output} is not available`);
      return stepOutputs[ref.output] ?? null;
    };
    const upstream = (step: WorkflowStep) =>
      step.in.flatMap((i) => i.source.map((s) => parseSource(s, workflow))).flatMap((r) => (r.kind === 'step' ? [r.step] : []));

    const pending = [...workflow.steps];
    while (pending.length) {
      const index = pending.findIndex((step) => upstream(step).every((s) => results.has(s)));
      if (index < 0) throw new ProcessFailedError(`workflow ${workflow.id}: steps ${pending.map((s) => s.id).join(', ')} wait on each other (a cycle)`);
      const step = pending.splice(index, 1)[0]!;
      const { jobs, shape } = planStepJobs(workflow, step, resolve, evaluator);
      const process = { ...step.run, ...inheritRequirements(workflow, step) } as Process;
      const jobOutputs: (Record<string, unknown> | null)[] = [];
      for (const [i, stepJob] of jobs.entries()) {
        if (!stepJob.run) {
          jobOutputs.push(null);
          continue;
        }
        const stepLabel = `${label}/${step.id}/${i}`;
        scope.logger.info('step', { step: stepLabel });
        const outdir = path.join(scope.workdir, stepLabel, 'out');
        jobOutputs.push(
          process.class === 'Workflow'
            ? await runNested(process, stepJob.inputs, jobDir, scope, stepLabel)
            : await runProcess(process, stepJob.inputs, { ...scope.options, outdir, jobDir, keepTemp: false }),
        );
      }
      results.set(step.id, gatherStepOutputs(step, shape, jobOutputs));
    }
    return workflowOutputs(workflow, resolve);
  } finally {
    evaluator.close();
  }
}

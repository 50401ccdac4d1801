import { createExpressionEvaluator } from '../cwl/expressions/index.ts';
import type { Process, Workflow } from '../cwl/model.ts';
import { UnsupportedRequirementError } from '../cwl/runtime/cwl-errors.ts';
import { prepareInputs } from '../cwl/runtime/prepare-inputs.ts';
import { checkRequirements, expressionOptions } from '../cwl/runtime/run-process.ts';
import { inheritRequirements } from './inherit-requirements.ts';

/**
 * Refuses, before anything runs, a workflow with a requirement no step could meet: one this runtime
 * does not know, or (`containers: false`, the local engine) a DockerRequirement, since the local engine
 * runs every tool as a local process.
 */
export function checkProcessRequirements(process: Process, options: { containers: boolean }) {
  checkRequirements(process);
  if (process.class === 'Workflow') {
    for (const step of process.steps) checkProcessRequirements({ ...step.run, ...inheritRequirements(process, step) } as Process, options);
  } else if (!options.containers && process.requirements.some((r) => r.class === 'DockerRequirement')) {
    throw new UnsupportedRequirementError(`${process.id}: DockerRequirement needs a container engine, and the local engine runs tools as local processes`);
  }
}

/** Checks a workflow's job and completes it (defaults, file metadata, secondary files), as its first step would. */
export async function prepareWorkflowJob(
  workflow: Workflow,
  job: Record<string, unknown>,
  options: { jobDir: string; literalDir: string; expressionTimeoutMs?: number },
): Promise<Record<string, unknown>> {
  const evaluator = await createExpressionEvaluator(expressionOptions(workflow, options.expressionTimeoutMs));
  try {
    return prepareInputs(workflow, job, evaluator, { jobDir: options.jobDir, literalDir: options.literalDir });
  } finally {
    evaluator.close();
  }
}

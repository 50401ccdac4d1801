export { linkValues, parseSource, type SourceRef } from './link-values.ts';
export { planScatter, reshape, type ScatterPlan, type ScatterMethod } from './scatter.ts';
export { planStepJobs, gatherStepOutputs, workflowOutputs, type StepJob, type StepJobs, type StepEvaluator } from './step-jobs.ts';
export { inheritRequirements } from './inherit-requirements.ts';
export { checkProcessRequirements, prepareWorkflowJob } from './workflow-job.ts';

export * from './cwl/index.ts';
export * from './translate/index.ts';
export { checkProcessRequirements, prepareWorkflowJob, inheritRequirements } from './workflow/index.ts';
export * from './steps/index.ts';
export * from './argo/index.ts';
export * from './engine/index.ts';

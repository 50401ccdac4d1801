export * from './cwl/index.ts';
export * from './translate/index.ts';
export { runWorkflow } from './workflow/index.ts';
export * from './steps/index.ts';
export * from './argo/index.ts';

export type * from './model.ts';
export { CWL_REQUIREMENT_CLASSES } from './model.ts';
export { loadCwlProcess, type LoadOptions, type StructureCheckCache } from './load/load-process.ts';
export { CwlLoadError } from './load/cwl-load-error.ts';
export { runProcess, type RunOptions } from './runtime/run-process.ts';
export { relocateOutputs } from './runtime/relocate-outputs.ts';
export { readJobFile, parseInputOptions, withJobRequirements } from './runtime/read-job.ts';
export { UnsupportedRequirementError, JobInputError, ProcessFailedError } from './runtime/cwl-errors.ts';
export { formatOutputJson } from './runtime/output-json.ts';

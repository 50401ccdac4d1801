// The local workflow engine: the embedded adapter of the workflow-engine port (see README.md).
export { createLocalEngine, type LocalEngine, type LocalEngineOptions } from './local-engine.ts';
export {
  createProcessRunner,
  defaultCommandMap,
  DEFAULT_PATH,
  type ContainerRunner,
  type ContainerRunRequest,
  type ContainerRunResult,
  type ProcessRunnerOptions,
} from './process-runner.ts';
export {
  createResourceScheduler,
  InsufficientCapacityError,
  type ResourceCapacity,
  type ResourceRequest,
  type ResourceScheduler,
} from './resource-scheduler.ts';
export { parseCpu, parseMemoryMiB } from './quantity.ts';

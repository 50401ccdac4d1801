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
export { TARGET_CLUSTER_ANNOTATION, type PlacedPod, type PlacedPods } from './placed-pods.ts';
export { podContainers, podRequest, podLogFile, type PodContainer, type PodResult } from './run-pod.ts';
export type { Template, WorkflowManifest } from './manifest.ts';
export { interruptionMessage, messages as interruptionMessages } from './interruption.ts';

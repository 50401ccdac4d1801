export { createArgoClient } from './argo-client.ts';
export type { ArgoClient, ArgoClientOptions, ArgoLabelSelector, ArgoLogsOptions, ArgoRequestOptions } from './argo-client.ts';
export { isFinalArgoPhase } from './argo-workflow.ts';
export type {
  ArgoLogEntry,
  ArgoNodePhase,
  ArgoNodeStatus,
  ArgoObjectMeta,
  ArgoWorkflow,
  ArgoWorkflowEvent,
  ArgoWorkflowPhase,
  ArgoWorkflowStatus,
} from './argo-workflow.ts';
export { argoNodeId, argoPodName } from './pod-names.ts';
export { createArgoWorkflowValidator, validateArgoWorkflow, DEFAULT_ARGO_SCHEMA_PATH } from './workflow-schema.ts';
export type { ArgoWorkflowValidation, ArgoWorkflowValidator } from './workflow-schema.ts';
export { createArgoEngine, type ArgoEngineOptions } from './argo-engine.ts';

export {
  translateWorkflow,
  asWorkflow,
  placementAnnotations,
  ANNOTATION_TARGET_CLUSTER,
  LABEL_RUN,
  DEFAULT_RUNTIME_IMAGE,
  DEFAULT_TOOL_IMAGE,
  type ArgoWorkflowManifest,
  type TranslateOptions,
} from './translate-workflow.ts';

/**
 * The part of Argo's Workflow schema (io.argoproj.workflow.v1alpha1) that the local engine executes.
 * Fields that only matter to Kubernetes (image, service accounts, node selectors, ...) are accepted and
 * ignored; fields whose meaning the engine cannot honour are refused by `checkManifest`.
 */
export interface Parameter {
  name: string;
  value?: string;
  default?: string;
  enum?: string[];
  valueFrom?: { path?: string; default?: string; parameter?: string };
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
}

export interface Volume {
  name: string;
  emptyDir?: Record<string, unknown>;
  hostPath?: { path: string };
  persistentVolumeClaim?: { claimName: string };
}

export interface Container {
  name?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  workingDir?: string;
  volumeMounts?: VolumeMount[];
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  /** containerSet only: containers that must succeed first. */
  dependencies?: string[];
}

export interface DagTask {
  name: string;
  template: string;
  arguments?: { parameters?: Parameter[] };
  dependencies?: string[];
  depends?: string;
  when?: string;
  withParam?: string;
  withItems?: unknown[];
  continueOn?: { failed?: boolean; error?: boolean };
}

export interface RetryStrategy {
  limit?: number | string;
  retryPolicy?: 'Always' | 'OnFailure' | 'OnError' | 'OnTransientError';
  backoff?: { duration?: string | number; factor?: string | number; maxDuration?: string | number };
}

export interface Template {
  name: string;
  inputs?: { parameters?: Parameter[] };
  outputs?: { parameters?: Parameter[] };
  metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> };
  activeDeadlineSeconds?: number | string;
  retryStrategy?: RetryStrategy;
  parallelism?: number;
  volumes?: Volume[];
  container?: Container;
  script?: Container & { source: string };
  containerSet?: { containers: Container[]; volumeMounts?: VolumeMount[] };
  dag?: { tasks: DagTask[]; failFast?: boolean; target?: string };
}

export interface WorkflowManifest {
  apiVersion: string;
  kind: 'Workflow';
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    entrypoint: string;
    arguments?: { parameters?: Parameter[] };
    templates: Template[];
    activeDeadlineSeconds?: number;
    parallelism?: number;
    volumes?: Volume[];
    volumeClaimTemplates?: { metadata: { name: string } }[];
  };
}

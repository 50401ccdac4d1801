/**
 * Archipel's view of an Argo Workflow: plain JSON with the few fields Archipel reads typed, everything
 * else passed through untouched. The generated Argo API types stay inside the client.
 */

/** `''` until the controller first sees the Workflow; Succeeded, Failed and Error are final. */
export type ArgoWorkflowPhase = '' | 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Error';
export type ArgoNodePhase = 'Pending' | 'Running' | 'Succeeded' | 'Skipped' | 'Failed' | 'Error' | 'Omitted';

export interface ArgoObjectMeta {
  [field: string]: unknown;
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface ArgoNodeStatus {
  [field: string]: unknown;
  id: string;
  name: string;
  displayName?: string;
  type?: string;
  templateName?: string;
  phase?: ArgoNodePhase;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface ArgoWorkflowStatus {
  [field: string]: unknown;
  phase?: ArgoWorkflowPhase;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  nodes?: Record<string, ArgoNodeStatus>;
}

export interface ArgoWorkflow {
  [field: string]: unknown;
  apiVersion?: string;
  kind?: string;
  metadata: ArgoObjectMeta;
  spec: Record<string, unknown>;
  status?: ArgoWorkflowStatus;
}

/** A change seen by a watch: `ADDED` for what exists when the watch starts, then `MODIFIED`/`DELETED`. */
export interface ArgoWorkflowEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | (string & {});
  object: ArgoWorkflow;
}

export interface ArgoLogEntry {
  podName: string;
  content: string;
}

const FINAL_PHASES: readonly string[] = ['Succeeded', 'Failed', 'Error'];

export function isFinalArgoPhase(phase: string | undefined): boolean {
  return phase !== undefined && FINAL_PHASES.includes(phase);
}

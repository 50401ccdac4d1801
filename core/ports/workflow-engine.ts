/**
 * The workflow-engine port: submit an Argo `Workflow` manifest (a plain object), then watch its run.
 * Embedded adapter: the local engine (`orchestrator/engine`), running the pods as local processes.
 * Phases, node types and node naming follow Argo's `status.nodes`, so that callers read a local run and
 * an Argo server's run alike. No vendor types.
 */
export type RunPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Error';
export type NodePhase = 'Pending' | 'Running' | 'Succeeded' | 'Skipped' | 'Failed' | 'Error' | 'Omitted';
/** `Skipped` is the type of nodes that never ran: `when` false (phase Skipped), `depends` unmet (Omitted), errors. */
export type NodeType = 'DAG' | 'Pod' | 'TaskGroup' | 'Retry' | 'Skipped';

export interface NodeParameter {
  name: string;
  value: string;
}

export interface NodeOutputs {
  parameters?: NodeParameter[];
  /** The main container's standard output (a trailing newline removed), as Argo's `outputs.result`. */
  result?: string;
  exitCode?: string;
}

export interface NodeState {
  /** Argo's node id: the workflow name for the root, else `<workflow>-<fnv32a(name)>`. */
  id: string;
  /** The node path: `<workflow>.<task>.<task>(0:item)`. */
  name: string;
  displayName: string;
  type: NodeType;
  phase: NodePhase;
  templateName?: string;
  /** Ids of the nodes this one contains (a DAG's tasks, a task group's items, a retry's attempts). */
  children?: string[];
  startedAt: string;
  finishedAt?: string;
  message?: string;
  inputs?: { parameters: NodeParameter[] };
  outputs?: NodeOutputs;
}

export interface RunSummary {
  name: string;
  phase: RunPhase;
  message?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface RunState extends RunSummary {
  nodes: Record<string, NodeState>;
}

export interface SubmitOptions {
  /** Values of `spec.arguments.parameters`, by name (they override the manifest's). */
  parameters?: Record<string, string>;
  signal?: AbortSignal;
}

export interface SignalOptions {
  signal?: AbortSignal;
}

export interface LogsOptions extends SignalOptions {
  /** Container of a containerSet (default `main`, else the pod's first container). */
  container?: string;
}

export interface WorkflowEngine {
  /** Validates and starts a run; resolves once it is recorded, not when it ends. */
  submit(manifest: Record<string, unknown>, options?: SubmitOptions): Promise<{ name: string }>;
  get(name: string, options?: SignalOptions): Promise<RunState>;
  /** Resolves with the run's final state. */
  wait(name: string, options?: SignalOptions): Promise<RunState>;
  list(options?: SignalOptions): Promise<RunSummary[]>;
  /** Stops a running run: its processes are killed and it fails. A finished run is left as it is. */
  stop(name: string, options?: SignalOptions): Promise<RunState>;
  logs(name: string, nodeId: string, options?: LogsOptions): Promise<string>;
  /**
   * Runs a failed run again (Argo's retry): nodes that succeeded keep their results, the others run again.
   * A running or succeeded run is a ConflictError.
   */
  retry(name: string, options?: SignalOptions): Promise<RunState>;
  /** Forgets a finished run: its record, its nodes and their logs. A running run is a ConflictError. */
  delete(name: string, options?: SignalOptions): Promise<void>;
}

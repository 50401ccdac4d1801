import { randomInt, randomUUID } from 'node:crypto';
import type { ArgoNodePhase, ArgoNodeStatus, ArgoWorkflow, ArgoWorkflowPhase } from './argo-workflow.ts';
import { isFinalArgoPhase } from './argo-workflow.ts';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './label-selector.ts';
import { argoNodeId, argoPodName } from './pod-names.ts';
import type { ArgoWorkflowValidator } from './workflow-schema.ts';

/**
 * The state behind the Argo server double (test support): what the Kubernetes API server and the
 * workflow controller would do to Workflow objects, without HTTP. Errors carry the HTTP status and
 * gRPC code the real Argo server answers with.
 */

export const GRPC = { InvalidArgument: 3, NotFound: 5, AlreadyExists: 6, Unimplemented: 12, Internal: 13, Unauthenticated: 16 } as const;

export class ArgoStatusError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface DoubleNode {
  /** The DAG task's name; the node is named `<workflow>.<displayName>`. */
  displayName: string;
  phase: ArgoNodePhase;
  /** Defaults to `Pod`. */
  type?: string;
  /** Defaults to `displayName`. */
  templateName?: string;
  message?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type WatchListener = (type: WatchEventType, workflow: ArgoWorkflow) => void;

export interface WatchFilter {
  labelSelector?: string;
  fieldSelector?: string;
}

// Kubernetes' generateName alphabet (no vowels, no 0/1/3): `k8s.io/apiserver/pkg/storage/names`.
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function createDoubleStore(validate: ArgoWorkflowValidator, now: () => Date = () => new Date()) {
  const workflows = new Map<string, ArgoWorkflow>();
  const listeners = new Set<{ namespace: string; matches: (wf: ArgoWorkflow) => boolean; send: WatchListener }>();
  let resourceVersion = 1000;

  const timestamp = () => now().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const key = (namespace: string, name: string) => `${namespace}/${name}`;
  const notFound = (name: string) => new ArgoStatusError(404, GRPC.NotFound, `workflows.argoproj.io "${name}" not found`);

  function mustGet(namespace: string, name: string): ArgoWorkflow {
    const workflow = workflows.get(key(namespace, name));
    if (!workflow) throw notFound(name);
    return workflow;
  }

  function changed(workflow: ArgoWorkflow, type: WatchEventType): void {
    workflow.metadata.resourceVersion = String(++resourceVersion);
    for (const listener of listeners) {
      if (listener.namespace === workflow.metadata.namespace && listener.matches(workflow)) listener.send(type, structuredClone(workflow));
    }
  }

  function matcher(filter: WatchFilter): (wf: ArgoWorkflow) => boolean {
    try {
      const labels = parseLabelSelector(filter.labelSelector ?? '');
      const fields = parseFieldSelector(filter.fieldSelector ?? '');
      return (wf) => labels(wf.metadata.labels) && fields({ name: wf.metadata.name ?? '', namespace: wf.metadata.namespace ?? '' });
    } catch (error) {
      if (error instanceof SelectorError) throw new ArgoStatusError(400, GRPC.InvalidArgument, error.message);
      throw error;
    }
  }

  /** What the controller records as a Workflow moves on: phase, times, and its phase labels. */
  function setPhase(workflow: ArgoWorkflow, phase: ArgoWorkflowPhase, message?: string): void {
    const status = (workflow.status ??= {});
    status.phase = phase;
    if (message !== undefined) status.message = message;
    if (phase !== 'Pending' && !status.startedAt) status.startedAt = timestamp();
    if (isFinalArgoPhase(phase)) status.finishedAt ??= timestamp();
    workflow.metadata.labels = {
      ...workflow.metadata.labels,
      'workflows.argoproj.io/phase': phase,
      'workflows.argoproj.io/completed': String(isFinalArgoPhase(phase)),
    };
  }

  return {
    workflows,

    create(namespace: string, request: { workflow?: unknown; serverDryRun?: boolean; createOptions?: { dryRun?: string[] } }): ArgoWorkflow {
      if (typeof request.workflow !== 'object' || request.workflow === null) {
        throw new ArgoStatusError(400, GRPC.InvalidArgument, 'workflow body not specified');
      }
      const workflow = structuredClone(request.workflow) as ArgoWorkflow;
      const result = validate(workflow);
      if (!result.valid) throw new ArgoStatusError(400, GRPC.InvalidArgument, `invalid Workflow: ${result.errors.join('; ')}`);
      const meta = (workflow.metadata ??= {});
      meta.namespace ||= namespace;
      if (meta.namespace !== namespace) {
        throw new ArgoStatusError(400, GRPC.InvalidArgument, 'the namespace of the provided object does not match the namespace sent on the request');
      }
      if (!meta.name) {
        if (!meta.generateName) {
          throw new ArgoStatusError(400, GRPC.InvalidArgument, `Workflow.argoproj.io "" is invalid: metadata.name: Required value: name or generateName is required`);
        }
        // Kubernetes (1.32+) draws again when a generated name is taken, a few times before a 409.
        const prefix = meta.generateName;
        const draw = () => prefix + Array.from({ length: 5 }, () => NAME_ALPHABET[randomInt(NAME_ALPHABET.length)]).join('');
        meta.name = draw();
        for (let attempt = 1; attempt < 8 && workflows.has(key(namespace, meta.name)); attempt++) meta.name = draw();
      }
      if (workflows.has(key(namespace, meta.name))) {
        throw new ArgoStatusError(409, GRPC.AlreadyExists, `workflows.argoproj.io "${meta.name}" already exists`);
      }
      Object.assign(meta, { uid: randomUUID(), creationTimestamp: timestamp(), generation: 1 });
      // Real Argo returns an empty status until the controller picks the Workflow up; `argo submit`
      // shows that as Pending, and so does the double.
      workflow.status = { ...workflow.status, phase: 'Pending' };
      if (request.serverDryRun || request.createOptions?.dryRun?.length) return workflow;
      workflows.set(key(namespace, meta.name), workflow);
      changed(workflow, 'ADDED');
      return structuredClone(workflow);
    },

    get(namespace: string, name: string): ArgoWorkflow {
      return structuredClone(mustGet(namespace, name));
    },

    /** Newest first, as Argo sorts a page. */
    list(namespace: string, filter: WatchFilter): ArgoWorkflow[] {
      const matches = matcher(filter);
      return [...workflows.values()]
        .filter((wf) => wf.metadata.namespace === namespace && matches(wf))
        .reverse()
        .sort((a, b) => String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)))
        .map((wf) => structuredClone(wf));
    },

    resourceVersion: () => String(resourceVersion),

    /** Sends ADDED for what matches now, then every change; returns the unsubscribe function. */
    watch(namespace: string, filter: WatchFilter, send: WatchListener): () => void {
      const matches = matcher(filter);
      // Argo looks a watched name up first, so watching a missing Workflow is a 404.
      const name = /^metadata\.name==?([^,]+)$/.exec(filter.fieldSelector ?? '')?.[1];
      if (name !== undefined) mustGet(namespace, name);
      const listener = { namespace, matches, send };
      listeners.add(listener);
      for (const wf of workflows.values()) if (wf.metadata.namespace === namespace && matches(wf)) send('ADDED', structuredClone(wf));
      return () => listeners.delete(listener);
    },

    advance(ref: string, phase: ArgoWorkflowPhase, nodes?: DoubleNode[]): ArgoWorkflow {
      const workflow = [...workflows.values()].find((wf) => wf.metadata.name === ref || key(wf.metadata.namespace ?? '', wf.metadata.name ?? '') === ref);
      if (!workflow) throw notFound(ref);
      setPhase(workflow, phase);
      if (nodes) (workflow.status ??= {}).nodes = nodeStatuses(workflow, phase, nodes, timestamp());
      changed(workflow, 'MODIFIED');
      return structuredClone(workflow);
    },

    /**
     * Stop and terminate set `spec.shutdown` and answer with that; the controller then fails the
     * Workflow. The double plays the controller at once, after taking the answer.
     */
    shutdown(namespace: string, name: string, strategy: 'Stop' | 'Terminate'): ArgoWorkflow {
      const workflow = mustGet(namespace, name);
      if (isFinalArgoPhase(workflow.status?.phase)) {
        throw new ArgoStatusError(500, GRPC.Internal, `cannot shutdown a completed workflow: workflow: "${name}", namespace: "${namespace}"`);
      }
      workflow.spec.shutdown = strategy;
      changed(workflow, 'MODIFIED');
      const answer = structuredClone(workflow);
      setPhase(workflow, 'Failed', `Stopped with strategy '${strategy}'`);
      for (const node of Object.values(workflow.status?.nodes ?? {})) {
        if (!isFinalArgoPhase(node.phase) && node.phase !== 'Skipped' && node.phase !== 'Omitted') {
          Object.assign(node, { phase: 'Failed', message: `workflow shutdown with strategy: ${strategy}`, finishedAt: timestamp() });
        }
      }
      changed(workflow, 'MODIFIED');
      return answer;
    },

    /** Plays the controller with a real executor: its view of a Workflow's status replaces the stored one. */
    setStatus(namespace: string, name: string, status: ArgoWorkflow['status'] & object): void {
      const workflow = workflows.get(key(namespace, name));
      if (!workflow) return;
      const { phase, ...rest } = status;
      workflow.status = { ...workflow.status, ...rest };
      setPhase(workflow, phase ?? 'Pending', status.message);
      if (status.message === undefined) delete workflow.status.message;
      if (!isFinalArgoPhase(phase)) delete workflow.status.finishedAt;
      changed(workflow, 'MODIFIED');
    },

    /** Argo's retry: only a Workflow that ended unsuccessfully; it runs again from its Failed nodes. */
    retry(namespace: string, name: string): ArgoWorkflow {
      const workflow = mustGet(namespace, name);
      if (!isFinalArgoPhase(workflow.status?.phase) || workflow.status?.phase === 'Succeeded') {
        throw new ArgoStatusError(500, GRPC.Internal, `workflow must be Failed/Error to retry`);
      }
      delete workflow.spec.shutdown;
      setPhase(workflow, 'Running');
      delete workflow.status!.finishedAt;
      changed(workflow, 'MODIFIED');
      return structuredClone(workflow);
    },

    delete(namespace: string, name: string): void {
      const workflow = mustGet(namespace, name);
      workflows.delete(key(namespace, name));
      changed(workflow, 'DELETED');
    },

    /** The pods of a Workflow's Pod nodes, named as Argo names them. */
    pods(namespace: string, name: string): Array<{ podName: string; node: ArgoNodeStatus }> {
      const workflow = mustGet(namespace, name);
      return Object.values(workflow.status?.nodes ?? {})
        .filter((node) => node.type === 'Pod')
        .map((node) => ({ podName: argoPodName(name, node.name, node.templateName ?? ''), node }));
    },
  };
}

export type DoubleStore = ReturnType<typeof createDoubleStore>;

/** A root DAG node named after the Workflow, and one child node per given task. */
function nodeStatuses(workflow: ArgoWorkflow, phase: ArgoWorkflowPhase, nodes: DoubleNode[], at: string): Record<string, ArgoNodeStatus> {
  const wf = workflow.metadata.name ?? '';
  const children = nodes.map((node): ArgoNodeStatus => {
    const name = `${wf}.${node.displayName}`;
    return {
      id: argoNodeId(wf, name),
      name,
      displayName: node.displayName,
      type: node.type ?? 'Pod',
      templateName: node.templateName ?? node.displayName,
      phase: node.phase,
      boundaryID: wf,
      ...(node.message === undefined ? {} : { message: node.message }),
      ...(node.phase === 'Pending' ? {} : { startedAt: at }),
      ...(isFinalArgoPhase(node.phase) ? { finishedAt: at } : {}),
    };
  });
  const root: ArgoNodeStatus = {
    id: wf,
    name: wf,
    displayName: wf,
    type: 'DAG',
    templateName: String(workflow.spec.entrypoint ?? ''),
    phase: phase === '' ? 'Pending' : phase,
    children: children.map((child) => child.id),
  };
  return Object.fromEntries([root, ...children].map((node) => [node.id, node]));
}

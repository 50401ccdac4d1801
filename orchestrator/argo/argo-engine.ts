import { ConflictError, InternalError, NotFoundError, type NodeState, type RunState, type RunSummary, type WorkflowEngine } from '../../core/index.ts';
import type { ArgoClient } from './argo-client.ts';
import { isFinalArgoPhase, type ArgoWorkflow } from './argo-workflow.ts';
import { argoPodName } from './pod-names.ts';

/**
 * The workflow-engine port on an Argo Workflows server (cluster mode): the same Argo `Workflow` the local
 * engine runs is submitted to the server, and its `status` read back as the port's run state. Argo's
 * node statuses are the port's node shape already; only the run's phase needs a default (`''` until the
 * controller sees the Workflow is Pending).
 */
export interface ArgoEngineOptions {
  client: ArgoClient;
}

const FAILED_TO_RETRY = /must be Failed\/Error to retry|workflow must be/i;

function summary(wf: ArgoWorkflow): RunSummary {
  const status = wf.status ?? {};
  return {
    name: wf.metadata.name ?? '',
    phase: (status.phase || 'Pending') as RunSummary['phase'],
    ...(status.message ? { message: status.message } : {}),
    createdAt: wf.metadata.creationTimestamp ?? new Date(0).toISOString(),
    ...(status.startedAt ? { startedAt: status.startedAt } : {}),
    ...(status.finishedAt ? { finishedAt: status.finishedAt } : {}),
  };
}

function state(wf: ArgoWorkflow): RunState {
  const nodes: Record<string, NodeState> = {};
  for (const [id, node] of Object.entries(wf.status?.nodes ?? {})) {
    nodes[id] = {
      ...(node as unknown as NodeState),
      id: node.id,
      name: node.name,
      displayName: node.displayName ?? node.name,
      phase: node.phase ?? 'Pending',
      startedAt: node.startedAt ?? '',
    };
  }
  return { ...summary(wf), nodes };
}

/** Puts submitted parameter values into `spec.arguments.parameters`, as `argo submit -p` does. */
function withParameters(manifest: Record<string, unknown>, values: Record<string, string>): Record<string, unknown> {
  const copy = structuredClone(manifest) as { spec?: { arguments?: { parameters?: { name: string; value?: string }[] } } };
  const spec = (copy.spec ??= {});
  const parameters = ((spec.arguments ??= {}).parameters ??= []);
  for (const [name, value] of Object.entries(values)) {
    const existing = parameters.find((p) => p.name === name);
    if (existing) existing.value = value;
    else parameters.push({ name, value });
  }
  return copy as Record<string, unknown>;
}

export function createArgoEngine({ client }: ArgoEngineOptions): WorkflowEngine {
  async function wait(name: string, signal?: AbortSignal): Promise<RunState> {
    for (;;) {
      const now = await client.get(name, { signal });
      if (isFinalArgoPhase(now.status?.phase)) return state(now);
      // Watch until final; the server closes watches after a while, then look again.
      const controller = new AbortController();
      const onAbort = () => controller.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const event of client.watch(name, { signal: controller.signal })) {
          if (event.type === 'DELETED') throw new NotFoundError(`workflow run "${name}" was deleted`);
          if (isFinalArgoPhase(event.object.status?.phase)) return state(event.object);
        }
      } finally {
        controller.abort();
        signal?.removeEventListener('abort', onAbort);
      }
      if (signal?.aborted) throw signal.reason;
    }
  }

  return {
    async submit(manifest, options = {}) {
      const created = await client.submit(withParameters(manifest, options.parameters ?? {}), { signal: options.signal });
      if (!created.metadata.name) throw new InternalError('the Argo server created a Workflow without a name');
      return { name: created.metadata.name };
    },

    get: async (name, options = {}) => state(await client.get(name, options)),

    wait: (name, options = {}) => wait(name, options.signal),

    list: async (options = {}) => (await client.list(options)).map(summary),

    async stop(name, options = {}) {
      const current = await client.get(name, options);
      if (isFinalArgoPhase(current.status?.phase)) return state(current);
      await client.stop(name, options);
      return wait(name, options.signal);
    },

    async logs(name, nodeId, options = {}) {
      const wf = await client.get(name, options);
      const node = wf.status?.nodes?.[nodeId];
      if (!node || node.type !== 'Pod') throw new NotFoundError(`run "${name}" has no pod node "${nodeId}"`);
      const podName = argoPodName(name, node.name, node.templateName ?? '');
      let text = '';
      for await (const entry of client.logs(name, { podName, container: options.container ?? 'main', ...(options.signal ? { signal: options.signal } : {}) })) text += `${entry.content}\n`;
      return text;
    },

    async retry(name, options = {}) {
      const current = await client.get(name, options);
      const phase = current.status?.phase;
      if (phase === 'Succeeded') throw new ConflictError(`workflow run "${name}" succeeded: there is nothing to retry`);
      if (!isFinalArgoPhase(phase)) throw new ConflictError(`workflow run "${name}" is ${phase || 'Pending'}`);
      try {
        return state(await client.retry(name, options));
      } catch (error) {
        if (error instanceof Error && FAILED_TO_RETRY.test(error.message)) throw new ConflictError(error.message, { cause: error });
        throw error;
      }
    },

    async delete(name, options = {}) {
      const current = await client.get(name, options);
      if (!isFinalArgoPhase(current.status?.phase)) throw new ConflictError(`workflow run "${name}" is ${current.status?.phase || 'Pending'}: stop it first`);
      await client.delete(name, options);
    },
  };
}

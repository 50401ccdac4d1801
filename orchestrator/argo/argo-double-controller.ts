import { describeError, NotFoundError, type RunState, type WorkflowEngine } from '../../core/index.ts';
import type { ArgoDoubleController } from './argo-server-double.ts';
import type { ArgoNodeStatus, ArgoWorkflowStatus } from './argo-workflow.ts';

/**
 * Test support, not production: a controller for the Argo server double that really runs what is
 * submitted, on a workflow engine of this machine (the local engine implements Argo's semantics), and
 * reports its status as the controller writes `status` — so that the Argo adapter can pass the same
 * workflow-engine contract suite as the local engine.
 */
export function createEngineController(engine: WorkflowEngine, pollMs = 25): ArgoDoubleController & { close(): void } {
  const followed = new Map<string, NodeJS.Timeout>();

  const toStatus = (state: RunState): ArgoWorkflowStatus => ({
    phase: state.phase,
    ...(state.message !== undefined ? { message: state.message } : {}),
    ...(state.startedAt ? { startedAt: state.startedAt } : {}),
    ...(state.finishedAt ? { finishedAt: state.finishedAt } : {}),
    nodes: state.nodes as unknown as Record<string, ArgoNodeStatus>,
  });

  function follow(name: string, report: (status: ArgoWorkflowStatus) => void) {
    clearInterval(followed.get(name));
    let busy = false;
    const timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        const state = await engine.get(name);
        report(toStatus(state));
        if (['Succeeded', 'Failed', 'Error'].includes(state.phase)) {
          clearInterval(timer);
          followed.delete(name);
        }
      } catch {
        // Not recorded yet, or deleted: the next tick tells.
      } finally {
        busy = false;
      }
    }, pollMs);
    followed.set(name, timer);
  }

  return {
    run(workflow, report) {
      const name = workflow.metadata.name!;
      engine.submit(workflow).then(
        () => follow(name, report),
        (error: unknown) => report({ phase: 'Error', message: describeError(error) }),
      );
    },
    async stop(name) {
      await engine.stop(name);
    },
    async retry(name, report) {
      await engine.retry(name);
      follow(name, report);
    },
    async delete(name) {
      clearInterval(followed.get(name));
      followed.delete(name);
      await engine.delete(name).catch((error: unknown) => {
        if (!(error instanceof NotFoundError)) throw error;
      });
    },
    logs: (name, nodeId, container) => engine.logs(name, nodeId, { container }),
    close() {
      for (const timer of followed.values()) clearInterval(timer);
      followed.clear();
    },
  };
}

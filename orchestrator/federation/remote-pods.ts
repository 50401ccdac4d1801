import { createHash } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { NotAllowedError, describeError, isArchipelError, silentLogger, type Logger } from '../../core/index.ts';
import { interruptionMessage, interruptionMessages as messages, podContainers, podLogFile, type PlacedPod, type PlacedPods, type PodResult, type Template } from '../engine/index.ts';
import type { RequestBody } from '../../discovery/index.ts';
import type { ExecutionRequest, ExecutionStatus } from './execution-protocol.ts';

/** Who a run's pod runs for on a cluster: the run's owner and project, and what they reserved there. */
export interface ExecutionContext {
  run: string;
  user: string;
  project: string;
  reservationId: string;
  /** Object-key prefixes the pod may read besides its run's own (the uploads the run reads). */
  reads: string[];
}

export interface RemotePodsOptions {
  clusterId(): string;
  /** Sends an execution request to a peered cluster (the protocol's requester). */
  ask(cluster: string, body: RequestBody<ExecutionRequest>, signal?: AbortSignal): Promise<ExecutionStatus>;
  /** The context of a pod of engine run `runName`, for CWL step `step`, placed on `cluster`. */
  context(runName: string, cluster: string, step: string, signal?: AbortSignal): Promise<ExecutionContext>;
  /**
   * Places a step again after its cluster `lost` stopped answering (the run service's); throws when it is
   * not (pinned, too many lost, no other cluster). Without it, such a pod fails.
   */
  replace?(runName: string, lost: string, step: string, why: string, signal?: AbortSignal): Promise<{ cluster: string }>;
  /** How often a running pod's status is asked for (default 1 s). */
  pollIntervalMs?: number;
  /** How long a cluster may not answer before its pod fails (default 60 s). */
  unreachableMs?: number;
  logger?: Logger;
}

const FINAL = new Set(['Succeeded', 'Failed', 'Error']);
/** Refusals that no retry changes: the pod fails with the cluster's message. */
const REFUSED = new Set(['invalid-input', 'not-allowed', 'conflict']);

/** The origin's id of a pod's execution: the same across restarts, so a resumed run attaches to it. */
export const executionId = (runName: string, nodeId: string, cluster: string) => `e-${createHash('sha256').update(`${runName}/${nodeId}/${cluster}`).digest('hex').slice(0, 40)}`;

const containerNames = (template: Template) => podContainers(template).map((c) => c.name);

/**
 * The local engine's pods placed on peers (embedded mode): each runs there over `/archipel/execution/1.0.0`
 * under the reservation its run holds on that cluster. Its phase shows here as the pod's, its log lines are
 * appended to the pod's log files here as they arrive (so logs and `/events` read them like a local pod's),
 * its outputs become the pod's. A cluster that stops answering for `unreachableMs` fails the pod naming it;
 * a node stopping here leaves the remote pod running, and the resumed run attaches to it again.
 */
export interface RemotePods extends PlacedPods {
  /**
   * Whether cluster `from` may read or write `key` (a key, or a list's prefix) of this cluster's store for
   * execution `execution`: only while that pod runs there, and only its run's objects (written under the
   * run's scope and its project's result cache; read there, the workflow document and the run's uploads).
   * Throws NotAllowed otherwise.
   */
  authorize(from: string, execution: string, key: string, access: 'read' | 'write'): Promise<void>;
}

/** The value after `--flag` in a pod's Archipel containers (`--root`, `--document`). */
function argOf(template: Template, flag: string): string | undefined {
  for (const c of podContainers(template)) {
    const args = c.args ?? [];
    const at = args.indexOf(flag);
    if (c.command?.[0] === 'archipel' && at >= 0 && args[at + 1] !== undefined) return args[at + 1];
  }
  return undefined;
}

export function createRemotePods(options: RemotePodsOptions): RemotePods {
  const logger = (options.logger ?? silentLogger).child({ component: 'remote-pods' });
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const unreachableMs = options.unreachableMs ?? 60_000;
  /** The executions running on peers now: who runs them, what they may read and write. */
  const scopes = new Map<string, { cluster: string; write: string[]; read: string[] }>();

  async function run(pod: PlacedPod): Promise<PodResult | 'here'> {
    const step = pod.template.metadata?.annotations?.['archipel.io/cwl-step'] ?? pod.nodeId;
    let cluster = pod.cluster;
    for (;;) {
      const outcome = await runOn(pod, cluster, step);
      if (!('lost' in outcome)) return outcome;
      let next: { cluster: string };
      try {
        if (!options.replace) throw new Error('steps are not placed again here');
        next = await options.replace(pod.runName, cluster, step, outcome.lost, pod.signal);
      } catch (error) {
        return { phase: 'Error', message: `${outcome.lost}; ${describeError(error)}` };
      }
      pod.progress(`placed again on cluster ${next.cluster}: cluster ${cluster} was lost`);
      if (next.cluster === options.clusterId()) return 'here';
      cluster = next.cluster;
    }
  }

  async function runOn(pod: PlacedPod, cluster: string, step: string): Promise<PodResult | { lost: string }> {
    const { signal } = pod;
    const execution = executionId(pod.runName, pod.nodeId, cluster);
    const fail = (message: string): PodResult => ({ phase: 'Error', message });
    let context: ExecutionContext;
    try {
      context = await options.context(pod.runName, cluster, step, signal);
    } catch (error) {
      return fail(`step ${step} cannot run on cluster ${cluster}: ${describeError(error)}`);
    }
    const root = argOf(pod.template, '--root');
    const document = argOf(pod.template, '--document');
    if (root === undefined) return fail(`step ${step} names no run scope (--root): it cannot run on another cluster`);
    // The project's result cache too: collect remembers a tool's outputs there for later runs to reuse.
    const cache = `cache/${context.project}/`;
    scopes.set(execution, { cluster, write: [`${root}/`, cache], read: [`${root}/`, cache, ...(document ? [document] : []), ...context.reads] });
    try {
      return await follow(pod, cluster, execution, step, context);
    } finally {
      scopes.delete(execution);
    }
  }

  async function follow(pod: PlacedPod, cluster: string, execution: string, step: string, context: ExecutionContext): Promise<PodResult | { lost: string }> {
    const { signal } = pod;
    const fail = (message: string): PodResult => ({ phase: 'Error', message });
    await mkdir(`${pod.podDir}/logs`, { recursive: true });
    // Offsets in this execution's logs, whose text is appended to the pod's log files here.
    const offsets = Object.fromEntries(containerNames(pod.template).map((c) => [c, 0]));

    let started = false;
    let lastAnswer = Date.now();
    pod.progress(`starting on cluster ${cluster}`);
    while (!signal.aborted) {
      const body = {
        op: started ? 'status' : 'start',
        execution,
        user: context.user,
        project: context.project,
        logOffsets: { ...offsets },
        ...(started ? {} : { reservationId: context.reservationId, run: context.run, template: pod.template as unknown as Record<string, unknown> }),
      } as RequestBody<ExecutionRequest>;
      try {
        const status = await options.ask(cluster, body, signal);
        lastAnswer = Date.now();
        if (!started) logger.info('step started on a peer', { run: pod.runName, step, cluster, execution });
        started = true;
        for (const chunk of status.logs ?? []) {
          // A chunk that does not start where this copy ends was sent again after a lost answer.
          if (chunk.offset !== offsets[chunk.container]) continue;
          await appendFile(podLogFile(pod.podDir, chunk.container), chunk.text);
          offsets[chunk.container] = chunk.offset + Buffer.byteLength(chunk.text, 'utf8');
        }
        if (FINAL.has(status.phase) && !(status.logs ?? []).some((c) => Buffer.byteLength(c.text) > 0)) {
          return { phase: status.phase as PodResult['phase'], ...(status.message ? { message: `on cluster ${cluster}: ${status.message}` } : {}), ...(status.outputs ? { outputs: status.outputs } : {}) };
        }
        pod.progress(status.phase === 'Pending' ? `waiting on cluster ${cluster}${status.message ? `: ${status.message}` : ''}` : `running on cluster ${cluster}`);
      } catch (error) {
        if (signal.aborted) break;
        if (isArchipelError(error) && REFUSED.has(error.kind)) return fail(`cluster ${cluster} refused step ${step}: ${error.message}`);
        // The cluster forgot the execution (its engine's records were lost): start it again.
        if (isArchipelError(error) && error.kind === 'not-found' && started) started = false;
        else if (Date.now() - lastAnswer > unreachableMs) return { lost: `cluster ${cluster} did not answer for ${Math.round(unreachableMs / 1000)} s while running step ${step} (${describeError(error)})` };
        pod.progress(`cluster ${cluster} does not answer: ${describeError(error)}`);
      }
      await sleep(pollIntervalMs, undefined, { signal }).catch(() => {});
    }

    const why = interruptionMessage(signal);
    // Stopping here (the node's shutdown) leaves the remote pod running for the resumed run to attach to.
    if (started && why !== messages.nodeStopping) {
      await options.ask(cluster, { op: 'stop', execution, user: context.user, project: context.project } as RequestBody<ExecutionRequest>).catch((error: unknown) => {
        logger.warn('cannot stop a step on a peer', { cluster, execution, error: describeError(error) });
      });
    }
    return { phase: 'Failed', message: why };
  }

  async function authorize(from: string, execution: string, key: string, access: 'read' | 'write') {
    const scope = scopes.get(execution);
    const allowed = scope?.cluster === from && scope[access].some((p) => (p.endsWith('/') ? key.startsWith(p) : key === p));
    if (!allowed) throw new NotAllowedError(`execution ${execution} may not ${access} ${JSON.stringify(key)} on this cluster`);
  }

  return { clusterId: options.clusterId, run, authorize };
}

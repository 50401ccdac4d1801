import { createHash } from 'node:crypto';
import { ConflictError, InvalidInputError, NotAllowedError, NotFoundError, describeError, silentLogger, systemClock, type Clock, type Logger, type RunState, type WorkflowEngine } from '../../core/index.ts';
import { TARGET_CLUSTER_ANNOTATION, podContainers, podRequest, type Template } from '../engine/index.ts';
import type { PeerExecution } from './peer-executions.ts';
import { MAX_LOG_CHUNK_BYTES, executionProtocol, originStoreUrl, type ExecutionRequest, type ExecutionStatus } from './execution-protocol.ts';

/** What the executing cluster holds for a peer's user: a compute reservation (the ledger's view). */
export interface HeldReservation {
  state: 'scheduled' | 'active' | 'expired' | 'released';
  cores: number;
  memoryMiB: number;
}

export interface ExecutionResponderOptions {
  /** This cluster's engine: the pods run there, and show there like its own runs. */
  engine: Pick<WorkflowEngine, 'submit' | 'get' | 'stop' | 'logs'>;
  /** The reservation `id` of the peer's user (NotFound when it is not theirs). */
  reservation(from: string, user: string, id: string, signal: AbortSignal): Promise<HeldReservation>;
  clusterId(): string;
  isPeered(clusterId: string): boolean;
  /** Keeps what each pod run here for a peer is, for this cluster's operators. */
  record?(execution: PeerExecution): Promise<void>;
  /** The engine names of the pods recorded for a peer (`record`'s), for `stopFor`. */
  recorded?(originCluster: string, signal?: AbortSignal): Promise<string[]>;
  clock?: Clock;
  logger?: Logger;
}

const PASSED_ON = new Set(['invalid-input', 'not-allowed', 'not-found', 'conflict']);
/** The step commands a pod of another cluster may run of ours: those that stage and collect a tool's files. */
const STEP_COMMANDS = new Set(['stage', 'collect']);

/** This engine's name for a peer's execution: a peer can only ever name its own. */
export function executionRunName(from: string, execution: string): string {
  return `x-${createHash('sha256').update(`${from}/${execution}`).digest('hex').slice(0, 40)}`;
}

/**
 * The executing cluster's side of `/archipel/execution/1.0.0`. A peer's pod runs here only if it is a
 * tool pod as the translation makes them (containers with emptyDir volumes, whose Archipel containers
 * only stage and collect), it fits in the reservation its user holds here, and that reservation is
 * active. Its `--store` becomes the origin's store reached over the peering connection, so the pod
 * reads and writes nothing of this cluster's store. It runs in this cluster's engine as a run of its own.
 */
export function createExecutionResponder(options: ExecutionResponderOptions) {
  const logger = (options.logger ?? silentLogger).child({ component: 'execution' });
  const { engine } = options;

  async function status(name: string, offsets: Record<string, number>, signal: AbortSignal): Promise<ExecutionStatus> {
    const run: RunState = await engine.get(name, { signal });
    const pod = run.nodes[name];
    const phase = pod ? (pod.phase === 'Skipped' || pod.phase === 'Omitted' ? 'Error' : pod.phase) : run.phase;
    const message = pod?.message ?? run.message;
    const logs: NonNullable<ExecutionStatus['logs']> = [];
    for (const [container, offset] of Object.entries(offsets)) {
      const text = await engine.logs(name, name, { container, signal }).catch(() => undefined);
      if (text === undefined) continue;
      const bytes = Buffer.from(text, 'utf8');
      if (bytes.length <= offset) continue;
      let end = Math.min(bytes.length, offset + MAX_LOG_CHUNK_BYTES);
      // Never cut a character in two: the origin counts the bytes it appends.
      while (end < bytes.length && end > offset && (bytes[end]! & 0xc0) === 0x80) end--;
      logs.push({ container, offset, text: bytes.subarray(offset, end).toString('utf8') });
    }
    return { phase, ...(message ? { message } : {}), ...(pod?.outputs ? { outputs: pod.outputs } : {}), ...(logs.length ? { logs } : {}) };
  }

  async function start(request: ExecutionRequest, from: string, signal: AbortSignal): Promise<ExecutionStatus> {
    const name = executionRunName(from, request.execution);
    const offsets = request.logOffsets ?? {};
    const existing = await engine.get(name, { signal }).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    if (existing) return status(name, offsets, signal);

    const template = admitTemplate(request.template!, originStoreUrl(from, request.execution));
    const held = await options.reservation(from, request.user, request.reservationId!, signal);
    if (held.state !== 'active') throw new ConflictError(`reservation ${request.reservationId} is ${held.state}, not active`);
    const asked = podRequest(template);
    if (asked.cpu > held.cores || asked.memoryMiB > held.memoryMiB) {
      throw new ConflictError(
        `the step asks for ${asked.cpu} cores and ${asked.memoryMiB} MiB, more than reservation ${request.reservationId} holds (${held.cores} cores, ${held.memoryMiB} MiB)`,
      );
    }
    const manifest = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      metadata: {
        name,
        labels: { 'archipel.io/origin-user': request.user, 'archipel.io/origin-project': request.project },
        annotations: { 'archipel.io/origin-cluster': from, 'archipel.io/origin-run': request.run!, 'archipel.io/reservation': request.reservationId! },
      },
      spec: { entrypoint: template.name, templates: [template] },
    };
    const step = template.metadata?.annotations?.['archipel.io/cwl-step'];
    await options.record?.({
      engineName: name,
      originCluster: from,
      originRun: request.run!,
      user: request.user,
      project: request.project,
      reservationId: request.reservationId!,
      ...(step !== undefined ? { step } : {}),
      createdAt: (options.clock ?? systemClock).now(),
    });
    await engine.submit(manifest, { signal });
    logger.info('running a step for a peer', { clusterId: from, user: request.user, run: request.run, engine: name, reservation: request.reservationId });
    return status(name, offsets, signal);
  }

  /**
   * Stops every pod run here for `clusterId` that has not ended (its peering with this cluster ended);
   * returns how many were stopped. One the engine fails to stop is logged and left to its reservation's
   * end, the others are stopped all the same.
   */
  async function stopFor(clusterId: string, signal?: AbortSignal): Promise<number> {
    const names = (await options.recorded?.(clusterId, signal)) ?? [];
    let stopped = 0;
    for (const name of names) {
      try {
        const run = await engine.get(name, { ...(signal ? { signal } : {}) });
        if (run.phase !== 'Pending' && run.phase !== 'Running') continue;
        await engine.stop(name, { ...(signal ? { signal } : {}) });
        stopped++;
        logger.info('a step run for a peer was stopped: the peering ended', { clusterId, engine: name });
      } catch (error) {
        // Gone from the engine, or ended meanwhile: nothing to stop.
        if (error instanceof NotFoundError || error instanceof ConflictError) continue;
        logger.warn('could not stop a step run for a peer whose peering ended', { clusterId, engine: name, error: describeError(error) });
      }
    }
    return stopped;
  }

  return {
    stopFor,
    answer: executionProtocol.responder({ ...options, passedOn: PASSED_ON }, async (request, from, signal) => {
      const name = executionRunName(from, request.execution);
      switch (request.op) {
        case 'start':
          return start(request, from, signal);
        case 'status':
          return status(name, request.logOffsets ?? {}, signal);
        case 'stop':
          await engine.stop(name, { signal }).catch((error: unknown) => {
            // A pod that ended already has nothing to stop.
            if (!(error instanceof ConflictError)) throw error;
          });
          logger.info('a step run for a peer was stopped by it', { clusterId: from, engine: name });
          return status(name, {}, signal);
      }
    }),
  };
}

/**
 * The template as it may run here, or an InvalidInputError naming what is refused: a container or
 * containerSet template with emptyDir volumes only, output files inside its volumes, and Archipel
 * containers that only stage or collect, each of whose `--store` arguments becomes `store`.
 */
export function admitTemplate(raw: Record<string, unknown>, store: string): Template {
  const template = structuredClone(raw) as unknown as Template & Record<string, unknown>;
  const refuse = (why: string) => {
    throw new NotAllowedError(`this cluster runs only tool pods of the Archipel translation for peers: ${why}`);
  };
  if (typeof template.name !== 'string' || !/^[a-z0-9][-a-z0-9.]{0,252}$/.test(template.name)) throw new InvalidInputError('template.name: expected a template name');
  for (const field of ['dag', 'steps', 'script', 'resource', 'suspend', 'http', 'plugin', 'data', 'initContainers', 'sidecars']) {
    if (template[field] !== undefined) refuse(`template.${field} is not accepted`);
  }
  // The template's own containers (changed in place below); `podContainers` reads them with their mounts.
  const containers = template.containerSet ? template.containerSet.containers : template.container ? [template.container] : [];
  if (!containers.length) refuse('the template has no container');
  for (const volume of template.volumes ?? []) if (!('emptyDir' in volume) || Object.keys(volume).length !== 2) refuse(`volume ${volume.name} is not an emptyDir`);
  const mountPaths = podContainers(template).flatMap((c) => c.volumeMounts ?? []).map((m) => m.mountPath.replace(/\/+$/, ''));
  for (const p of template.outputs?.parameters ?? []) {
    const file = p.valueFrom?.path;
    if (file !== undefined && !mountPaths.some((m) => file.startsWith(`${m}/`))) refuse(`output parameter ${p.name} reads ${file}, outside the pod's volumes`);
  }
  for (const c of containers) {
    if (c.command?.[0] !== 'archipel') continue;
    if (c.command[1] !== 'step' || !STEP_COMMANDS.has(c.command[2] ?? '') || c.command.length !== 3) refuse(`container ${c.name ?? 'main'} runs "${c.command.join(' ')}"`);
    const args = c.args ?? [];
    const at = args.indexOf('--store');
    if (at < 0 || at + 1 >= args.length) refuse(`container ${c.name ?? 'main'} names no --store`);
    c.args = args.map((arg, i) => (args[i - 1] === '--store' ? store : arg.startsWith('--store=') ? `--store=${store}` : arg));
  }
  // Its parameters were substituted by the origin: here it is a workflow's entrypoint taking none.
  delete template.inputs;
  // It runs here, wherever the origin first placed it.
  const annotations = template.metadata?.annotations ?? {};
  for (const key of Object.keys(annotations)) if (key === TARGET_CLUSTER_ANNOTATION || key.startsWith('multicluster.admiralty.io/')) delete annotations[key];
  return template;
}

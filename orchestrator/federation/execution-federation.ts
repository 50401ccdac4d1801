import type { z } from 'zod';
import { silentLogger, systemClock, type Clock, type Logger, type ObjectStore, type RunPhase, type SqlDatabase, type WorkflowEngine } from '../../core/index.ts';
import type { PeerNetwork } from '../../discovery/index.ts';
import { executionProtocol, ExecutionStatusSchema, parseOriginStoreUrl } from './execution-protocol.ts';
import { createExecutionResponder, type HeldReservation } from './execution-responder.ts';
import { createRemoteObjectStore } from './remote-object-store.ts';
import { createPeerExecutions, type PeerExecution } from './peer-executions.ts';
import { createRemotePods, type ExecutionContext, type RemotePods } from './remote-pods.ts';
import { createRunObjectsResponder } from './run-objects-responder.ts';
import { runObjectsProtocol } from './run-objects-protocol.ts';

export interface ExecutionFederationOptions {
  network: PeerNetwork;
  /** Where the pods run here for peers are recorded. */
  db: SqlDatabase;
  /** This cluster's object store: peers' pods of this cluster's runs read and write it. */
  store: ObjectStore;
  /** Where parts of objects a peer uploads wait until they are complete. */
  uploadDir: string;
  /** This cluster's engine (late: it is built with this federation's remote pods). */
  engine(): Pick<WorkflowEngine, 'submit' | 'get' | 'stop' | 'logs'>;
  /** A reservation a peer's user holds here (the compute ledger's). */
  reservation(from: string, user: string, id: string, signal: AbortSignal): Promise<HeldReservation>;
  /** Who a pod of one of this cluster's runs runs for on a peer (the run service's, late too). */
  context(runName: string, cluster: string, step: string, signal?: AbortSignal): Promise<ExecutionContext>;
  /** Places a step again after its cluster was lost (the run service's, late too). */
  replace?(runName: string, lost: string, step: string, why: string, signal?: AbortSignal): Promise<{ cluster: string }>;
  pollIntervalMs?: number;
  unreachableMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface ExecutionFederation {
  /** The local engine's pods placed on peers. */
  placedPods: RemotePods;
  /** The store a pod run here for a peer names by an `archipel-origin://` URL, or undefined for another URL. */
  storeFor(url: string): ObjectStore | undefined;
  /** The pods this cluster runs (or ran) for peers, newest first, with their phase in this cluster's engine. */
  list(options: { originCluster?: string; limit: number; signal?: AbortSignal }): Promise<(PeerExecution & { phase: RunPhase; message?: string; startedAt?: string; finishedAt?: string })[]>;
  /**
   * Stops the pods run here for `clusterId` that have not ended (its peering with this cluster ended);
   * returns how many.
   */
  stopFor(clusterId: string, options?: { signal?: AbortSignal }): Promise<number>;
  /** Serves `/archipel/execution/1.0.0` and `/archipel/run-objects/1.0.0`; call once discovery has started. */
  serve(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Steps across clusters in embedded mode: this cluster's pods placed on peers run there (origin side), and
 * peers' pods run here in this cluster's engine (executing side), their files read from and written to
 * the origin's store over the peering connection.
 */
export function createExecutionFederation(options: ExecutionFederationOptions): ExecutionFederation {
  const { network } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const peers = { clusterId: () => network.clusterId(), isPeered: (id: string) => network.isPeered(id), clock, logger };
  const requester = { ...peers, sign: (domain: string, fields: readonly unknown[]) => network.sign(domain, fields) };

  const records = createPeerExecutions(options.db);
  const askExecution = executionProtocol.requester({ ...requester, ask: executionProtocol.transport(network) }, ExecutionStatusSchema as z.ZodType<z.infer<typeof ExecutionStatusSchema>>);
  const placedPods = createRemotePods({
    clusterId: peers.clusterId,
    ask: (cluster, body, signal) => askExecution(cluster, body, signal),
    context: (runName, cluster, step, signal) => options.context(runName, cluster, step, signal),
    ...(options.replace ? { replace: options.replace } : {}),
    ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
    ...(options.unreachableMs !== undefined ? { unreachableMs: options.unreachableMs } : {}),
    logger,
  });

  const executions = createExecutionResponder({
    engine: {
      submit: (manifest, o) => options.engine().submit(manifest, o),
      get: (name, o) => options.engine().get(name, o),
      stop: (name, o) => options.engine().stop(name, o),
      logs: (name, node, o) => options.engine().logs(name, node, o),
    },
    reservation: options.reservation,
    record: (e) => records.add(e),
    recorded: (cluster, signal) => records.engineNames(cluster, signal),
    ...peers,
  });
  const objects = createRunObjectsResponder({
    store: options.store,
    authorize: (from, execution, key, access) => placedPods.authorize(from, execution, key, access),
    tempDir: options.uploadDir,
    ...peers,
  });
  const objectsRequester = { ...requester, ask: runObjectsProtocol.transport(network) };

  return {
    placedPods,
    storeFor(url) {
      const origin = parseOriginStoreUrl(url);
      return origin ? createRemoteObjectStore({ ...objectsRequester, origin: origin.origin, execution: origin.execution }) : undefined;
    },
    async list(listOptions) {
      const rows = await records.list(listOptions);
      return Promise.all(
        rows.map(async (row) => {
          const state = await options
            .engine()
            .get(row.engineName, listOptions.signal ? { signal: listOptions.signal } : {})
            .catch(() => undefined);
          if (!state) return { ...row, phase: 'Error' as const, message: 'this cluster\'s engine no longer has this run' };
          const { phase, message, startedAt, finishedAt } = state;
          return { ...row, phase, ...(message ? { message } : {}), ...(startedAt ? { startedAt } : {}), ...(finishedAt ? { finishedAt } : {}) };
        }),
      );
    },
    stopFor: (clusterId, stopOptions) => executions.stopFor(clusterId, stopOptions?.signal),
    async serve() {
      await executionProtocol.serve(network, (input, from, signal) => executions.answer(input, from, signal), logger);
      await runObjectsProtocol.serve(network, (input, from, signal) => objects.answer(input, from, signal), logger);
    },
    async close() {
      await objects.close();
    },
  };
}

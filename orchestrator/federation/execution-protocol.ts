import { z } from 'zod';
import { ClusterIdSchema, definePeerProtocol } from '../../discovery/index.ts';

/**
 * `/archipel/execution/1.0.0`: a cluster (the origin of a run) asks a peered cluster to run one pod of
 * the run for one of its users, under a compute reservation that user holds there. One length-prefixed
 * JSON message each way, signed by the origin's key, so the user and projects named are vouched for by
 * the origin. `start` hands over the pod template (idempotent: starting an execution again attaches to
 * it), `status` returns its phase, outputs and the log text past the offsets the origin already has,
 * `stop` ends it. The pod reads and writes the run's objects in the origin's store, over
 * `/archipel/run-objects/1.0.0`, never through the outputs of the pod.
 */
export const EXECUTION_PROTOCOL = '/archipel/execution/1.0.0';
export const EXECUTION_REQUEST_DOMAIN = 'archipel-execution-request/1';

/** Largest message either way: a pod template (a few KiB), or a status with log text. */
export const MAX_EXECUTION_MESSAGE_BYTES = 2 * 1024 * 1024;
/** Log text one status carries per container at most; the rest comes with the next. */
export const MAX_LOG_CHUNK_BYTES = 256 * 1024;
export const MAX_EXECUTION_TIMEOUT_MS = 30_000;
export const DEFAULT_EXECUTION_TIMEOUT_MS = 10_000;

/** An execution's id, chosen by the origin (a digest of its run and pod): a DNS label. */
export const ExecutionIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);
const ContainerName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63);

export const ExecutionRequestSchema = z.strictObject({
  from: ClusterIdSchema,
  to: ClusterIdSchema,
  op: z.enum(['start', 'status', 'stop']),
  execution: ExecutionIdSchema,
  /** The user of the origin the pod runs for, and the project it is billed to. */
  user: z.string().min(1).max(63),
  project: z.string().min(1).max(63),
  /** `start`: the reservation the user holds on this cluster, the origin's run, the pod template. */
  reservationId: z.string().uuid().optional(),
  run: z.string().min(1).max(128).optional(),
  template: z.record(z.string(), z.unknown()).optional(),
  /** `status`: log bytes the origin already has, by container. */
  logOffsets: z.record(ContainerName, z.number().int().nonnegative()).optional(),
  deadline: z.number().int().nonnegative(),
  signature: z.string().min(1).max(4096),
});
export type ExecutionRequest = z.infer<typeof ExecutionRequestSchema>;

export const executionProtocol = definePeerProtocol<ExecutionRequest>({
  id: EXECUTION_PROTOCOL,
  domain: EXECUTION_REQUEST_DOMAIN,
  name: 'execution request',
  schema: ExecutionRequestSchema,
  fields: (r) => [r.from, r.to, r.op, r.execution, r.user, r.project, r.reservationId ?? null, r.run ?? null, r.template ?? null, r.logOffsets ?? null, r.deadline],
  valid: (r) => r.op !== 'start' || (r.reservationId !== undefined && r.run !== undefined && r.template !== undefined),
  maxBytes: MAX_EXECUTION_MESSAGE_BYTES,
  maxTimeoutMs: MAX_EXECUTION_TIMEOUT_MS,
  defaultTimeoutMs: DEFAULT_EXECUTION_TIMEOUT_MS,
});

const NodeOutputsSchema = z.strictObject({
  parameters: z.array(z.strictObject({ name: z.string().max(256), value: z.string().max(256 * 1024) })).max(100).optional(),
  result: z.string().max(256 * 1024).optional(),
  exitCode: z.string().max(16).optional(),
});

export const ExecutionStatusSchema = z.strictObject({
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Error']),
  message: z.string().max(4000).optional(),
  outputs: NodeOutputsSchema.optional(),
  /** Log text after the offsets asked for (`offset` is where `text` starts, in bytes). */
  logs: z.array(z.strictObject({ container: ContainerName, offset: z.number().int().nonnegative(), text: z.string() })).max(20).optional(),
});
export type ExecutionStatus = z.infer<typeof ExecutionStatusSchema>;

/** The origin's store in a pod's `--store` arguments becomes this on the executing cluster. */
export const ORIGIN_STORE_SCHEME = 'archipel-origin:';

/** The store URL by which a pod run for `origin` reaches its run objects there. */
export const originStoreUrl = (origin: string, execution: string) => `${ORIGIN_STORE_SCHEME}//${origin}/${execution}`;

/** The origin and execution of an `originStoreUrl`, or undefined for any other URL. */
export function parseOriginStoreUrl(url: string): { origin: string; execution: string } | undefined {
  const match = /^archipel-origin:\/\/([1-9A-HJ-NP-Za-km-z]{1,128})\/([a-z0-9][a-z0-9-]{0,62})$/.exec(url);
  return match ? { origin: match[1]!, execution: match[2]! } : undefined;
}

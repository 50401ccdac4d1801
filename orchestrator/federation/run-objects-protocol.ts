import { z } from 'zod';
import type { ObjectInfo } from '../../core/index.ts';
import { ClusterIdSchema, definePeerProtocol } from '../../discovery/index.ts';

/**
 * `/archipel/run-objects/1.0.0`: a cluster running a step for a run's origin reads and writes the run's
 * objects in the origin's object store. One length-prefixed JSON message each way, signed by the
 * executing cluster's key and naming the execution the origin handed it, so the origin can hold each
 * request to the keys that execution may touch. Bytes travel base64 in chunks of at most `CHUNK_BYTES`:
 * `get` reads a byte range, `put-part` appends one chunk to an upload held aside on the origin and
 * `put-end` stores it under its key in one piece, so a reader never sees half an object.
 */
export const RUN_OBJECTS_PROTOCOL = '/archipel/run-objects/1.0.0';
/** The signature domain: a run-objects request's signature can pass as nothing else. */
export const RUN_OBJECTS_REQUEST_DOMAIN = 'archipel-run-objects-request/1';

/** The most object bytes one message carries either way. */
export const CHUNK_BYTES = 1024 * 1024;
/** The most objects one `list` page returns. */
export const MAX_LIST_PAGE = 1000;
/** Largest message either way: a chunk in base64 (4/3 of it), and the rest of the request or reply. */
export const MAX_RUN_OBJECTS_MESSAGE_BYTES = 1.5 * CHUNK_BYTES + 64 * 1024;
export const MAX_RUN_OBJECTS_TIMEOUT_MS = 60_000;
export const DEFAULT_RUN_OBJECTS_TIMEOUT_MS = 30_000;

/** An execution's id, as the origin chose it for `/archipel/execution/1.0.0`: a DNS label. */
const ExecutionIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);
/** Keys are checked in full (UTF-8 bytes, segments) by the stores; this bounds only the message. */
const KeySchema = z.string().min(1).max(1024);
const Offset = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** Canonical base64 (padded, no whitespace), at most a chunk once decoded (checked in `valid`). */
const Base64Schema = z
  .string()
  .max(4 * Math.ceil(CHUNK_BYTES / 3))
  .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);

export const RunObjectsOpSchema = z.enum(['head', 'get', 'list', 'put-part', 'put-end', 'delete']);
export type RunObjectsOp = z.infer<typeof RunObjectsOpSchema>;

export const RunObjectsRequestSchema = z.strictObject({
  /** The executing cluster (the signer) and the run's origin. */
  from: ClusterIdSchema,
  to: ClusterIdSchema,
  op: RunObjectsOpSchema,
  /** The execution the origin handed to the sender: it decides which keys the request may touch. */
  execution: ExecutionIdSchema,
  /** The object (`head`, `get`, `delete`, `put-part`, `put-end`). */
  key: KeySchema.optional(),
  /** `list`: the prefix (may be empty), the last key of the previous page, and the page size. */
  prefix: z.string().max(1024).optional(),
  after: KeySchema.optional(),
  limit: z.number().int().min(1).max(MAX_LIST_PAGE).optional(),
  /** `get`: the byte range. */
  offset: Offset.optional(),
  length: z.number().int().min(1).max(CHUNK_BYTES).optional(),
  /** `put-part` and `put-end`: the upload, chosen by the sender, and the part's number from 0. */
  upload: z.string().uuid().optional(),
  seq: z.number().int().nonnegative().optional(),
  data: Base64Schema.optional(),
  contentType: z.string().max(200).optional(),
  /** Milliseconds since the epoch, on the requester's clock: no answer is useful after it. */
  deadline: z.number().int().nonnegative(),
  signature: z.string().min(1).max(4096),
});
export type RunObjectsRequest = z.infer<typeof RunObjectsRequestSchema>;

/** The fields each operation needs (others it may carry are ignored, but signed all the same). */
const REQUIRED: Record<RunObjectsOp, readonly (keyof RunObjectsRequest)[]> = {
  head: ['key'],
  get: ['key', 'offset', 'length'],
  list: ['prefix', 'limit'],
  // The key comes with every part, so the origin refuses an upload it would not store before holding any of it.
  'put-part': ['key', 'upload', 'seq', 'data'],
  'put-end': ['key', 'upload'],
  delete: ['key'],
};

/** Bytes a canonical base64 string decodes to. */
export const base64Bytes = (data: string): number => (data.length / 4) * 3 - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0);

export const runObjectsProtocol = definePeerProtocol<RunObjectsRequest>({
  id: RUN_OBJECTS_PROTOCOL,
  domain: RUN_OBJECTS_REQUEST_DOMAIN,
  name: 'run-objects request',
  schema: RunObjectsRequestSchema,
  fields: (r) => [
    r.from,
    r.to,
    r.op,
    r.execution,
    r.key ?? null,
    r.prefix ?? null,
    r.after ?? null,
    r.limit ?? null,
    r.offset ?? null,
    r.length ?? null,
    r.upload ?? null,
    r.seq ?? null,
    r.data ?? null,
    r.contentType ?? null,
    r.deadline,
  ],
  valid: (r) => REQUIRED[r.op].every((field) => r[field] !== undefined) && (r.data === undefined || base64Bytes(r.data) <= CHUNK_BYTES),
  maxBytes: MAX_RUN_OBJECTS_MESSAGE_BYTES,
  maxTimeoutMs: MAX_RUN_OBJECTS_TIMEOUT_MS,
  defaultTimeoutMs: DEFAULT_RUN_OBJECTS_TIMEOUT_MS,
});

/** What a requester of this protocol needs: this cluster's id, peering, its signer and a transport. */
export type RunObjectsRequesterOptions = Parameters<typeof runObjectsProtocol.requester>[0];

export const WireObjectInfoSchema = z.strictObject({
  key: KeySchema,
  size: Offset,
  etag: z.string().min(1).max(256),
  lastModified: z.string().datetime(),
  contentType: z.string().max(200).optional(),
});
export type WireObjectInfo = z.infer<typeof WireObjectInfoSchema>;

/** `head` and `put-end`. */
export const InfoReplySchema = z.strictObject({ info: WireObjectInfoSchema });
/** `get`: the range's bytes, and whether they reach the object's end. */
export const GetReplySchema = z.strictObject({ info: WireObjectInfoSchema, data: Base64Schema, eof: z.boolean() });
/** `list`: one page; `next` (the last key of the page) when more may follow. */
export const ListReplySchema = z.strictObject({ objects: z.array(WireObjectInfoSchema).max(MAX_LIST_PAGE), next: KeySchema.optional() });
/** `put-part`: the bytes of the upload held so far. */
export const PutPartReplySchema = z.strictObject({ received: Offset });
export const DeleteReplySchema = z.strictObject({ deleted: z.literal(true) });

export type RunObjectsAnswer =
  | z.infer<typeof InfoReplySchema>
  | z.infer<typeof GetReplySchema>
  | z.infer<typeof ListReplySchema>
  | z.infer<typeof PutPartReplySchema>
  | z.infer<typeof DeleteReplySchema>;

export const toWireInfo = (info: ObjectInfo): WireObjectInfo => ({
  key: info.key,
  size: info.size,
  etag: info.etag,
  lastModified: info.lastModified.toISOString(),
  ...(info.contentType !== undefined ? { contentType: info.contentType } : {}),
});

export const fromWireInfo = (info: WireObjectInfo): ObjectInfo => ({ ...info, lastModified: new Date(info.lastModified) });

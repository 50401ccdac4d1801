import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import {
  ConflictError,
  UnavailableError,
  validateObjectKey,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type ObjectStoreOptions,
  type PutOptions,
} from '../../core/index.ts';
import type { RequestBody } from '../../discovery/index.ts';
import {
  CHUNK_BYTES,
  DeleteReplySchema,
  GetReplySchema,
  InfoReplySchema,
  ListReplySchema,
  MAX_LIST_PAGE,
  MAX_RUN_OBJECTS_TIMEOUT_MS,
  PutPartReplySchema,
  fromWireInfo,
  runObjectsProtocol,
  type RunObjectsRequest,
  type RunObjectsRequesterOptions,
} from './run-objects-protocol.ts';

export interface RemoteObjectStoreOptions extends RunObjectsRequesterOptions {
  /** The run's origin: the cluster whose store holds the objects. */
  origin: string;
  /** The execution the origin handed to this cluster; the origin allows it its run's keys only. */
  execution: string;
  /** How long reads, lists and deletes are asked again while the origin is unavailable (default 60 s). */
  retryUnavailableMs?: number;
}

export const DEFAULT_RETRY_UNAVAILABLE_MS = 60_000;

/**
 * The origin's object store, as seen by a cluster running a step of one of its runs: every operation
 * is a signed `/archipel/run-objects/1.0.0` request to the origin, which applies it to its own store
 * within what the execution is allowed. The origin's refusals arrive as errors of their kind (a missing
 * object is `NotFoundError`, a key outside the run `NotAllowedError`); an origin that cannot be reached is
 * `UnavailableError`.
 *
 * Bytes move in chunks of `CHUNK_BYTES`, one request at a time: `get` streams range after range, and
 * `put` sends the body in numbered parts that the origin holds aside until `put-end` stores them as one
 * object. A body that fails or is aborted midway leaves nothing stored (the origin sweeps the parts).
 */
export function createRemoteObjectStore(options: RemoteObjectStoreOptions): ObjectStore {
  const { origin, execution } = options;
  const retryMs = options.retryUnavailableMs ?? DEFAULT_RETRY_UNAVAILABLE_MS;
  /** `idempotent`: asked again while the origin is unavailable (a restart), for up to `retryMs`. */
  const asking = <Reply>(schema: z.ZodType<Reply>, { timeoutMs = options.timeoutMs, idempotent = false }: { timeoutMs?: number | undefined; idempotent?: boolean } = {}) => {
    const ask = runObjectsProtocol.requester({ ...options, timeoutMs }, schema);
    return async (body: RequestBody<RunObjectsRequest>, signal: AbortSignal | undefined) => {
      const giveUp = Date.now() + (idempotent ? retryMs : 0);
      for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
        signal?.throwIfAborted();
        try {
          return await ask(origin, body, signal);
        } catch (error) {
          if (!(error instanceof UnavailableError) || Date.now() + wait > giveUp) throw error;
          await sleep(wait, undefined, signal ? { signal } : {});
        }
      }
    };
  };
  const ask = {
    info: asking(InfoReplySchema, { idempotent: true }),
    get: asking(GetReplySchema, { idempotent: true }),
    list: asking(ListReplySchema, { idempotent: true }),
    part: asking(PutPartReplySchema),
    // Storing the parts of a large object takes the origin longest: give it all the time a request may have.
    end: asking(InfoReplySchema, { timeoutMs: MAX_RUN_OBJECTS_TIMEOUT_MS }),
    delete: asking(DeleteReplySchema, { idempotent: true }),
  };

  return {
    async head(key: string, { signal }: ObjectStoreOptions = {}) {
      validateObjectKey(key);
      return fromWireInfo((await ask.info({ op: 'head', execution, key }, signal)).info);
    },

    async get(key: string, { signal }: ObjectStoreOptions = {}) {
      validateObjectKey(key);
      const first = await ask.get({ op: 'get', execution, key, offset: 0, length: CHUNK_BYTES }, signal);
      const info = fromWireInfo(first.info);
      async function* body(): AsyncGenerator<Uint8Array> {
        let chunk = first;
        let offset = 0;
        for (;;) {
          signal?.throwIfAborted();
          // The origin reads one version from the first range to the last; a changed tag means it could not.
          if (chunk.info.etag !== info.etag) throw new ConflictError(`object ${JSON.stringify(key)} changed on cluster ${origin} while it was read`);
          const bytes = Buffer.from(chunk.data, 'base64');
          if (bytes.length > 0) yield bytes;
          if (chunk.eof) return;
          if (bytes.length === 0) throw new UnavailableError(`cluster ${origin} sent an empty range before the end of ${JSON.stringify(key)}`);
          offset += bytes.length;
          chunk = await ask.get({ op: 'get', execution, key, offset, length: CHUNK_BYTES }, signal);
        }
      }
      return { info, body: body() };
    },

    async put(key: string, body: ObjectBody, { signal, contentType }: PutOptions = {}) {
      validateObjectKey(key);
      signal?.throwIfAborted();
      const upload = randomUUID();
      let seq = 0;
      let sent = 0;
      const send = async (bytes: Uint8Array) => {
        const { received } = await ask.part({ op: 'put-part', execution, key, upload, seq, data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') }, signal);
        seq += 1;
        sent += bytes.length;
        if (received !== sent) throw new UnavailableError(`cluster ${origin} holds ${received} bytes of an upload of ${sent} so far`);
      };
      const pending = new Uint8Array(CHUNK_BYTES);
      let filled = 0;
      for await (const piece of body instanceof Uint8Array ? [body] : body) {
        signal?.throwIfAborted();
        // Re-chunk: pieces of any size become parts of exactly CHUNK_BYTES, but the last.
        for (let at = 0; at < piece.length; ) {
          const take = Math.min(piece.length - at, CHUNK_BYTES - filled);
          pending.set(piece.subarray(at, at + take), filled);
          filled += take;
          at += take;
          if (filled === CHUNK_BYTES) {
            await send(pending);
            filled = 0;
          }
        }
      }
      // At least one part, so that put-end always names an upload the origin holds (an empty object is one empty part).
      if (filled > 0 || seq === 0) await send(pending.subarray(0, filled));
      const end = await ask.end({ op: 'put-end', execution, key, upload, ...(contentType !== undefined ? { contentType } : {}) }, signal);
      return fromWireInfo(end.info);
    },

    async delete(key: string, { signal }: ObjectStoreOptions = {}) {
      validateObjectKey(key);
      await ask.delete({ op: 'delete', execution, key }, signal);
    },

    async *list(prefix: string, { signal }: ObjectStoreOptions = {}): AsyncGenerator<ObjectInfo> {
      validateObjectKey(prefix, { allowEmpty: true });
      let after: string | undefined;
      do {
        const page = await ask.list({ op: 'list', execution, prefix, limit: MAX_LIST_PAGE, ...(after !== undefined ? { after } : {}) }, signal);
        for (const info of page.objects) {
          signal?.throwIfAborted();
          yield fromWireInfo(info);
        }
        after = page.next;
      } while (after !== undefined);
    },
  };
}

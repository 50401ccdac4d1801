import { createReadStream } from 'node:fs';
import { appendFile, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, InvalidInputError, describeError, silentLogger, systemClock, type Clock, type Logger, type ObjectInfo, type ObjectStore } from '../../core/index.ts';
import { raceAbort } from '../../discovery/index.ts';
import { CHUNK_BYTES, runObjectsProtocol, toWireInfo, type RunObjectsAnswer, type RunObjectsRequest, type WireObjectInfo } from './run-objects-protocol.ts';

export type ObjectAccess = 'read' | 'write';

export interface RunObjectsResponderOptions {
  /** This cluster's store, which holds its runs' objects. */
  store: ObjectStore;
  /**
   * Resolves if cluster `from`, running `execution` for this cluster, may read or write `key` (for `list`,
   * read what starts with the prefix `key`); throws `NotAllowedError` (or `NotFoundError`) otherwise.
   */
  authorize(from: string, execution: string, key: string, access: ObjectAccess): Promise<void>;
  /** Where uploads in progress are held (created when needed; files named `*.part` are this responder's). */
  tempDir: string;
  clusterId(): string;
  isPeered(clusterId: string): boolean;
  /** The largest object a peer may upload (default 64 GiB). */
  maxObjectBytes?: number;
  /** Uploads one cluster may have in progress at once (default 16). */
  maxUploadsPerCluster?: number;
  logger?: Logger;
  clock?: Clock;
  maxSkewMs?: number;
}

export interface RunObjectsResponder {
  /** The reply to `input`, received from cluster `from` on an authenticated connection. */
  answer(input: unknown, from: string, signal?: AbortSignal): Promise<unknown>;
  /** Removes abandoned uploads (and parts a previous process left), and closes idle reads; runs every minute. */
  sweep(): Promise<void>;
  /** Stops the sweep, removes every upload in progress and closes every read. */
  close(): Promise<void>;
}

const PASSED_ON = new Set(['not-found', 'not-allowed', 'invalid-input', 'conflict']);
export const DEFAULT_MAX_OBJECT_BYTES = 64 * 1024 ** 3;
/** An upload without a part for this long is abandoned (its sender failed or gave up). */
export const ABANDONED_UPLOAD_MS = 10 * 60_000;
const SWEEP_INTERVAL_MS = 60_000;
/** A read kept open for its next range, at most this long and this many at once. */
const IDLE_READ_MS = 60_000;
const MAX_OPEN_READS = 64;
/** A list page stops short of its limit rather than outgrow a message (keys may be 1 KiB each). */
const LIST_PAGE_BYTES = CHUNK_BYTES;

interface Upload {
  from: string;
  key: string;
  path: string;
  nextSeq: number;
  size: number;
  lastPart: number;
  /** A part is being written or the upload stored: nothing else may touch it meanwhile. */
  busy: boolean;
}

/** An object being read range after range: one version, and no re-reading from the start for each range. */
interface OpenRead {
  info: ObjectInfo;
  chunks: AsyncIterator<Uint8Array>;
  rest: Buffer;
  position: number;
  lastUsed: number;
  stop: AbortController;
}

const compareUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * The origin's side of `/archipel/run-objects/1.0.0`: after the protocol's checks (peered, signed by the
 * connected cluster, meant for this one, fresh), asks `authorize` whether the execution may touch the key,
 * then applies the request to this cluster's store. Uploads are held as files under `tempDir`, part by part
 * in order, and stored with one `put` at `put-end`, so a refused or abandoned upload never reaches the
 * store. Refusals (not allowed, not found, invalid, out of order) go back with their kind and message.
 */
export function createRunObjectsResponder(options: RunObjectsResponderOptions): RunObjectsResponder {
  const { store, tempDir } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  const maxUploads = options.maxUploadsPerCluster ?? 16;
  const uploads = new Map<string, Upload>();
  const reads = new Map<string, OpenRead>();
  const now = () => clock.now().getTime();

  async function get(from: string, r: RunObjectsRequest, signal: AbortSignal) {
    const id = JSON.stringify([from, r.execution, r.key]);
    let read = reads.get(id);
    // Taken out while in use, so that no other request reads from it meanwhile.
    reads.delete(id);
    if (read && read.position !== r.offset) {
      stopRead(read);
      read = undefined;
    }
    try {
      if (!read) {
        const stop = new AbortController();
        const { info, body } = await store.get(r.key!, { signal: stop.signal });
        read = { info, chunks: body[Symbol.asyncIterator](), rest: Buffer.alloc(0), position: 0, lastUsed: now(), stop };
        // A range not where a kept read stands (it was closed, or the client starts afresh): skip to it.
        for (let done = false; !done && read.position < r.offset!; ) done = (await take(read, Math.min(CHUNK_BYTES, r.offset! - read.position), signal)).done;
      }
      const { bytes, done } = await take(read, r.length!, signal);
      const eof = done || read.position >= read.info.size;
      if (eof) stopRead(read);
      else keepRead(id, read);
      return { info: toWireInfo(read.info), data: bytes.toString('base64'), eof };
    } catch (error) {
      if (read) stopRead(read);
      throw error;
    }
  }

  /** The next `length` bytes of a read (fewer at its end), and whether its body is exhausted. */
  async function take(read: OpenRead, length: number, signal: AbortSignal): Promise<{ bytes: Buffer; done: boolean }> {
    const pieces = [read.rest];
    let have = read.rest.length;
    let done = false;
    while (have < length) {
      const next = await raceAbort(read.chunks.next(), signal);
      if (next.done) {
        done = true;
        break;
      }
      pieces.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength));
      have += next.value.byteLength;
    }
    const all = Buffer.concat(pieces);
    const bytes = all.subarray(0, length);
    read.rest = all.subarray(length);
    read.position += bytes.length;
    return { bytes, done: done && read.rest.length === 0 };
  }

  function keepRead(id: string, read: OpenRead) {
    read.lastUsed = now();
    reads.set(id, read);
    const [oldest] = reads;
    if (reads.size > MAX_OPEN_READS && oldest) {
      reads.delete(oldest[0]);
      stopRead(oldest[1]);
    }
  }

  function stopRead(read: OpenRead) {
    read.stop.abort();
    Promise.resolve(read.chunks.return?.()).catch(() => {});
  }

  async function list(r: RunObjectsRequest, signal: AbortSignal) {
    const objects: WireObjectInfo[] = [];
    let bytes = 0;
    let next: string | undefined;
    for await (const info of store.list(r.prefix!, { signal })) {
      // The port cannot start after a key: skip what earlier pages had.
      if (r.after !== undefined && compareUtf8(info.key, r.after) <= 0) continue;
      const wire = toWireInfo(info);
      const size = Buffer.byteLength(JSON.stringify(wire));
      if (objects.length === r.limit || bytes + size > LIST_PAGE_BYTES) {
        next = objects.at(-1)?.key;
        break;
      }
      objects.push(wire);
      bytes += size;
    }
    return next === undefined ? { objects } : { objects, next };
  }

  async function putPart(from: string, r: RunObjectsRequest) {
    const id = `${from}.${r.execution}.${r.upload}`;
    if (r.seq === 0) {
      // Refused before anything is held: the upload's key is known from its first part.
      await options.authorize(from, r.execution, r.key!, 'write');
      if (uploads.has(id)) throw new ConflictError(`upload ${r.upload} has begun already`);
      if ([...uploads.values()].filter((u) => u.from === from).length >= maxUploads) {
        throw new ConflictError(`your cluster has ${maxUploads} uploads in progress here already`);
      }
      uploads.set(id, { from, key: r.key!, path: join(tempDir, `${id}.part`), nextSeq: 0, size: 0, lastPart: now(), busy: false });
    }
    const upload = uploads.get(id);
    if (!upload) throw new ConflictError(`upload ${r.upload} is unknown here: its first part never came, or it was abandoned`);
    if (upload.key !== r.key) throw new ConflictError(`upload ${r.upload} is for another key`);
    if (upload.busy || r.seq !== upload.nextSeq) throw new ConflictError(`part ${r.seq} of upload ${r.upload} is out of order: part ${upload.nextSeq} is next`);
    const bytes = Buffer.from(r.data!, 'base64');
    if (upload.size + bytes.length > maxObjectBytes) {
      await discard(id);
      throw new InvalidInputError(`the object is larger than the ${maxObjectBytes} bytes this cluster accepts`, [{ path: 'data', message: 'too large' }]);
    }
    upload.busy = true;
    try {
      if (r.seq === 0) await mkdir(tempDir, { recursive: true });
      await appendFile(upload.path, bytes, { flag: r.seq === 0 ? 'w' : 'a' });
    } catch (error) {
      await discard(id);
      throw error;
    }
    upload.busy = false;
    upload.nextSeq += 1;
    upload.size += bytes.length;
    upload.lastPart = now();
    return { received: upload.size };
  }

  async function putEnd(from: string, r: RunObjectsRequest, signal: AbortSignal) {
    const id = `${from}.${r.execution}.${r.upload}`;
    const upload = uploads.get(id);
    if (!upload || upload.busy) throw new ConflictError(`upload ${r.upload} is unknown here, or still being written`);
    if (upload.key !== r.key) throw new ConflictError(`upload ${r.upload} is for another key`);
    // Whatever happens now, the upload is over; it stays listed until its file is gone, so the sweep leaves it.
    upload.busy = true;
    const body = createReadStream(upload.path);
    try {
      await options.authorize(from, r.execution, r.key, 'write');
      const info = await store.put(r.key, body, { contentType: r.contentType, signal });
      logger.debug('run object stored for a peer', { clusterId: from, execution: r.execution, key: r.key, size: info.size });
      return { info: toWireInfo(info) };
    } finally {
      body.destroy();
      await discard(id);
    }
  }

  async function discard(id: string) {
    const upload = uploads.get(id);
    if (!upload) return;
    await rm(upload.path, { force: true });
    uploads.delete(id);
  }

  async function perform(r: RunObjectsRequest, from: string, signal: AbortSignal): Promise<RunObjectsAnswer> {
    const allow = (key: string, access: ObjectAccess) => options.authorize(from, r.execution, key, access);
    switch (r.op) {
      case 'head':
        await allow(r.key!, 'read');
        return { info: toWireInfo(await store.head(r.key!, { signal })) };
      case 'get':
        await allow(r.key!, 'read');
        return get(from, r, signal);
      case 'list':
        await allow(r.prefix!, 'read');
        return list(r, signal);
      case 'put-part':
        return putPart(from, r);
      case 'put-end':
        return putEnd(from, r, signal);
      case 'delete':
        await allow(r.key!, 'write');
        await store.delete(r.key!, { signal });
        return { deleted: true };
    }
  }

  async function sweep() {
    const cutoff = now() - ABANDONED_UPLOAD_MS;
    for (const [id, upload] of uploads) if (!upload.busy && upload.lastPart <= cutoff) await discard(id);
    for (const [id, read] of reads) {
      if (read.lastUsed > now() - IDLE_READ_MS) continue;
      reads.delete(id);
      stopRead(read);
    }
    // Parts no upload here holds: left by a process that stopped before its sweep could remove them.
    const names = await readdir(tempDir).catch(() => [] as string[]);
    const held = new Set([...uploads.values()].map((u) => u.path));
    for (const name of names) if (name.endsWith('.part') && !held.has(join(tempDir, name))) await rm(join(tempDir, name), { force: true });
  }

  const timer = setInterval(() => {
    sweep().catch((error: unknown) => logger.warn('sweeping run-object uploads failed', { error: describeError(error) }));
  }, SWEEP_INTERVAL_MS);
  timer.unref();

  return {
    answer: runObjectsProtocol.responder({ ...options, passedOn: PASSED_ON }, perform),
    sweep,
    async close() {
      clearInterval(timer);
      for (const read of reads.values()) stopRead(read);
      reads.clear();
      await Promise.all([...uploads.keys()].map(discard));
    },
  };
}

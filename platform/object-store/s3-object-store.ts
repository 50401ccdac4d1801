import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  describeError,
  InvalidInputError,
  isArchipelError,
  NotFoundError,
  PayloadTooLargeError,
  UnavailableError,
  validateObjectKey,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type ObjectStoreOptions,
  type PutOptions,
} from '../../core/index.ts';
import { DEFAULT_CONTENT_TYPE } from './conventions.ts';

export interface S3ObjectStoreOptions {
  bucket: string;
  /** Keys are stored as `<prefix>/<key>`; listings strip it. */
  prefix?: string;
  /** For S3-compatible services (MinIO, Ceph, s3rver); AWS when unset. */
  endpoint?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** Both or neither; when neither, the SDK's default credential chain applies. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `bucket` in the path rather than the host name; most S3-compatible services need it. */
  forcePathStyle?: boolean;
  /**
   * Streamed bodies are sent in parts of this many bytes (default 8 MiB, at least 5 MiB, S3's
   * minimum), so one upload buffers at most one part and an object may hold 10,000 parts.
   */
  partSize?: number;
  /** Keys asked for per listing request: 1 to 1,000 (the default, and S3's maximum). */
  listPageSize?: number;
}

export type S3ObjectStore = ObjectStore & {
  /** Releases the HTTP connections. */
  close(): void;
};

const MIB = 1024 * 1024;
const MIN_PART_SIZE = 5 * MIB;
const MAX_PARTS = 10_000;

/**
 * The object store on an S3 bucket. A `Uint8Array` body is sent in one PUT; a streamed body is cut into
 * parts: one part is sent with a plain PUT, more go through a multipart upload, which S3 makes visible
 * only on completion (and which is aborted on failure). Parts are buffered rather than streamed
 * because S3 needs each part's length up front.
 */
export function createS3ObjectStore(options: S3ObjectStoreOptions): S3ObjectStore {
  const { bucket } = options;
  const partSize = options.partSize ?? 8 * MIB;
  const issues: { path: string; message: string }[] = [];
  if (!bucket) issues.push({ path: 'bucket', message: 'required' });
  if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE) issues.push({ path: 'partSize', message: `must be an integer of at least ${MIN_PART_SIZE}` });
  const pageSize = options.listPageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) issues.push({ path: 'listPageSize', message: 'must be an integer from 1 to 1000' });
  if (!options.accessKeyId !== !options.secretAccessKey) issues.push({ path: 'secretAccessKey', message: 'give accessKeyId and secretAccessKey together' });
  const prefix = options.prefix?.replace(/\/+$/, '');
  if (prefix) {
    try {
      validateObjectKey(prefix);
    } catch (error) {
      issues.push({ path: 'prefix', message: (error as InvalidInputError).issues[0]?.message ?? 'invalid' });
    }
  }
  if (issues.length) throw new InvalidInputError('invalid S3 object store options', issues);
  const base = prefix ? `${prefix}/` : '';

  const client = new S3Client({
    endpoint: options.endpoint,
    region: options.region ?? 'us-east-1',
    forcePathStyle: options.forcePathStyle,
    credentials:
      options.accessKeyId && options.secretAccessKey
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined,
  });

  /** Runs one S3 call, turning its failure into the error taxonomy. */
  async function call<T>(key: string, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw translate(error, bucket, key, signal);
    }
  }

  async function putOne(key: string, body: Uint8Array, contentType: string, signal?: AbortSignal): Promise<string | undefined> {
    const output = await call(key, signal, () =>
      client.send(new PutObjectCommand({ Bucket: bucket, Key: base + key, Body: body, ContentType: contentType }), { abortSignal: signal }),
    );
    return output.ETag;
  }

  async function putParts(
    key: string,
    first: Uint8Array,
    rest: AsyncIterator<Uint8Array>,
    contentType: string,
    signal?: AbortSignal,
  ): Promise<{ etag: string | undefined; size: number }> {
    const Key = base + key;
    const { UploadId } = await call(key, signal, () =>
      client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key, ContentType: contentType }), { abortSignal: signal }),
    );
    try {
      const parts: { PartNumber: number; ETag: string | undefined }[] = [];
      let size = 0;
      let part = first;
      let next = await rest.next();
      for (let PartNumber = 1; ; PartNumber++) {
        if (PartNumber > MAX_PARTS) {
          throw new PayloadTooLargeError(`object ${JSON.stringify(key)} exceeds ${MAX_PARTS} parts of ${partSize} bytes`);
        }
        const { ETag } = await call(key, signal, () =>
          client.send(new UploadPartCommand({ Bucket: bucket, Key, UploadId, PartNumber, Body: part }), { abortSignal: signal }),
        );
        parts.push({ PartNumber, ETag });
        size += part.byteLength;
        if (next.done) break;
        part = next.value;
        next = await rest.next();
      }
      const { ETag } = await call(key, signal, () =>
        client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key, UploadId, MultipartUpload: { Parts: parts } }), {
          abortSignal: signal,
        }),
      );
      return { etag: ETag, size };
    } catch (error) {
      // Not under the caller's signal, which may be what aborted us. Best effort: a bucket lifecycle
      // rule for incomplete multipart uploads is the backstop.
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId })).catch(() => undefined);
      throw error;
    }
  }

  return {
    async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<ObjectInfo> {
      validateObjectKey(key);
      const { signal } = options;
      signal?.throwIfAborted();
      const contentType = options.contentType ?? DEFAULT_CONTENT_TYPE;
      const info = (etag: string | undefined, size: number): ObjectInfo => ({
        key,
        size,
        etag: unquote(etag),
        // S3 does not return it on PUT; HEAD and listings give the server's (second-precision) time.
        lastModified: new Date(),
        contentType,
      });
      if (body instanceof Uint8Array) return info(await putOne(key, body, contentType, signal), body.byteLength);
      const parts = splitParts(body, partSize, signal)[Symbol.asyncIterator]();
      const first = await parts.next();
      const second = await parts.next();
      const firstPart = first.done ? new Uint8Array(0) : first.value;
      if (second.done) return info(await putOne(key, firstPart, contentType, signal), firstPart.byteLength);
      const { etag, size } = await putParts(key, firstPart, prepend(second.value, parts), contentType, signal);
      return info(etag, size);
    },

    async get(key: string, options: ObjectStoreOptions = {}) {
      validateObjectKey(key);
      const { signal } = options;
      signal?.throwIfAborted();
      const output = await call(key, signal, () =>
        client.send(new GetObjectCommand({ Bucket: bucket, Key: base + key }), { abortSignal: signal }),
      );
      const info: ObjectInfo = {
        key,
        size: output.ContentLength ?? 0,
        etag: unquote(output.ETag),
        lastModified: output.LastModified ?? new Date(0),
        contentType: output.ContentType,
      };
      const stream = output.Body as AsyncIterable<Uint8Array> | undefined;
      async function* body(): AsyncGenerator<Uint8Array> {
        if (!stream) return;
        try {
          for await (const chunk of stream) {
            signal?.throwIfAborted();
            yield chunk;
          }
        } catch (error) {
          throw translate(error, bucket, key, signal);
        }
      }
      return { info, body: body() };
    },

    async head(key: string, options: ObjectStoreOptions = {}) {
      validateObjectKey(key);
      const { signal } = options;
      signal?.throwIfAborted();
      const output = await call(key, signal, () =>
        client.send(new HeadObjectCommand({ Bucket: bucket, Key: base + key }), { abortSignal: signal }),
      );
      return {
        key,
        size: output.ContentLength ?? 0,
        etag: unquote(output.ETag),
        lastModified: output.LastModified ?? new Date(0),
        contentType: output.ContentType,
      };
    },

    async delete(key: string, options: ObjectStoreOptions = {}) {
      validateObjectKey(key);
      const { signal } = options;
      signal?.throwIfAborted();
      // S3 answers 204 for an absent key too.
      await call(key, signal, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: base + key }), { abortSignal: signal }));
    },

    async *list(listPrefix: string, options: ObjectStoreOptions = {}): AsyncGenerator<ObjectInfo> {
      validateObjectKey(listPrefix, { allowEmpty: true });
      const { signal } = options;
      let ContinuationToken: string | undefined;
      do {
        signal?.throwIfAborted();
        const page = await call(listPrefix, signal, () =>
          client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: base + listPrefix, ContinuationToken, MaxKeys: pageSize }), { abortSignal: signal }),
        );
        for (const object of page.Contents ?? []) {
          if (!object.Key?.startsWith(base)) continue;
          yield {
            key: object.Key.slice(base.length),
            size: object.Size ?? 0,
            etag: unquote(object.ETag),
            lastModified: object.LastModified ?? new Date(0),
          };
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    },

    close() {
      client.destroy();
    },
  };
}

/** Cuts a stream into `partSize` pieces; yields at least one (possibly empty) piece. */
async function* splitParts(body: AsyncIterable<Uint8Array>, partSize: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let yielded = false;
  for await (const chunk of body) {
    signal?.throwIfAborted();
    pending.push(chunk);
    pendingBytes += chunk.byteLength;
    while (pendingBytes >= partSize) {
      const joined = Buffer.concat(pending, pendingBytes);
      yield joined.subarray(0, partSize);
      yielded = true;
      pending = [joined.subarray(partSize)];
      pendingBytes -= partSize;
    }
  }
  signal?.throwIfAborted();
  if (pendingBytes > 0 || !yielded) yield Buffer.concat(pending, pendingBytes);
}

async function* prepend(head: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

function translate(error: unknown, bucket: string, key: string, signal?: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason;
  if (isArchipelError(error)) return error;
  if (error instanceof S3ServiceException) {
    if (error.name === 'NoSuchBucket') return new NotFoundError(`S3 bucket ${JSON.stringify(bucket)} does not exist`, { cause: error });
    if (error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404) {
      // A HEAD on a missing bucket also lands here: its 404 has no body to tell the two apart.
      return new NotFoundError(`object ${JSON.stringify(key)} not found in S3 bucket ${JSON.stringify(bucket)}`, { cause: error });
    }
  }
  // Network failures, throttling and 5xx, but also refused credentials: the store cannot serve.
  const detail = error instanceof S3ServiceException ? `${error.name} (HTTP ${error.$metadata.httpStatusCode ?? '?'})` : describeError(error);
  return new UnavailableError(`S3 request for ${JSON.stringify(key)} in bucket ${JSON.stringify(bucket)} failed: ${detail}`, { cause: error });
}

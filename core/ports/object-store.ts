import { InvalidInputError } from '../errors.ts';

/**
 * The object-store port: flat keys (`runs/42/out/result.txt`) mapping to immutable byte blobs.
 * Embedded adapter: a directory on disk. Real adapter: an S3 bucket (optionally under a prefix).
 */
export interface ObjectInfo {
  key: string;
  size: number;
  /** Hex SHA-256 of the content when the adapter knows it, else an opaque entity tag. */
  etag: string;
  lastModified: Date;
  contentType?: string;
}

export interface ObjectStoreOptions {
  signal?: AbortSignal;
}

export interface PutOptions extends ObjectStoreOptions {
  contentType?: string;
}

export type ObjectBody = Uint8Array | AsyncIterable<Uint8Array>;

export interface ObjectStore {
  /** Stores `body` under `key`, replacing any previous object atomically (readers never see half). */
  put(key: string, body: ObjectBody, options?: PutOptions): Promise<ObjectInfo>;
  /** Streams the object's bytes; `NotFoundError` when absent. */
  get(key: string, options?: ObjectStoreOptions): Promise<{ info: ObjectInfo; body: AsyncIterable<Uint8Array> }>;
  /** Metadata only; `NotFoundError` when absent. */
  head(key: string, options?: ObjectStoreOptions): Promise<ObjectInfo>;
  /** Removes the object; removing an absent key is not an error. */
  delete(key: string, options?: ObjectStoreOptions): Promise<void>;
  /** Every object whose key starts with `prefix`, in lexicographic key order. */
  list(prefix: string, options?: ObjectStoreOptions): AsyncIterable<ObjectInfo>;
}

const MAX_KEY_BYTES = 1024;

/**
 * The key rules every adapter enforces, so that a key valid on one is valid on all: non-empty, at most
 * 1024 UTF-8 bytes, `/`-separated segments that are neither empty, `.` nor `..`, no control characters
 * and no backslashes.
 */
export function validateObjectKey(key: string, { allowEmpty = false } = {}): string {
  const problem = objectKeyProblem(key, allowEmpty);
  if (problem) throw new InvalidInputError(`invalid object key ${JSON.stringify(key)}: ${problem}`, [{ path: 'key', message: problem }]);
  return key;
}

function objectKeyProblem(key: string, allowEmpty: boolean): string | undefined {
  if (typeof key !== 'string') return 'must be a string';
  if (key === '') return allowEmpty ? undefined : 'must not be empty';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `must be at most ${MAX_KEY_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(key)) return 'must not contain control characters or backslashes';
  const segments = key.split('/');
  // A prefix may end with '/', so its last segment may be empty.
  const checked = allowEmpty && key.endsWith('/') ? segments.slice(0, -1) : segments;
  for (const segment of checked) {
    if (segment === '') return 'must not have empty segments (leading, trailing or doubled "/")';
    if (segment === '.' || segment === '..') return 'must not have "." or ".." segments';
  }
  return undefined;
}

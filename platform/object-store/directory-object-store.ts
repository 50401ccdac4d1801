import { createHash, randomUUID } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  ConflictError,
  InvalidInputError,
  isArchipelError,
  NotFoundError,
  UnavailableError,
  validateObjectKey,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type ObjectStoreOptions,
  type PutOptions,
} from '../../core/index.ts';
import { compareUtf8, DEFAULT_CONTENT_TYPE } from './conventions.ts';

export interface DirectoryObjectStoreOptions {
  /** Directory that holds everything; created on first write. */
  root: string;
}

/*
 * Layout: `<root>/objects/<key>` holds each object, `<root>/tmp/` the uploads in progress (same file
 * system, so the final rename is atomic, and no key can ever collide with a temporary name).
 * Each object file is `content | metadata JSON | u32 JSON length | MAGIC`: a trailer rather than a
 * sidecar, so that content and metadata are replaced by one rename and a reader holding the file open
 * sees a consistent pair. A trailer (not a header) because the SHA-256 is known only after streaming.
 */
const MAGIC = Buffer.from('ARCHOBJ1');
const FOOTER_BYTES = 4 + MAGIC.length;
const MAX_TRAILER_BYTES = 64 * 1024;

interface Trailer {
  sha256: string;
  size: number;
  contentType: string;
}

/**
 * The embedded object store: a directory on disk. Unlike S3, a key cannot be both an object and a
 * prefix of another (`a` and `a/b`): the second put fails with `ConflictError`.
 */
export function createDirectoryObjectStore(options: DirectoryObjectStoreOptions): ObjectStore {
  if (!options.root) throw new InvalidInputError('the object store root directory is required', [{ path: 'root', message: 'required' }]);
  const objectsDir = join(options.root, 'objects');
  const tmpDir = join(options.root, 'tmp');
  const pathOf = (key: string) => join(objectsDir, ...validateObjectKey(key).split('/'));

  async function openObject(key: string): Promise<{ handle: FileHandle; info: ObjectInfo }> {
    const path = pathOf(key);
    let handle: FileHandle;
    try {
      // Like list, which skips symbolic links, do not follow one here.
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      throw translate(error, key);
    }
    try {
      return { handle, info: await readInfo(handle, key) };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async function commit(tmp: string, target: string, key: string): Promise<void> {
    // A concurrent delete may prune the parent directory between mkdir and rename: try again.
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(dirname(target), { recursive: true });
        await rename(tmp, target);
        return;
      } catch (error) {
        if (code(error) === 'ENOENT' && attempt < 5) continue;
        // ENOTDIR: a parent segment is an object; EEXIST/EISDIR/ENOTEMPTY: the key is a prefix.
        if (['ENOTDIR', 'EEXIST', 'EISDIR', 'ENOTEMPTY'].includes(code(error) ?? '')) {
          throw new ConflictError(`object key ${JSON.stringify(key)} clashes with an existing key: on disk, a key cannot also be a prefix of another`, { cause: error });
        }
        throw translate(error, key);
      }
    }
  }

  return {
    async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<ObjectInfo> {
      const target = pathOf(key);
      const { signal } = options;
      signal?.throwIfAborted();
      const contentType = options.contentType ?? DEFAULT_CONTENT_TYPE;
      const tmp = join(tmpDir, randomUUID());
      const hash = createHash('sha256');
      let size = 0;
      let sha256 = '';
      let sourceError: unknown;
      let out: ReturnType<typeof createWriteStream> | undefined;
      try {
        await mkdir(tmpDir, { recursive: true });
        await pipeline(
          (async function* () {
            try {
              for await (const chunk of body instanceof Uint8Array ? [body] : body) {
                hash.update(chunk);
                size += chunk.byteLength;
                yield chunk;
              }
            } catch (error) {
              sourceError = error;
              throw error;
            }
            sha256 = hash.digest('hex');
            const trailer: Trailer = { sha256, size, contentType };
            const json = Buffer.from(JSON.stringify(trailer));
            const length = Buffer.alloc(4);
            length.writeUInt32BE(json.length);
            yield Buffer.concat([json, length, MAGIC]);
          })(),
          // flush: fsync before close, so a crash cannot leave a renamed but empty file.
          (out = createWriteStream(tmp, { flags: 'wx', flush: true })),
          { signal },
        );
        const { mtime } = await stat(tmp);
        signal?.throwIfAborted();
        await commit(tmp, target, key);
        return { key, size, etag: sha256, lastModified: mtime, contentType };
      } catch (error) {
        // A failed pipeline destroys the stream, but its file may still be opening: removing the
        // file before the stream has closed could leave it behind.
        const stream = out;
        if (stream && !stream.closed) await new Promise<void>((resolve) => stream.once('close', () => resolve()));
        await rm(tmp, { force: true });
        throw signal?.aborted ? signal.reason : error === sourceError ? error : unavailable(error);
      }
    },

    async get(key: string, options: ObjectStoreOptions = {}) {
      options.signal?.throwIfAborted();
      const { handle, info } = await openObject(key);
      if (info.size === 0) {
        await handle.close();
        return { info, body: (async function* () {})() };
      }
      // Reading from the handle already open keeps body and info from the same version.
      const body = handle.createReadStream({ start: 0, end: info.size - 1, signal: options.signal });
      return { info, body };
    },

    async head(key: string, options: ObjectStoreOptions = {}) {
      options.signal?.throwIfAborted();
      const { handle, info } = await openObject(key);
      await handle.close();
      return info;
    },

    async delete(key: string, options: ObjectStoreOptions = {}) {
      const target = pathOf(key);
      options.signal?.throwIfAborted();
      try {
        await unlink(target);
      } catch (error) {
        if (code(error) === 'ENOENT' || code(error) === 'ENOTDIR') return;
        // A directory is a prefix of other keys, not an object: nothing to delete (macOS says EPERM).
        if ((code(error) === 'EISDIR' || code(error) === 'EPERM') && (await stat(target).catch(() => undefined))?.isDirectory()) return;
        throw unavailable(error);
      }
      // Prune emptied directories, so that the key may later become an object again (`a/b` → `a`).
      for (let dir = dirname(target); dir !== objectsDir; dir = dirname(dir)) {
        try {
          await rmdir(dir);
        } catch {
          break;
        }
      }
    },

    async *list(prefix: string, options: ObjectStoreOptions = {}): AsyncGenerator<ObjectInfo> {
      validateObjectKey(prefix, { allowEmpty: true });
      const { signal } = options;
      // Start at the deepest directory the prefix names whole.
      const start = prefix.slice(0, prefix.lastIndexOf('/') + 1);
      yield* walk(start);

      async function* walk(dirKey: string): AsyncGenerator<ObjectInfo> {
        signal?.throwIfAborted();
        let entries;
        try {
          entries = await readdir(join(objectsDir, dirKey), { withFileTypes: true });
        } catch (error) {
          if (code(error) === 'ENOENT' || code(error) === 'ENOTDIR') return;
          throw unavailable(error);
        }
        // A directory sorts as `name/`: then a depth-first walk yields keys in byte order
        // (`a-c` < `a/b` < `a/c.txt` < `a/c/d`). Symbolic links are not followed.
        const children = entries
          .filter((entry) => entry.isFile() || entry.isDirectory())
          .map((entry) => ({ key: dirKey + entry.name + (entry.isDirectory() ? '/' : ''), isDirectory: entry.isDirectory() }))
          .sort((a, b) => compareUtf8(a.key, b.key));
        for (const child of children) {
          if (child.isDirectory) {
            if (child.key.startsWith(prefix) || prefix.startsWith(child.key)) yield* walk(child.key);
          } else if (child.key.startsWith(prefix)) {
            signal?.throwIfAborted();
            const info = await headIfPresent(child.key);
            // contentType is left out, as S3 listings do not carry it: callers must not come to rely on it.
            if (info) yield { key: info.key, size: info.size, etag: info.etag, lastModified: info.lastModified };
          }
        }
      }

      async function headIfPresent(key: string): Promise<ObjectInfo | undefined> {
        try {
          const { handle, info } = await openObject(key);
          await handle.close();
          return info;
        } catch (error) {
          if (error instanceof NotFoundError) return undefined; // deleted meanwhile, or not an object file
          throw error;
        }
      }
    },
  };
}

async function readInfo(handle: FileHandle, key: string): Promise<ObjectInfo> {
  const notAnObject = () => new NotFoundError(`object ${JSON.stringify(key)} not found`);
  const stats = await handle.stat();
  if (!stats.isFile() || stats.size < FOOTER_BYTES) throw notAnObject();
  const footer = Buffer.alloc(FOOTER_BYTES);
  await handle.read(footer, 0, FOOTER_BYTES, stats.size - FOOTER_BYTES);
  const length = footer.readUInt32BE(0);
  if (!footer.subarray(4).equals(MAGIC) || length > MAX_TRAILER_BYTES || length > stats.size - FOOTER_BYTES) throw notAnObject();
  const json = Buffer.alloc(length);
  await handle.read(json, 0, length, stats.size - FOOTER_BYTES - length);
  let trailer: Trailer | null;
  try {
    trailer = JSON.parse(json.toString('utf8')) as Trailer | null;
  } catch {
    throw notAnObject();
  }
  if (typeof trailer?.sha256 !== 'string' || trailer.size !== stats.size - FOOTER_BYTES - length) throw notAnObject();
  return { key, size: trailer.size, etag: trailer.sha256, lastModified: stats.mtime, contentType: trailer.contentType };
}

function translate(error: unknown, key: string): unknown {
  switch (code(error)) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'EISDIR':
    case 'ELOOP':
      return new NotFoundError(`object ${JSON.stringify(key)} not found`, { cause: error });
    case 'ENAMETOOLONG':
      return new InvalidInputError(`object key ${JSON.stringify(key)} has a segment too long for the file system`, [{ path: 'key', message: 'segment too long' }], { cause: error });
    default:
      return unavailable(error);
  }
}

/** A failing file system (EACCES, ENOSPC, EIO...) makes the store unavailable; other errors pass. */
function unavailable(error: unknown): unknown {
  if (isArchipelError(error) || !(error instanceof Error) || !('syscall' in error)) return error;
  return new UnavailableError(`object store file system error: ${error.message}`, { cause: error });
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

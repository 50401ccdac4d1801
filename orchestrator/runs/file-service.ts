import { createHash, randomUUID } from 'node:crypto';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  PayloadTooLargeError,
  systemClock,
  type Clock,
  type ObjectStore,
  type Principal,
  type SqlDatabase,
} from '../../core/index.ts';

/** A file a user uploaded for use as a run input. */
export interface UploadedFile {
  id: string;
  name: string;
  size: number;
  sha256: string;
  /** The project whose members may use it too (else only its owner). */
  project: string | null;
  owner: string;
  createdAt: Date;
  /** What a job names it by: `{ class: File, location: "archipel:files/<id>" }`. */
  location: string;
  /** Its key in the node's object store. */
  objectKey: string;
}

/** Who is asking: the user and the projects they are a member of. */
export interface RunCaller {
  principal: Principal;
  projects: readonly string[];
}

export interface FileService {
  upload(caller: RunCaller, file: { name: string; project?: string; body: AsyncIterable<Uint8Array> }, options?: { signal?: AbortSignal }): Promise<UploadedFile>;
  get(caller: RunCaller, id: string, options?: { signal?: AbortSignal }): Promise<UploadedFile>;
  list(caller: RunCaller, options?: { signal?: AbortSignal }): Promise<UploadedFile[]>;
  /** The file's bytes, from `start` to `end` (inclusive) when given. */
  open(caller: RunCaller, id: string, range?: { start: number; end: number }, options?: { signal?: AbortSignal }): Promise<{ file: UploadedFile; body: AsyncIterable<Uint8Array> }>;
  delete(caller: RunCaller, id: string, options?: { signal?: AbortSignal }): Promise<void>;
}

export interface FileServiceOptions {
  db: SqlDatabase;
  store: ObjectStore;
  /** Largest upload accepted, in bytes. */
  maxBytes: number;
  clock?: Clock;
}

export const FILE_LOCATION_PREFIX = 'archipel:files/';
const ID = /^[0-9a-f]{32}$/;

interface FileRow {
  id: string;
  name: string;
  size: string | number;
  sha256: string;
  project: string | null;
  owner_name: string;
  owner_id: string;
  object_key: string;
  created_at: Date | string;
}

const toFile = (r: FileRow): UploadedFile => ({
  id: r.id,
  name: r.name,
  size: Number(r.size),
  sha256: r.sha256,
  project: r.project,
  owner: r.owner_name,
  createdAt: new Date(r.created_at),
  location: `${FILE_LOCATION_PREFIX}${r.id}`,
  objectKey: r.object_key,
});

/** A file name as uploads take it: one path segment of printable characters. */
export function checkFileName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (!name || name.length > 255 || name === '.' || name === '..' || /[/\\\u0000-\u001f\u007f]/.test(name)) {
    throw new InvalidInputError(`invalid file name ${JSON.stringify(name)}: 1 to 255 characters, no "/", "\\" or control characters, not "." or ".."`, [{ path: 'name', message: 'invalid file name' }]);
  }
  return name;
}

/** The id a job location names, or undefined when it is not an uploaded file's location. */
export function uploadedFileId(location: unknown): string | undefined {
  return typeof location === 'string' && location.startsWith(FILE_LOCATION_PREFIX) ? location.slice(FILE_LOCATION_PREFIX.length) : undefined;
}

/** Counts and hashes bytes as they pass, refusing more than `max`. */
async function* measured(body: AsyncIterable<Uint8Array>, max: number, sink: { size: number; hash: ReturnType<typeof createHash> }) {
  for await (const chunk of body) {
    sink.size += chunk.length;
    if (sink.size > max) throw new PayloadTooLargeError(`the file is larger than the limit of ${max} bytes`, { details: { limitBytes: max } });
    sink.hash.update(chunk);
    yield chunk;
  }
}

async function* slice(body: AsyncIterable<Uint8Array>, start: number, end: number) {
  let offset = 0;
  for await (const chunk of body) {
    const from = Math.max(start - offset, 0);
    const to = Math.min(end + 1 - offset, chunk.length);
    if (to > from) yield chunk.subarray(from, to);
    offset += chunk.length;
    if (offset > end) return;
  }
}

/**
 * Files users upload as run inputs: streamed into the node's object store (`files/<id>/<name>`) with
 * their size and SHA-256, usable by their owner and, when uploaded for a project, by its members.
 */
export function createFileService(options: FileServiceOptions): FileService {
  const { db, store } = options;
  const clock = options.clock ?? systemClock;
  const SELECT = `SELECT f.id, f.name, f.size, f.sha256, f.project, f.owner_id, u.name AS owner_name, f.object_key, f.created_at
                  FROM uploaded_files f JOIN users u ON u.id = f.owner_id`;

  const find = async (caller: RunCaller, id: string, signal?: AbortSignal): Promise<UploadedFile> => {
    if (ID.test(id)) {
      const { rows } = await db.query<FileRow>(`${SELECT} WHERE f.id = $1`, [id], { signal });
      const row = rows[0];
      if (row && (caller.principal.isAdmin || row.owner_id === caller.principal.userId || (row.project !== null && caller.projects.includes(row.project)))) return toFile(row);
    }
    throw new NotFoundError(`no file "${id}"`);
  };

  return {
    async upload(caller, file, uploadOptions = {}) {
      const name = checkFileName(file.name);
      if (file.project !== undefined && !caller.principal.isAdmin && !caller.projects.includes(file.project)) throw new NotFoundError(`project "${file.project}" not found`);
      const id = randomUUID().replaceAll('-', '');
      const objectKey = `files/${id}/${name}`;
      const sink = { size: 0, hash: createHash('sha256') };
      try {
        await store.put(objectKey, measured(file.body, options.maxBytes, sink), { signal: uploadOptions.signal });
        const { rows } = await db.query<{ id: string }>(
          `INSERT INTO uploaded_files (id, owner_id, project, name, size, sha256, object_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
          [id, caller.principal.userId, file.project ?? null, name, sink.size, sink.hash.digest('hex'), objectKey, clock.now()],
          { signal: uploadOptions.signal },
        );
        return find(caller, rows[0]!.id);
      } catch (error) {
        await store.delete(objectKey).catch(() => {});
        throw error;
      }
    },

    get: (caller, id, o = {}) => find(caller, id, o.signal),

    async list(caller, o = {}) {
      const { rows } = await db.query<FileRow>(`${SELECT} WHERE f.owner_id = $1 ORDER BY f.created_at DESC, f.id`, [caller.principal.userId], { signal: o.signal });
      return rows.map(toFile);
    },

    async open(caller, id, range, o = {}) {
      const file = await find(caller, id, o.signal);
      const { body } = await store.get(file.objectKey, { signal: o.signal });
      return { file, body: range ? slice(body, range.start, range.end) : body };
    },

    async delete(caller, id, o = {}) {
      const file = await find(caller, id, o.signal);
      // A run that has not ended still reads it (a step not run yet, or run again after a restart).
      const { rows } = await db.query<{ id: string }>(
        `WITH reading AS (SELECT r.id FROM run_files f JOIN runs r ON r.id = f.run_id WHERE f.file_id = $1 AND r.phase IN ('Pending', 'Running') LIMIT 1),
              gone AS (DELETE FROM uploaded_files WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM reading) RETURNING id)
         SELECT id FROM reading`,
        [file.id],
        { signal: o.signal },
      );
      if (rows[0]) throw new ConflictError(`file "${file.id}" is an input of run ${rows[0].id}, which has not ended: delete the file once the run has ended`, { details: { run: rows[0].id } });
      await store.delete(file.objectKey, { signal: o.signal });
    },
  };
}

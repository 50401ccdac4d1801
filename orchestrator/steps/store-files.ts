import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, realpathSync, renameSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ObjectStore } from '../../core/index.ts';
import { isFsObject, type FsObject } from '../cwl/runtime/file-objects.ts';

/**
 * Files and directories travel between the steps of a run through its object store: a step publishes
 * the files it produced (each under a key of its own scope) and the File and Directory objects it
 * writes name them by `archipel-object:///<key>`; a step that reads them first materializes them into a
 * local mirror of the store, where the file at `<mirror>/<key>` is the object `<key>`. A directory is
 * the objects under its key, plus a marker for each empty folder.
 */
export const OBJECT_LOCATION = 'archipel-object:///';
const EMPTY_DIR_MARKER = '.archipel-empty-dir';
// Downloaded files get this modification time: one that differs later was changed in place.
const PRISTINE_MTIME = new Date('2000-01-01T00:00:00Z');

export const objectLocation = (key: string) => `${OBJECT_LOCATION}${key}`;
export const objectKeyOf = (location: unknown) =>
  typeof location === 'string' && location.startsWith(OBJECT_LOCATION) ? location.slice(OBJECT_LOCATION.length) : undefined;

export interface StoreMirror {
  /** The local directory holding the materialized objects. */
  readonly dir: string;
  /** Downloads every object a value names (once) and points its File and Directory objects at the copies. */
  materialize<T>(value: T, signal?: AbortSignal): Promise<T>;
  /**
   * Uploads the local files and directories a value names under `prefix` and points its objects at the
   * keys; files of the mirror are named by their keys without uploading them again. Literal files
   * (`contents` without a location) stay as they are.
   */
  publish<T>(value: T, prefix: string, signal?: AbortSignal): Promise<T>;
  /**
   * Uploads the mirror's files that were changed or added since they were materialized, under their
   * own keys: how an in-place update (InplaceUpdateRequirement) reaches the steps that read the file later.
   */
  pushChanges(signal?: AbortSignal): Promise<string[]>;
}

/** The path-derived fields a location change invalidates (they are recomputed where the file is used). */
const PATH_FIELDS = ['path', 'dirname'] as const;

function localPath(obj: FsObject): string | undefined {
  if (typeof obj.path === 'string') return obj.path;
  if (typeof obj.location === 'string' && obj.location.startsWith('file://')) return fileURLToPath(obj.location);
  return undefined;
}

export function createStoreMirror(store: ObjectStore, dir: string): StoreMirror {
  mkdirSync(dir, { recursive: true });
  const realDir = realpathSync(dir);

  async function download(key: string, signal?: AbortSignal) {
    const target = path.join(dir, key);
    if (existsSync(target)) return;
    mkdirSync(path.dirname(target), { recursive: true });
    const { body } = await store.get(key, { signal });
    const partial = `${target}.partial-${process.pid}`;
    await pipeline(body, createWriteStream(partial), { signal });
    utimesSync(partial, PRISTINE_MTIME, PRISTINE_MTIME);
    renameSync(partial, target);
  }

  async function downloadTree(key: string, signal?: AbortSignal) {
    const root = path.join(dir, key);
    mkdirSync(root, { recursive: true });
    for await (const info of store.list(`${key}/`, { signal })) {
      if (path.basename(info.key) === EMPTY_DIR_MARKER) mkdirSync(path.join(dir, path.dirname(info.key)), { recursive: true });
      else await download(info.key, signal);
    }
  }

  async function materializeValue(value: unknown, signal?: AbortSignal): Promise<unknown> {
    if (Array.isArray(value)) {
      const out = [];
      for (const v of value) out.push(await materializeValue(v, signal));
      return out;
    }
    if (isFsObject(value)) {
      const out: FsObject = { ...value };
      const key = objectKeyOf(value.location);
      if (key !== undefined) {
        if (value.class === 'File') await download(key, signal);
        else await downloadTree(key, signal);
        const local = path.join(dir, key);
        out.location = pathToFileURL(local).href;
        out.path = local;
        out.dirname = path.dirname(local);
      }
      if (Array.isArray(value.secondaryFiles)) out.secondaryFiles = await materializeValue(value.secondaryFiles, signal);
      // A stored directory's listing is what the store holds now (a step may have added to it in
      // place): it is listed again from the copy, as the reading process's loadListing asks.
      if (key !== undefined && value.class === 'Directory') delete out.listing;
      else if (Array.isArray(value.listing)) out.listing = await materializeValue(value.listing, signal);
      return out;
    }
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = await materializeValue(v, signal);
      return out;
    }
    return value;
  }

  async function upload(file: string, key: string, signal?: AbortSignal) {
    await store.put(key, createReadStream(file), { signal });
  }

  async function uploadTree(folder: string, key: string, signal?: AbortSignal) {
    const entries = readdirSync(folder, { withFileTypes: true });
    if (!entries.length) await store.put(`${key}/${EMPTY_DIR_MARKER}`, new Uint8Array(), { signal });
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      // Links are followed: the store holds what a link points to.
      if (statSync(full).isDirectory()) await uploadTree(full, `${key}/${entry.name}`, signal);
      else await upload(full, `${key}/${entry.name}`, signal);
    }
  }

  async function pushChanges(signal?: AbortSignal): Promise<string[]> {
    const pushed: string[] = [];
    const walk = async (folder: string) => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile() && !entry.name.includes('.partial-') && statSync(full).mtimeMs !== PRISTINE_MTIME.getTime()) {
          const key = path.relative(dir, full).split(path.sep).join('/');
          await upload(full, key, signal);
          utimesSync(full, PRISTINE_MTIME, PRISTINE_MTIME);
          pushed.push(key);
        }
      }
    };
    await walk(dir);
    return pushed;
  }

  return {
    dir,
    pushChanges,
    materialize: async (value, signal) => (await materializeValue(value, signal)) as typeof value,
    async publish(value, prefix, signal) {
      let counter = 0;
      // Local folders already published in this call, and their keys: their contents need no upload.
      const published: { folder: string; key: string }[] = [];
      // A file named by several objects is uploaded once.
      const uploaded = new Map<string, string>();
      const keyOfMirrored = (file: string) => {
        const real = existsSync(file) ? realpathSync(file) : file;
        return real.startsWith(`${realDir}/`) ? real.slice(realDir.length + 1) : undefined;
      };
      const keyInPublished = (file: string) => {
        const hit = published.find((p) => file.startsWith(`${p.folder}/`));
        return hit && `${hit.key}/${file.slice(hit.folder.length + 1)}`;
      };

      async function visit(v: unknown): Promise<unknown> {
        if (Array.isArray(v)) {
          const out = [];
          for (const x of v) out.push(await visit(x));
          return out;
        }
        if (isFsObject(v)) {
          const out: FsObject = { ...v };
          const local = localPath(v);
          if (local !== undefined) {
            let key = keyOfMirrored(local) ?? keyInPublished(local) ?? uploaded.get(local);
            if (key === undefined) {
              const basename = typeof v.basename === 'string' && v.basename ? v.basename : path.basename(local);
              key = `${prefix}/${counter++}/${basename}`;
              uploaded.set(local, key);
              if (v.class === 'File') await upload(local, key, signal);
              else {
                await uploadTree(local, key, signal);
                published.push({ folder: local, key });
              }
            }
            out.location = objectLocation(key);
            for (const field of PATH_FIELDS) delete out[field];
          }
          if (Array.isArray(v.secondaryFiles)) out.secondaryFiles = await visit(v.secondaryFiles);
          if (Array.isArray(v.listing)) out.listing = await visit(v.listing);
          return out;
        }
        if (v !== null && typeof v === 'object') {
          const out: Record<string, unknown> = {};
          for (const [k, x] of Object.entries(v)) out[k] = await visit(x);
          return out;
        }
        return v;
      }
      return (await visit(value)) as typeof value;
    },
  };
}
